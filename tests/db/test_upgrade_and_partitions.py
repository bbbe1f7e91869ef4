"""Schema versions and partitions: 0.1.0 installs, takes data, and `ALTER EXTENSION mps_ext
UPDATE` (through every released version) brings it to a schema identical to a fresh install, with the data and
the books intact; each released version upgrades to the same schema; transactions are partitioned by month
and still found through indexes."""

import uuid
from decimal import Decimal

import psycopg
import pytest

from conftest import Shop, login_member
from test_money import balance_points
from mps import Api, admin_connect, drop_database, recreate_database

OLD, NEW = "0.1.0", "0.6.0"
# every released version since OLD: each upgrades to the same schema as a fresh install
RELEASED = ["0.2.0", "0.3.0", "0.4.0", "0.5.0"]

# Data written the way 0.1.0 wrote it (its RPCs need its own library, so plain SQL here):
# a member with a standard card, a recharge with an idempotency key, a payment with points
# and a partial refund, spread over two months.
OLD_DATA = """
insert into member_profiles (id, name, phone) values ('11111111-1111-1111-1111-111111111111', 'Old Member', '0900');
insert into member_cards (id, card_no, card_type, owner_member_id, balance, points, level, discount)
values ('22222222-2222-2222-2222-222222222222', 'STD00000001', 'standard', '11111111-1111-1111-1111-111111111111',
        70.00, 20, 0, 1.000);
insert into card_bindings (card_id, member_id, role)
values ('22222222-2222-2222-2222-222222222222', '11111111-1111-1111-1111-111111111111', 'owner');
insert into merchants (id, code, name) values ('33333333-3333-3333-3333-333333333333', 'OLD-SHOP', 'Old Shop');
insert into transactions (id, tx_no, tx_type, card_id, merchant_id, raw_amount, final_amount, points_earned, status,
                          reason, payment_method, idempotency_key, created_at)
values ('44444444-4444-4444-4444-444444444441', 'RCG0000000001', 'recharge', '22222222-2222-2222-2222-222222222222',
        null, 100, 100, 0, 'completed', 'recharge', 'cash', 'old-recharge-key', now() - interval '40 days'),
       ('44444444-4444-4444-4444-444444444442', 'PAY0000000002', 'payment', '22222222-2222-2222-2222-222222222222',
        '33333333-3333-3333-3333-333333333333', 40, 40, 40, 'completed', null, 'balance', 'old-pay-key', now());
insert into transactions (id, tx_no, tx_type, card_id, merchant_id, raw_amount, final_amount, points_earned, status,
                          reason, payment_method, original_tx_id, created_at)
values ('44444444-4444-4444-4444-444444444443', 'REF0000000003', 'refund', '22222222-2222-2222-2222-222222222222',
        '33333333-3333-3333-3333-333333333333', 10, 10, -20, 'completed', 'PAY0000000002', 'balance',
        '44444444-4444-4444-4444-444444444442', now());
insert into point_ledger (card_id, tx_id, change, balance_before, balance_after, reason)
values ('22222222-2222-2222-2222-222222222222', '44444444-4444-4444-4444-444444444442', 40, 0, 40, 'payment_earn'),
       ('22222222-2222-2222-2222-222222222222', '44444444-4444-4444-4444-444444444443', -20, 40, 20, 'refund_reverse');
update member_cards set issued_balance = 0 where id = '22222222-2222-2222-2222-222222222222';
"""

