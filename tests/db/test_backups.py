"""Issue 12.1: logical backups. A database with a row in every table (movements in a partition
made at set-up, one made later and the default partition) goes through `pg_dump -Fc` +
`pg_restore --exit-on-error` and a plain dump + `psql -v ON_ERROR_STOP=1` into fresh
databases; both come back with the same rows in every table, the same sequence values,
clean books, and numbers that continue the old ones."""

import os
import subprocess
import uuid
from decimal import Decimal

import psycopg
import pytest

from clusters import PGBIN
from conftest import Shop, login_member, make_member
from mps import Api, admin_connect, drop_database, recreate_database

SOURCE = "mps_backup"

# Every table and sequence of the extension holding data, the partitions included: what pg_dump
# must carry. A table added to the extension without being registered fails the first test.
DATA_RELATIONS = """
select c.oid::regclass::text as name, c.relkind::text as kind
  from pg_class c
 where c.relnamespace in ('public'::regnamespace, 'audit'::regnamespace, 'mps_internal'::regnamespace)
   and c.relkind in ('r', 'S')
 order by 1
"""


def table_digests(conn) -> dict[str, str]:
    """md5 of each table's rows in a fixed order, and each sequence's state."""
    digests = {}
    for rel in conn.execute(DATA_RELATIONS).fetchall():
        if rel["kind"] == "S":
            row = conn.execute(f"select last_value, is_called from {rel['name']}").fetchone()
            digests[rel["name"]] = f"{row['last_value']} {row['is_called']}"
        else:
            digests[rel["name"]] = conn.execute(
                f"select count(*) || ' ' || md5(coalesce(string_agg(t::text, E'\\n' order by t::text), ''))"
                f" as d from {rel['name']} t").fetchone()["d"]
    return digests


def run(*cmd: str) -> None:
    env = {**os.environ, "PGUSER": "postgres"}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"{cmd[0]} failed:\n{done.stderr}"
    # pg_restore --exit-on-error and psql ON_ERROR_STOP stop at the first error; a warning
    # or notice about a duplicate would be a sign of a restore that half-worked
    assert "ERROR" not in done.stderr, done.stderr


@pytest.fixture(scope="module")
def filled():
    """A database with rows in every table, and the digests of its tables."""
    recreate_database(SOURCE)
    api = Api(SOURCE)
    try:
        svc = api.as_service()
        suffix = uuid.uuid4().hex[:10]
        member = make_member(api, suffix)
        employee = make_member(api, suffix[::-1])
        code = f"BK{suffix}"
        merchant_id = svc.scalar("create_merchant", p_code=code, p_name="Backup Shop", p_contact="0912",
                                 p_password="merchant-pass-1")
        shop = Shop(api, member, {"id": merchant_id, "code": code, "password": "merchant-pass-1"})
        corporate = svc.scalar("create_corporate_card", p_owner_member_id=member["id"], p_name="Team",
                               p_initial_balance=Decimal("300.00"))
        svc.scalar("bind_member_to_card", p_card_id=corporate, p_member_id=employee["id"])
        svc.scalar("set_card_binding_password", p_card_id=corporate, p_password="binding-pass-1")
        login_member(api, member)  # a live session

        paid = shop.charge(Decimal("120.50"), p_idempotency_key="backup-key-1", p_external_order_id="ORD-1")
        shop.refund(paid["tx_no"], Decimal("20.50"))
        later_qr = shop.qr()
        later = shop.charge(Decimal("9.99"), qr=later_qr, p_idempotency_key="backup-key-2")
        future = shop.charge(Decimal("5.00"))
        # a hold captured in part and one still held (card_holds)
        hold_qr = shop.qr()
        captured = svc.rows("merchant_authorize_by_qr", p_merchant_code=code, p_qr_plain=hold_qr,
                            p_raw_amount=Decimal("30.00"), p_idempotency_key="backup-hold-1")[0]
        svc.rows("merchant_capture_hold", p_merchant_code=code, p_hold_no=captured["hold_no"],
                 p_raw_amount=Decimal("25.00"))
        held = svc.rows("merchant_authorize_by_qr", p_merchant_code=code, p_qr_plain=shop.qr(),
                        p_raw_amount=Decimal("7.00"), p_ttl_seconds=7 * 86400)[0]
        period_end = svc.execute("select clock_timestamp() as t")[0]["t"]
        svc.rows("generate_settlement", p_merchant_id=merchant_id, p_mode="realtime",
                 p_period_start=period_end.replace(year=period_end.year - 1), p_period_end=period_end)
        with admin_connect(SOURCE) as conn:
            # one movement in a month whose partition is made after set-up, one beyond every
            # partition (it stays in the default partition)
            conn.execute("update transactions set created_at = now() + interval '7 months' where id = %s",
                         (later["tx_id"],))
            conn.execute("select mps_internal.ensure_transaction_partitions(8)")
            conn.execute("update transactions set created_at = now() + interval '3 years' where id = %s",
                         (future["tx_id"],))
            # the operator's own records, which no RPC writes
            conn.execute("insert into member_external_identities (member_id, provider, external_id)"
                         " values (%s, 'line', 'U-backup')", (member["id"],))
            conn.execute("insert into admin_users (auth_user_id, name) values (gen_random_uuid(), 'Backup Admin')")
            conn.execute("insert into merchant_users (merchant_id, auth_user_id) values (%s, gen_random_uuid())",
                         (merchant_id,))
            # a contract table no RPC of ours writes (rows migrated from the original)
            conn.execute("insert into merchant_order_registry (merchant_id, external_order_id, tx_id)"
                         " values (%s, 'ORD-MIGRATED', gen_random_uuid())", (merchant_id,))
            # the report of an import from the original (migrate/from_legacy.sql writes these)
            conn.execute("insert into mps_internal.legacy_import (rows) values ('{\"transactions\": 1}')")
            conn.execute("insert into mps_internal.legacy_anomalies (kind, table_name, row_key, detail, booked)"
                         " values ('number_malformed', 'member_cards', 'OLD-1', '{}', 'imported as is')")
            # levels: one default changed, one added, two left as installed
            conn.execute("update membership_levels set discount = 0.940 where level = 1")
            conn.execute("insert into membership_levels (level, name, min_points, discount)"
                         " values (4, 'Black', 50000, 0.800)")
            conn.commit()
            where = conn.execute("select tableoid::regclass::text as p from transactions where id = %s",
                                 (future["tx_id"],)).fetchone()["p"]
            assert where == "mps_internal.transactions_default"
            digests = table_digests(conn)
            last_tx = conn.execute("select max(substr(tx_no, 4)::bigint) as n from transactions").fetchone()["n"]
        yield {"digests": digests, "code": code, "last_tx": last_tx, "card": shop.card,
               "later": {"qr": later_qr, "tx_no": later["tx_no"]},
               "holds": {"qr": hold_qr, "captured": captured["hold_no"], "held": held["hold_no"]}}
    finally:
        api.close()
        drop_database(SOURCE)