SCHEMA = """
select 'column' as kind, c.table_schema || '.' || c.table_name || '.' || c.column_name || ' ' || c.data_type
       || ' ' || c.is_nullable || ' ' || coalesce(c.column_default, '') as item
  from information_schema.columns c where c.table_schema in ('public', 'audit', 'mps_internal')
   and c.table_name not like 'transactions_p%'
union all
select 'function', p.oid::regprocedure::text || ' ' || pg_get_function_result(p.oid) || ' ' || p.prosecdef
       || ' ' || coalesce(array_to_string(p.proconfig, ','), '') || ' ' || p.provolatile::text
  from pg_proc p where p.pronamespace in ('public'::regnamespace, 'mps_internal'::regnamespace, 'mps_auth'::regnamespace)
union all
select 'index', indexdef from pg_indexes where schemaname in ('public', 'audit')
union all
select 'constraint', conrelid::regclass::text || ' ' || pg_get_constraintdef(oid)
  from pg_constraint where connamespace in ('public'::regnamespace, 'audit'::regnamespace)
union all
select 'policy', tablename || ' ' || policyname || ' ' || qual from pg_policies
union all
select 'grant', grantee || ' ' || table_name || ' ' || privilege_type from information_schema.role_table_grants
 where table_schema = 'public' and grantee in ('anon', 'authenticated', 'service_role')
union all
select 'dumped', unnest(extconfig)::regclass::text from pg_extension where extname = 'mps_ext'
union all
select 'member', objid::regclass::text from pg_depend
 where refobjid = (select oid from pg_extension where extname = 'mps_ext') and classid = 'pg_class'::regclass
   and deptype = 'e'
union all
select 'trigger', tgrelid::regclass::text || ' ' || tgname from pg_trigger where not tgisinternal and tgparentid = 0
union all
select 'execute', p.oid::regprocedure::text || ' ' || r.rolname
  from pg_proc p, pg_roles r
 where p.pronamespace = 'public'::regnamespace and r.rolname in ('anon', 'authenticated', 'service_role', 'mps_admin')
   and has_function_privilege(r.oid, p.oid, 'EXECUTE')
order by 1, 2
"""


def test_upgrade_from_0_1_0_keeps_data_and_matches_a_fresh_install():
    try:
        recreate_database("mps_upgrade", OLD)
        recreate_database("mps_fresh")
        with admin_connect("mps_upgrade") as conn:
            conn.autocommit = True
            assert conn.execute("select extversion from pg_extension where extname = 'mps_ext'").fetchone() == \
                {"extversion": OLD}
            conn.execute(OLD_DATA)
            conn.execute("alter extension mps_ext update")
            assert conn.execute("select extversion from pg_extension where extname = 'mps_ext'").fetchone() == \
                {"extversion": NEW}
            assert conn.execute("select relkind from pg_class where oid = 'public.transactions'::regclass") \
                .fetchone() == {"relkind": "p"}
            rows = conn.execute("select tx_no, final_amount, points_earned from transactions order by tx_no").fetchall()
            assert [(r["tx_no"], r["final_amount"], r["points_earned"]) for r in rows] == [
                ("PAY0000000002", Decimal("40.00"), 40), ("RCG0000000001", Decimal("100.00"), 0),
                ("REF0000000003", Decimal("10.00"), -20)]
            assert conn.execute("select count(*) as n from tx_registry").fetchone()["n"] == 3
            assert conn.execute("select * from verify_ledger()").fetchall() == []
            upgraded = [r["item"] for r in conn.execute(SCHEMA).fetchall()]
        with admin_connect("mps_fresh") as conn:
            installed = [r["item"] for r in conn.execute(SCHEMA).fetchall()]
        assert sorted(set(upgraded) ^ set(installed)) == []

        # the upgraded database works. A key used before the upgrade is known as used (0.1.0
        # kept no request fingerprint, so it cannot be replayed): never a second recharge.
        api = Api("mps_upgrade")
        try:
            svc = api.as_service()
            card = uuid.UUID("22222222-2222-2222-2222-222222222222")
            with pytest.raises(psycopg.Error) as e:
                svc.rows("user_recharge_card", p_card_id=card, p_amount=Decimal("100"), p_payment_method="cash",
                         p_idempotency_key="old-recharge-key")
            assert e.value.diag.message_primary == "IDEMPOTENCY_KEY_REUSED"
            qr = svc.rows("rotate_card_qr", p_card_id=card)[0]["qr_plain"]
            paid = svc.rows("merchant_charge_by_qr", p_merchant_code="OLD-SHOP", p_qr_plain=qr, p_raw_amount=Decimal("5"),
                            p_idempotency_key="new-key")[0]
            assert paid["final_amount"] == Decimal("5.00")
            refund = svc.rows("merchant_refund_tx", p_merchant_code="OLD-SHOP", p_original_tx_no="PAY0000000002",
                              p_refund_amount=Decimal("30"))[0]
            assert refund["refunded_amount"] == Decimal("30.00")
            assert svc.rows("get_member_cards", p_member_id=uuid.UUID("11111111-1111-1111-1111-111111111111"))[0][
                "balance"] == Decimal("95.00")  # 70 − 5 + 30
        finally:
            api.close()
        with admin_connect("mps_upgrade") as conn:
            assert conn.execute("select * from verify_ledger()").fetchall() == []
    finally:
        drop_database("mps_upgrade")
        drop_database("mps_fresh")


@pytest.mark.parametrize("previous", RELEASED)
def test_upgrade_from_a_released_version_matches_a_fresh_install(previous):
    try:
        recreate_database("mps_upgrade", previous)
        recreate_database("mps_fresh")
        with admin_connect("mps_upgrade") as conn:
            conn.autocommit = True
            conn.execute("alter extension mps_ext update")
            assert conn.execute("select extversion from pg_extension where extname = 'mps_ext'").fetchone() == \
                {"extversion": NEW}
            upgraded = [r["item"] for r in conn.execute(SCHEMA).fetchall()]
        with admin_connect("mps_fresh") as conn:
            installed = [r["item"] for r in conn.execute(SCHEMA).fetchall()]
        assert sorted(set(upgraded) ^ set(installed)) == []
    finally:
        drop_database("mps_upgrade")
        drop_database("mps_fresh")


def test_transactions_are_partitioned_by_month_and_indexed(api, admin_sql, member, merchant):
    partitions = admin_sql.execute(
        "select c.relnamespace::regnamespace::text as schema, c.relname, pg_get_expr(c.relpartbound, c.oid) as bound"
        "  from pg_inherits i join pg_class c on c.oid = i.inhrelid"
        " where i.inhparent = 'public.transactions'::regclass order by c.relname").fetchall()
    names = [p["relname"] for p in partitions]
    assert "transactions_default" in names and len(names) >= 5  # this month, 3 ahead, default
    assert all(p["schema"] == "mps_internal" for p in partitions)
    assert api.as_service().scalar("create_transaction_partitions", p_months_ahead=5) == 2
    assert api.as_service().scalar("create_transaction_partitions", p_months_ahead=5) == 0

    shop = Shop(api, member, merchant)
    paid = shop.charge(Decimal("12"))
    # tx_no stays unique across partitions: through the registry
    with pytest.raises(Exception):
        admin_sql.execute("insert into tx_registry (tx_no, tx_id) values (%s, gen_random_uuid())", (paid["tx_no"],))
    # rows for a month without a partition wait in the default one and move when it is made
    admin_sql.execute("update transactions set created_at = now() + interval '9 months' where id = %s",
                      (paid["tx_id"],))
    where = admin_sql.execute("select tableoid::regclass::text as p from transactions where id = %s",
                              (paid["tx_id"],)).fetchone()["p"]
    assert where == "mps_internal.transactions_default"
    api.as_service().scalar("create_transaction_partitions", p_months_ahead=10)
    where = admin_sql.execute("select tableoid::regclass::text as p from transactions where id = %s",
                              (paid["tx_id"],)).fetchone()["p"]
    assert where.startswith("mps_internal.transactions_p")
    admin_sql.execute("update transactions set created_at = now() where id = %s", (paid["tx_id"],))

    # plans on realistic volumes: 20,000 movements over 200 cards and 50 merchants in this
    # month's partition, rolled back afterwards
    with admin_connect(admin_sql.info.dbname) as conn:
        conn.execute("insert into member_cards (card_no, card_type) select 'PLAN' || g, 'standard'"
                     " from generate_series(1, 200) g")
        conn.execute("insert into merchants (code, name) select 'PLANM' || g, 'Plan' from generate_series(1, 50) g")
        conn.execute("insert into transactions (tx_no, tx_type, card_id, merchant_id, raw_amount, final_amount,"
                     "                          status, created_at)"
                     " select 'PLANTX' || g, 'payment', c.id, m.id, 1, 1, 'completed', date_trunc('month', now())"
                     "   from generate_series(1, 20000) g"
                     "   join (select id, row_number() over () - 1 as n from member_cards where card_no like 'PLAN%') c"
                     "     on c.n = g % 200"
                     "   join (select id, row_number() over () - 1 as n from merchants where code like 'PLANM%') m"
                     "     on m.n = g % 50")
        conn.execute("analyze transactions")
        card = conn.execute("select id from member_cards where card_no = 'PLAN7'").fetchone()["id"]
        shop_id = conn.execute("select id from merchants where code = 'PLANM7'").fetchone()["id"]
        this_month = conn.execute("select 'transactions_p' || to_char(now() at time zone 'UTC', 'YYYYMM') as p") \
            .fetchone()["p"]
        for query, arg, index in [
            ("select id from transactions where card_id = %s order by created_at desc limit 20", card,
             "card_id_created_at_idx"),
            ("select id from transactions where merchant_id = %s and created_at >= now() - interval '40 days'",
             shop_id, "merchant_id_created_at_idx"),
        ]:
            lines = [r["QUERY PLAN"] for r in conn.execute("explain " + query, (arg,)).fetchall()]
            plan = "\n".join(lines)
            # the partition holding the rows is read through its own index on (card_id, created_at) /
            # (merchant_id, created_at) (empty partitions may be scanned sequentially: they are empty)
            scans = [l for l in lines if f"on {this_month} " in l]
            assert scans and not any("Seq Scan" in l for l in scans) and f"{this_month}_{index}" in plan, plan
        # a member's history (get_member_transactions' query: the page and the total count) can
        # be read from the card index alone, with no heap page per movement. Where the index
        # covers the query the planner makes no plain index scan of it, only an index-only one;
        # whether it prefers a bitmap scan instead depends on how much of the table is vacuumed
        # (none of it here, in this transaction), so bitmap and sequential scans are off.
        conn.execute("set local enable_bitmapscan = off")
        conn.execute("set local enable_seqscan = off")
        history = ("explain select t.id, t.tx_no, t.tx_type, t.card_id, t.merchant_id, t.final_amount, t.status,"
                   "               t.created_at, count(*) over ()"
                   "  from member_cards c join transactions t on t.card_id = c.id"
                   " where c.id = %s order by t.created_at desc, t.id limit 20")
        lines = [r["QUERY PLAN"] for r in conn.execute(history, (card,)).fetchall()]
        assert any(f"Index Only Scan using {this_month}_card_id_created_at_idx" in l for l in lines), "\n".join(lines)
        conn.rollback()