def test_every_table_holding_data_is_dumped(filled):
    with admin_connect(SOURCE) as conn:
        dumped = {r["t"] for r in conn.execute(
            "select unnest(extconfig)::regclass::text as t from pg_extension where extname = 'mps_ext'").fetchall()}
        members = {r["t"] for r in conn.execute(
            "select objid::regclass::text as t from pg_depend where refobjid ="
            " (select oid from pg_extension where extname = 'mps_ext') and classid = 'pg_class'::regclass"
            " and deptype = 'e'").fetchall()}
        partitions = {r["t"] for r in conn.execute(
            "select inhrelid::regclass::text as t from pg_inherits"
            " where inhparent = 'public.transactions'::regclass").fetchall()}
    data = set(filled["digests"])
    # every table and sequence of the extension is registered, except the partitioned parent
    # (its rows are its partitions'); the monthly partitions are ordinary tables, dumped whole
    assert sorted(data - dumped) == sorted(partitions - {"mps_internal.transactions_default"})
    assert dumped <= members and not (partitions - {"mps_internal.transactions_default"}) & members
    # and every one of them holds something (the partitions of months without movements
    # aside), so the comparisons below compare rows
    empty = {name for name, d in filled["digests"].items() if d.startswith("0 ")}
    assert empty <= partitions and len(partitions - empty) == 3  # this month, 7 months on, default


def test_create_extension_makes_only_the_default_partition():
    name = "mps_bare"
    try:
        recreate_database(name, extension=False)
        with admin_connect(name) as conn:
            conn.execute("create extension mps_ext")
            partitions = [r["t"] for r in conn.execute(
                "select inhrelid::regclass::text as t from pg_inherits"
                " where inhparent = 'public.transactions'::regclass").fetchall()]
            assert partitions == ["mps_internal.transactions_default"]
            assert conn.execute("select create_transaction_partitions() as n").fetchone()["n"] == 4
    finally:
        drop_database(name)