def test_follow_ups_lock_only_the_month_of_their_movement(api, admin_sql, member, merchant):
    """Issue 14: a refund finds its payment's month through tx_registry and locks that partition
    alone, also once the connection's plans are generic (after five runs of a statement); so do
    a recharge's confirmation and cancellation and a look-up by number. A movement back-dated
    by hand takes its registry row along; one whose registry row names another month is still
    found, and verify_ledger() reports that row."""
    admin_sql.execute("select mps_internal.ensure_transaction_partitions(3, now() - interval '3 months')")
    shop, svc = Shop(api, member, merchant), api.as_service()
    paid = shop.charge(Decimal("50"))

    def back_date(tx_id, months):
        moved = admin_sql.execute(
            "update transactions set created_at = created_at - make_interval(months => %s) where id = %s"
            " returning created_at", (months, tx_id)).fetchone()["created_at"]
        row = admin_sql.execute("select t.tableoid::regclass::text as part, r.created_at as registered"
                                "  from transactions t join tx_registry r on r.tx_id = t.id where t.id = %s",
                                (tx_id,)).fetchone()
        assert row["registered"] == moved
        return row["part"]

    paid_in = back_date(paid["tx_id"], 1)
    this_month = admin_sql.execute("select 'mps_internal.transactions_p'"
                                   " || to_char(now() at time zone 'UTC', 'YYYYMM') as p").fetchone()["p"]
    assert paid_in.startswith("mps_internal.transactions_p") and paid_in != this_month
    pkeys = {r["name"] for r in admin_sql.execute(
        "select i.indexrelid::regclass::text as name from pg_inherits h join pg_index i on i.indrelid = h.inhrelid"
        " where h.inhparent = 'public.transactions'::regclass and i.indisprimary").fetchall()}
    assert len(pkeys) >= 7  # 3 months back, this one, 3 ahead, the default
    for _ in range(7):  # past the plan cache's five custom plans
        shop.refund(paid["tx_no"], Decimal("0.01"))
    rest = paid["final_amount"] - Decimal("0.07")
    with api.conn.transaction():  # the last refund, its locks read before it commits
        refund = shop.refund(paid["tx_no"], rest)
        locked = {r["name"] for r in api.conn.execute(
            "select l.relation::regclass::text as name from pg_locks l"
            " where l.pid = pg_backend_pid() and l.locktype = 'relation'").fetchall()}
    assert refund["refunded_amount"] == rest
    # the payment is read and updated by its key in its month alone (the refund's own insert
    # locks the table of this month, none of its indexes)
    assert locked & pkeys == {paid_in + "_pkey"}, " ".join(sorted(locked))
    assert admin_sql.execute("select status::text from transactions where id = %s",
                             (paid["tx_id"],)).fetchone()["status"] == "refunded"
    assert balance_points(api, shop.card)[:2] == (Decimal("1000.00"), 0)
    assert svc.rows("get_transaction_detail", p_tx_no=paid["tx_no"])[0]["status"] == "refunded"

    # pending recharges of two months ago: one confirmed, one cancelled
    session = login_member(api, member)
    asked = [api.as_anon().rows("user_recharge_card", p_card_id=shop.card, p_amount=Decimal(amount),
                                p_payment_method="wechat", p_session_id=session)[0] for amount in ("30", "40")]
    for recharge in asked:
        assert back_date(recharge["tx_id"], 2) != paid_in
    assert svc.rows("confirm_recharge", p_tx_no=asked[0]["tx_no"])[0]["amount"] == Decimal("30.00")
    assert svc.scalar("cancel_recharge", p_tx_no=asked[1]["tx_no"]) is True
    assert [admin_sql.execute("select status::text from transactions where id = %s", (r["tx_id"],))
            .fetchone()["status"] for r in asked] == ["completed", "cancelled"]
    assert balance_points(api, shop.card)[:2] == (Decimal("1030.00"), 0)

    # a registry stamp out of step with its movement (naming another month): the movement is
    # still found, through the partitioned table, and verify_ledger() reports the registry row
    stamp = admin_sql.execute("select created_at from tx_registry where tx_id = %s", (paid["tx_id"],)).fetchone()
    admin_sql.execute("update tx_registry set created_at = now() where tx_id = %s", (paid["tx_id"],))
    try:
        assert svc.rows("get_transaction_detail", p_tx_no=paid["tx_no"])[0]["status"] == "refunded"
        found = [(r["check_name"], r["card_no"]) for r in admin_sql.execute("select * from verify_ledger()")]
        assert found == [("registry", paid["tx_no"])]
    finally:
        admin_sql.execute("update tx_registry set created_at = %s where tx_id = %s",
                          (stamp["created_at"], paid["tx_id"]))


@pytest.mark.parametrize("old", [OLD, *RELEASED])
def test_an_older_schema_refuses_every_rpc_until_updated(old):
    """Issue 12.5: a new package installed before ALTER EXTENSION UPDATE. The database keeps
    its old functions and tables; every RPC refuses with one error naming the fix, never a
    raw SQL error, and works again once the extension is updated."""
    name = "mps_stale"
    try:
        recreate_database(name, old)
        api = Api(name)
        try:
            svc, anon = api.as_service(), api.as_anon()
            for call in (
                lambda: anon.scalar("member_login", p_identifier="0900000000", p_password="any-password"),
                lambda: svc.scalar("create_member_profile", p_name="Stale", p_phone="0911000000", p_email=None),
                lambda: svc.rows("get_member_cards", p_member_id=uuid.uuid4()),
                lambda: svc.rows("merchant_charge_by_qr", p_merchant_code="SHOP", p_qr_plain="q",
                                 p_raw_amount=Decimal("1")),
                lambda: svc.rows("user_recharge_card", p_card_id=uuid.uuid4(), p_amount=Decimal("1")),
                lambda: svc.rows("get_transaction_detail", p_tx_no="PAY0000000001"),
            ):
                with pytest.raises(psycopg.Error) as e:
                    call()
                d = e.value.diag
                assert (e.value.sqlstate, d.message_primary) == ("P0001", "EXTENSION_UPDATE_REQUIRED")
                assert d.message_detail == f"this database has mps_ext {old}, the server's library is {NEW}"
                assert "ALTER EXTENSION mps_ext UPDATE" in d.message_hint
        finally:
            api.close()
        with admin_connect(name) as conn:
            conn.autocommit = True
            conn.execute("alter extension mps_ext update")
        api = Api(name)
        try:
            assert api.as_service().scalar("create_member_profile", p_name="Fresh", p_phone="0911000000",
                                           p_email=None) is not None
        finally:
            api.close()
    finally:
        drop_database(name)