@pytest.mark.parametrize("form", ["custom", "plain"])
def test_a_dump_restores_every_row(filled, form, tmp_path):
    target = f"mps_restored_{form}"
    dump = str(tmp_path / f"mps.{form}")
    try:
        recreate_database(target, extension=False)
        if form == "custom":
            run(f"{PGBIN}/pg_dump", "-Fc", "-d", SOURCE, "-f", dump)
            run(f"{PGBIN}/pg_restore", "--exit-on-error", "-d", target, dump)
        else:
            run(f"{PGBIN}/pg_dump", "-d", SOURCE, "-f", dump)
            run(f"{PGBIN}/psql", "-qX", "-v", "ON_ERROR_STOP=1", "-d", target, "-f", dump)
        with admin_connect(target) as conn:
            restored = table_digests(conn)
            assert conn.execute("select * from verify_ledger()").fetchall() == []
            levels = conn.execute("select level, discount::text from membership_levels order by level").fetchall()
        assert restored == filled["digests"]
        assert [(r["level"], r["discount"]) for r in levels] == [
            (0, "1.000"), (1, "0.940"), (2, "0.900"), (3, "0.850"), (4, "0.800")]

        # the restored system goes on where the old one stopped: new numbers follow the old
        api = Api(target)
        try:
            svc = api.as_service()
            qr = svc.rows("rotate_card_qr", p_card_id=filled["card"])[0]["qr_plain"]
            paid = svc.rows("merchant_charge_by_qr", p_merchant_code=filled["code"], p_qr_plain=qr,
                            p_raw_amount=Decimal("1.00"))[0]
            assert paid["tx_no"] == f"PAY{filled['last_tx'] + 1:010d}"
            # a charge retried with its key from before the backup answers the old movement
            retried = svc.rows("merchant_charge_by_qr", p_merchant_code=filled["code"],
                               p_qr_plain=filled["later"]["qr"], p_raw_amount=Decimal("9.99"),
                               p_idempotency_key="backup-key-2")[0]
            assert retried["tx_no"] == filled["later"]["tx_no"]
            # the hold still holds and can be captured; an authorization retried with its key
            # answers the old hold
            holds = filled["holds"]
            assert svc.rows("get_card_balance", p_card_id=filled["card"])[0]["held"] == Decimal("7.00")
            assert svc.rows("merchant_capture_hold", p_merchant_code=filled["code"],
                            p_hold_no=holds["held"])[0]["final_amount"] == Decimal("7.00")
            again = svc.rows("merchant_authorize_by_qr", p_merchant_code=filled["code"], p_qr_plain=holds["qr"],
                             p_raw_amount=Decimal("30.00"), p_idempotency_key="backup-hold-1")[0]
            assert again["hold_no"] == holds["captured"]
            fresh_hold = svc.rows("merchant_authorize_by_qr", p_merchant_code=filled["code"],
                                  p_qr_plain=svc.rows("rotate_card_qr", p_card_id=filled["card"])[0]["qr_plain"],
                                  p_raw_amount=Decimal("1.00"))[0]
            assert fresh_hold["hold_no"] > holds["held"] > holds["captured"]
            members = svc.execute("select member_no from member_profiles order by member_no")
            fresh = make_member(api, uuid.uuid4().hex[:10])
            new_no = svc.execute("select member_no from member_profiles where id = %s", (fresh["id"],))[0]
            assert new_no["member_no"] > members[-1]["member_no"]
        finally:
            api.close()
        with admin_connect(target) as conn:
            assert conn.execute("select * from verify_ledger()").fetchall() == []
    finally:
        drop_database(target)


def test_a_level_replaces_only_an_unchanged_default(api, admin_sql):
    """The rule that lets a restore put the dumped levels back (sql/13_seed.sql)."""
    with admin_connect(admin_sql.info.dbname) as conn:
        conn.execute("insert into membership_levels (level, name, min_points, max_points, discount)"
                     " values (3, 'Diamond', 12000, null, 0.800)")
        assert conn.execute("select name, min_points from membership_levels where level = 3").fetchall() == [
            {"name": "Diamond", "min_points": 12000}]
        conn.execute("update membership_levels set discount = 0.930 where level = 2")
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("insert into membership_levels (level, name, min_points, max_points, discount)"
                         " values (2, 'Gold', 5000, 9999, 0.900)")
        conn.rollback()


def test_an_upgraded_database_restores_every_row(tmp_path):
    """Partitions an earlier version made inside CREATE EXTENSION / ALTER EXTENSION UPDATE
    leave the extension on the update to 0.4.0, so its dumps restore as well."""
    from test_upgrade_and_partitions import OLD, OLD_DATA

    source, target, dump = "mps_backup_upgraded", "mps_restored_upgraded", str(tmp_path / "upgraded.dump")
    try:
        recreate_database(source, OLD)
        recreate_database(target, extension=False)
        with admin_connect(source) as conn:
            conn.autocommit = True
            conn.execute(OLD_DATA)
            conn.execute("alter extension mps_ext update")
            assert len(conn.execute("select from pg_inherits where inhparent = 'transactions'::regclass")
                       .fetchall()) >= 5  # the month 40 days ago, this month, 3 ahead, default
            before = table_digests(conn)
        run(f"{PGBIN}/pg_dump", "-Fc", "-d", source, "-f", dump)
        run(f"{PGBIN}/pg_restore", "--exit-on-error", "-d", target, dump)
        with admin_connect(target) as conn:
            assert table_digests(conn) == before
            assert conn.execute("select count(*) as n from transactions").fetchone()["n"] == 3
            assert conn.execute("select * from verify_ledger()").fetchall() == []
    finally:
        drop_database(source)
        drop_database(target)
