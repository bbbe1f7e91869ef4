"""The import from the original MPS (migrate/from_legacy.sql through scripts/migrate_legacy.sh):
a database built with the original's own layout (tests/legacy/original_schema.sql) and filled
through its own functions (tests/legacy/original_functions.sql), anomalies included, goes
through the dry run (nothing changes) and the import (every row carried over, the books
balance, old passwords log in, numbering continues, old keys replay); a second run, a failing
run and a database without the original are refused and change nothing."""

import os
import re
import subprocess
import threading
import time
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from mps import Api, admin_connect, fails, recreate_database

ROOT = Path(__file__).resolve().parents[2]
LEGACY = ROOT / "tests" / "legacy"
SOURCE_DB = "mps_legacy_src"

# The original's tables, each with the columns mps_ext keeps (secrets move to mps_internal,
# token hashes of QR codes are not carried over) and an order for comparing them.
TABLES = {
    "membership_levels": "id, level, name, min_points, max_points, discount, is_active, created_at, updated_at",
    "member_profiles": "id, member_no, name, phone, email, binding_user_org, binding_org_id, role, status::text,"
                       " owner_info, created_at, updated_at",
    "member_external_identities": "id, member_id, provider, external_id, meta, created_at, updated_at",
    "merchants": "id, code, name, contact, status, created_at, updated_at",
    "admin_users": "id, auth_user_id, name, role, permissions, is_active, created_at, updated_at",
    "merchant_users": "id, merchant_id, auth_user_id, role, created_at",
    "member_cards": "id, card_no, card_type::text, owner_member_id, name, balance, points, level, discount,"
                    " corporate_discount, fixed_discount, status::text, expires_at, created_at, updated_at",
    "card_bindings": "id, card_id, member_id, role::text, status::text, created_at",
    "transactions": "id, tx_no, tx_type::text, card_id, merchant_id, raw_amount, discount_applied, final_amount,"
                    " points_earned, status::text, reason, payment_method::text, external_order_id,"
                    " idempotency_key, processed_by_user_id, tag, created_at, updated_at",
    "merchant_order_registry": "merchant_id, external_order_id, tx_id, created_at",
    "settlements": "id, merchant_id, mode::text, period_start, period_end, total_amount, total_tx_count,"
                   " status::text, payload, created_at, updated_at",
    "card_qr_history": "id, card_id, expires_at, issued_by, issued_at",
}
LEGACY_EVENT_LOG = "id, happened_at, actor_user_id, action, object_type, object_id, context"


def env():
    return dict(os.environ, PGUSER="postgres", PGHOST=os.environ.get("PGHOST", "/tmp"),
                PGPORT=os.environ.get("PGPORT", "5432"))


def psql_file(db: str, path: Path, *variables: str) -> None:
    args = [a for v in variables for a in ("-v", v)]
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", *args, "-f", str(path), "-d", db],
                   check=True, env=env(), capture_output=True, text=True)


def migrate(db: str, dry_run: bool = False) -> subprocess.CompletedProcess:
    args = ["--dry-run"] if dry_run else []
    return subprocess.run([str(ROOT / "scripts" / "migrate_legacy.sh"), *args, "-d", db],
                          env=env(), capture_output=True, text=True)


def build_legacy(db: str) -> None:
    """An empty database with the original's schema and functions."""
    recreate_database(db, extension=False)
    psql_file(db, LEGACY / "original_schema.sql")
    psql_file(db, LEGACY / "original_functions.sql")


def snapshot(db: str) -> dict:
    """Everything the import could touch: each legacy table's rows, and the catalog of the
    schemas involved (relations, functions, types, schemas, extensions)."""
    with admin_connect(db) as conn:
        shot = {}
        for schema, table in [("public", t) for t in [*TABLES, "tx_registry", "idempotency_registry",
                                                      "point_ledger", "app_sessions", "card_qr_state"]] + \
                             [("audit", "event_log")]:
            shot[f"{schema}.{table}"] = conn.execute(
                f"select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as h, count(*) as n"
                f"  from {schema}.{table} t").fetchone()
        shot["catalog"] = conn.execute(
            "select (select array_agg(nspname::text order by nspname) from pg_namespace) as schemas,"
            "       (select array_agg(extname::text order by extname) from pg_extension) as extensions,"
            "       (select array_agg(c.oid::regclass::text order by 1) from pg_class c"
            "         where c.relnamespace in ('public'::regnamespace, 'audit'::regnamespace)) as relations,"
            "       (select array_agg(p.oid::regprocedure::text order by 1) from pg_proc p"
            "         where p.pronamespace = 'public'::regnamespace) as functions,"
            "       (select array_agg(t.typname::text order by 1) from pg_type t"
            "         where t.typnamespace = 'public'::regnamespace) as types").fetchone()
        return shot


def scalar(conn, query, *params):
    return next(iter(conn.execute(query, params).fetchone().values()))


def concurrent_refunds(db: str, tx_no: str, amount: str) -> None:
    """Two refunds of one payment at once, as the original allowed: each reads what remains
    before the other commits (the original locks nothing but the card, after that)."""
    first = admin_connect(db)
    first.execute("select * from merchant_refund_tx('SHOP-A', %s, %s)", (tx_no, amount))
    done = threading.Event()

    def second():
        with admin_connect(db) as conn:
            conn.execute("select * from merchant_refund_tx('SHOP-A', %s, %s)", (tx_no, amount))
            conn.commit()
        done.set()

    worker = threading.Thread(target=second)
    worker.start()
    time.sleep(0.5)  # the second refund has read what remains and waits for the card
    first.commit()
    first.close()
    worker.join(30)
    assert done.is_set()


def fill(db: str) -> dict:
    """Members, merchants, cards and money moved through the original's own functions, and
    the anomalies the original let happen or that hands made."""
    with admin_connect(db) as conn:
        conn.autocommit = True

        def member(name, phone, email, password):
            member_id = scalar(conn, "select create_member_profile(%s, %s, %s, %s)", name, phone, email, password)
            card_id = scalar(conn, "select id from member_cards where owner_member_id = %s", member_id)
            return member_id, card_id

        def charge(card_id, amount, key=None, order=None, merchant="SHOP-A"):
            qr = conn.execute("select qr_plain from rotate_card_qr(%s)", (card_id,)).fetchone()["qr_plain"]
            return conn.execute("select * from merchant_charge_by_qr(%s, %s, %s, %s, '{}', %s)",
                                (merchant, qr, amount, key, order)).fetchone()

        def recharge(card_id, amount, key=None, order=None, method="cash"):
            return conn.execute("select * from user_recharge_card(%s, %s, %s, '{}', %s, %s)",
                                (card_id, amount, method, key, order)).fetchone()

        conn.execute("update membership_levels set discount = 0.930 where level = 1")  # the operator's own level
        conn.execute("select create_merchant('SHOP-A', 'Shop A', '02-1234', 'shop-a-pass')")
        conn.execute("select create_merchant('SHOP-B', 'Shop B', null, 'shop-b-pass')")
        alice, alice_card = member("Alice", "0912000001", "alice@example.com", "alice-pass-1")
        bob, bob_card = member("Bob", "0912-000-002", "Bob@Example.com", "bob-pass-1")
        bobby, bobby_card = member("Bobby", "0912000003", "bob@example.com", "bobby-pass-1")
        carol, carol_card = member("Carol", "ext:12345", None, "carol-pass-1")

        recharge(alice_card, "500.00", key="rk-alice-1")
        first = charge(alice_card, "120.50", key="pk-1", order="ord-1")
        conn.execute("select * from merchant_refund_tx('SHOP-A', %s, 20)", (first["tx_no"],))
        second = charge(alice_card, "79.99")
        conn.execute("select * from merchant_refund_tx('SHOP-A', %s, 79.99)", (second["tx_no"],))
        # the key of a call that failed on its reused order id stays behind, pointing nowhere
        assert charge(alice_card, "5.00", key="pk-orphan", order="ord-1")["tx_no"] == first["tx_no"]
        recharge(alice_card, "10.00", order="r-ord")
        recharge(alice_card, "10.00", order="r-ord")  # the original never deduplicated it
        conn.execute("select update_points_and_level(%s, 1500, 'promotion')", (alice_card,))

        recharge(bob_card, "100.00", method="wechat")
        raced = charge(bob_card, "100.00", merchant="SHOP-A")
        concurrent_refunds(db, raced["tx_no"], "60.00")

        conn.execute("select update_points_and_level(%s, 50, 'promotion')", (carol_card,))
        conn.execute("select update_points_and_level(%s, -999999, 'manual_adjust')", (carol_card,))

        corporate = scalar(conn, "select create_corporate_card(%s, 'Alice Co', 300.00, 0.800)", alice)
        conn.execute("select set_card_binding_password(%s, 'corp-pass-1')", (corporate,))
        conn.execute("select bind_member_to_card(%s, %s, 'member', 'corp-pass-1')", (corporate, bob))
        voucher = scalar(conn, "select create_voucher_card(%s, 'Gift', 50.00, now() + interval '1 year')", carol)
        conn.execute("select generate_settlement(id, 'realtime', now() - interval '1 day', now())"
                     "  from merchants where code = 'SHOP-A'")

        # by hand: a balance edited, a shared Supabase user, a password that is no bcrypt hash,
        # a renumbered card and a movement left processing
        conn.execute("update member_cards set balance = balance + 5.55 where id = %s", (bobby_card,))
        conn.execute("update member_profiles set auth_user_id = '99999999-0000-0000-0000-000000000001'"
                     " where id in (%s, %s)", (alice, bob))
        conn.execute("update merchants set password_hash = 'plain-text' where code = 'SHOP-B'")
        conn.execute("update member_cards set card_no = 'OLD-CARD-7' where id = %s", (carol_card,))
        stuck = scalar(conn, "select gen_tx_no('payment')")
        conn.execute("insert into transactions (tx_no, tx_type, card_id, merchant_id, raw_amount, final_amount,"
                     " status) select %s, 'payment', %s, id, 8.00, 8.00, 'processing' from merchants"
                     " where code = 'SHOP-B'", (stuck, carol_card))
        conn.execute("insert into tx_registry (tx_no, tx_id) select tx_no, id from transactions where tx_no = %s",
                     (stuck,))
        return {
            "alice": alice, "alice_card": alice_card, "bob": bob, "bob_card": bob_card, "bobby": bobby,
            "bobby_card": bobby_card, "carol": carol, "carol_card": carol_card, "corporate": corporate,
            "voucher": voucher, "first": first, "second": second, "raced": raced, "stuck": stuck,
        }


@pytest.fixture(scope="module")
def legacy(database):
    build_legacy(SOURCE_DB)
    facts = fill(SOURCE_DB)
    facts["before"] = snapshot(SOURCE_DB)
    with admin_connect(SOURCE_DB) as conn:
        facts["cards"] = {r["id"]: r for r in conn.execute("select id, card_no, balance, points from member_cards")}
        facts["max_tx"] = scalar(conn, "select max(substr(tx_no, 4)::bigint) from transactions")
        facts["max_member"] = scalar(conn, "select max(substr(member_no, 2)::bigint) from member_profiles")
        facts["max_card"] = scalar(conn, "select max(substr(card_no, 4)::bigint) from member_cards"
                                         " where card_no ~ '^[A-Z]{3}[0-9]+$'")
        facts["hashes"] = {r["id"]: r["password_hash"] for r in
                           conn.execute("select id, password_hash from member_profiles")}
    return facts


@pytest.fixture(scope="module")
def dry_run(legacy):
    run = migrate(SOURCE_DB, dry_run=True)
    assert run.returncode == 0, run.stderr
    legacy["after_dry_run"] = snapshot(SOURCE_DB)
    return run.stdout


@pytest.fixture(scope="module")
def imported(legacy, dry_run):
    run = migrate(SOURCE_DB)
    assert run.returncode == 0, run.stderr
    with admin_connect(SOURCE_DB) as conn:
        conn.execute("GRANT anon, authenticated, service_role TO authenticator")
        conn.commit()
    return run.stdout


EXPECTED_ANOMALIES = {
    # kind: the rows found (by the key the report names them with)
    "balance_not_sum_of_movements": lambda f: {f["cards"][f["bobby_card"]]["card_no"]},
    "points_not_sum_of_ledger": lambda f: {"OLD-CARD-7"},
    "payment_refunds_disagree": lambda f: {f["raced"]["tx_no"], f["stuck"]},
    "movement_not_completed": lambda f: {f["stuck"]},
    "idempotency_key_without_movement": lambda f: {"pk-orphan"},
    "recharge_order_reused": lambda f: {"r-ord"},
    "auth_user_shared": lambda f: {member_no(f["bob"])},
    "contact_duplicate": lambda f: {member_no(f["bob"]), member_no(f["bobby"])},
    "contact_refused_by_mps_ext": lambda f: {member_no(f["carol"])},
    "password_not_bcrypt": lambda f: {"SHOP-B"},
    "number_malformed": lambda f: {"OLD-CARD-7"},
}


def member_no(member_id) -> str:
    with admin_connect(SOURCE_DB) as conn:
        schema = "mps_legacy" if scalar(conn, "select to_regnamespace('mps_legacy') is not null") else "public"
        return scalar(conn, f"select member_no from {schema}.member_profiles where id = %s", member_id)


def test_dry_run_reports_every_anomaly_and_changes_nothing(legacy, dry_run):
    assert legacy["after_dry_run"] == legacy["before"]
    assert "Dry run: nothing was changed." in dry_run
    for kind, rows in EXPECTED_ANOMALIES.items():
        lines = [line for line in dry_run.splitlines() if line.startswith(f" {kind} ")]
        for row in rows(legacy):
            assert any(f"| {row} " in line for line in lines), (kind, row, lines)
    assert re.search(r"^ transactions +\| +12 \| imported$", dry_run, re.M)


def assert_carried_over(db: str) -> None:
    """Every row of the original's tables is in mps_ext's, column for column, and back."""
    with admin_connect(db) as conn:
        for table, columns in TABLES.items():
            for a, b in (("mps_legacy", "public"), ("public", "mps_legacy")):
                missing = conn.execute(f"select {columns} from {a}.{table} except all"
                                       f" select {columns} from {b}.{table}").fetchall()
                assert missing == [], (table, a, missing[:5])
        for a, b in (("mps_legacy.event_log", "audit.event_log"), ("audit.event_log", "mps_legacy.event_log")):
            missing = conn.execute(f"select {LEGACY_EVENT_LOG} from {a} where action not like 'LEGACY\\_%'"
                                   f" except all select {LEGACY_EVENT_LOG} from {b}").fetchall()
            assert missing == [], missing[:5]
        ledger = "id, card_id, tx_id, change, balance_before, balance_after, reason, created_at"
        assert conn.execute(f"select {ledger} from mps_legacy.point_ledger except all"
                            f" select {ledger} from public.point_ledger").fetchall() == []
        assert conn.execute("select * from public.verify_ledger()").fetchall() == []


def test_every_row_is_carried_over_as_it_was(legacy, imported):
    assert_carried_over(SOURCE_DB)
    with admin_connect(SOURCE_DB) as conn:
        # every movement is registered, refunds are linked to their payment
        assert scalar(conn, "select count(*) from public.tx_registry r join mps_legacy.transactions t"
                            " on t.id = r.tx_id and t.tx_no = r.tx_no") == 12
        links = conn.execute("select r.tx_no, p.tx_no as payment from public.transactions r"
                             " left join public.transactions p on p.id = r.original_tx_id"
                             " where r.tx_type = 'refund' order by r.tx_no").fetchall()
        assert [(r["tx_no"], r["payment"]) for r in links] == [(r["tx_no"], r["payment"]) for r in conn.execute(
            "select tx_no, reason as payment from mps_legacy.transactions where tx_type = 'refund' order by tx_no")]
        # password hashes, as pgcrypto made them
        assert {r["member_id"]: r["password_hash"] for r in
                conn.execute("select member_id, password_hash from mps_internal.member_passwords")} == \
               {k: v for k, v in legacy["hashes"].items() if v}
        assert all(h.startswith("$2a$") for h in legacy["hashes"].values())
        assert scalar(conn, "select count(*) from mps_internal.merchant_passwords") == 2
        assert scalar(conn, "select count(*) from mps_internal.card_binding_passwords where card_id = %s",
                      legacy["corporate"]) == 1
        # the shared Supabase user stays with the older member only
        assert conn.execute("select id from public.member_profiles where auth_user_id is not null").fetchall() == \
               [{"id": legacy["alice"]}]
        # not carried over: sessions and live QR codes
        assert scalar(conn, "select count(*) from public.card_qr_state") == 0
        assert scalar(conn, "select count(*) from public.app_sessions") == 0


def test_balances_points_and_levels_are_what_members_saw(legacy, imported):
    with admin_connect(SOURCE_DB) as conn:
        cards = {r["id"]: r for r in conn.execute(
            "select id, balance, issued_balance, points, level, discount from public.member_cards")}
    assert cards[legacy["alice_card"]]["balance"] == Decimal("419.50")
    assert (cards[legacy["alice_card"]]["points"], cards[legacy["alice_card"]]["level"]) == (1699, 1)
    assert cards[legacy["alice_card"]]["discount"] == Decimal("0.930")
    assert cards[legacy["bob_card"]]["balance"] == Decimal("120.00")  # 100 paid, 120 refunded by the race
    assert cards[legacy["bobby_card"]]["balance"] == Decimal("5.55")
    assert cards[legacy["carol_card"]]["points"] == 0
    assert cards[legacy["corporate"]]["balance"] == Decimal("300.00")
    assert cards[legacy["voucher"]]["balance"] == Decimal("50.00")
    # opening balances: what a card holds beyond its movements
    assert {k: v["issued_balance"] for k, v in cards.items() if v["issued_balance"]} == {
        legacy["bobby_card"]: Decimal("5.55"), legacy["corporate"]: Decimal("300.00"),
        legacy["voucher"]: Decimal("50.00")}
    for card_id, before in legacy["cards"].items():
        assert (cards[card_id]["balance"], cards[card_id]["points"]) == (before["balance"], before["points"])


def test_anomalies_are_recorded_with_their_bookings_and_audited(legacy, imported):
    with admin_connect(SOURCE_DB) as conn:
        found = {}
        for r in conn.execute("select kind, row_key from mps_internal.legacy_anomalies"):
            found.setdefault(r["kind"], set()).add(r["row_key"])
        opening = conn.execute("select tx_id, change, balance_before, balance_after from public.point_ledger"
                               " where reason = 'legacy_opening'").fetchall()
        audited = conn.execute("select action, count(*) as n from audit.event_log where action like 'LEGACY\\_%%'"
                               " group by action order by action").fetchall()
        imported_row = conn.execute("select rows from mps_internal.legacy_import").fetchone()["rows"]
        ledger = conn.execute("select * from public.verify_ledger()").fetchall()
    assert found == {kind: rows(legacy) for kind, rows in EXPECTED_ANOMALIES.items()}
    # carol's +50 and the clamped −999999 (which took only 50): the opening row puts back 999999 − 50
    assert opening == [{"tx_id": None, "change": 999949, "balance_before": -999949, "balance_after": 0}]
    total = sum(len(rows(legacy)) for rows in EXPECTED_ANOMALIES.values())
    assert audited == [{"action": "LEGACY_ANOMALY", "n": total}, {"action": "LEGACY_IMPORT", "n": 1},
                       {"action": "LEGACY_OPENING_BALANCE", "n": 3}]
    assert imported_row["transactions"] == 12 and imported_row["member_profiles"] == 4
    assert ledger == []


def test_the_original_is_archived_out_of_reach(legacy, imported):
    with admin_connect(SOURCE_DB) as conn:
        assert scalar(conn, "select count(*) from pg_class where relnamespace = 'mps_legacy'::regnamespace"
                            " and relkind = 'r'") == 18
        assert scalar(conn, "select count(*) from pg_proc where pronamespace = 'public'::regnamespace"
                            " and proname = 'merchant_charge_by_qr'") == 1  # ours only
        assert scalar(conn, "select to_regnamespace('sec') is null")
        for role in ("anon", "authenticated", "service_role"):
            assert not scalar(conn, "select has_schema_privilege(%s, 'mps_legacy', 'USAGE')", role)


def test_members_and_merchants_log_in_with_their_old_passwords(legacy, imported):
    api = Api(SOURCE_DB)
    try:
        anon = api.as_anon()
        assert anon.scalar("member_login", p_identifier="0912000001", p_password="alice-pass-1")["success"] is True
        assert anon.scalar("member_login", p_identifier=member_no(legacy["bob"]),
                           p_password="bob-pass-1")["success"] is True
        assert anon.scalar("merchant_login", p_merchant_code="SHOP-A", p_password="shop-a-pass")["success"] is True
        code, message = fails(anon.scalar, "merchant_login", p_merchant_code="SHOP-B", p_password="shop-b-pass")
        assert message == "INVALID_PASSWORD", message
    finally:
        api.close()


def shop_a(api):
    """The anonymous PostgREST caller, and a session of the imported merchant SHOP-A (its old password)."""
    anon = api.as_anon()
    return anon, anon.scalar("merchant_login", p_merchant_code="SHOP-A", p_password="shop-a-pass")["session_id"]


def test_new_movements_continue_the_numbering_and_old_keys_replay(legacy, imported):
    api = Api(SOURCE_DB)
    try:
        anon, merchant = shop_a(api)
        member = anon.scalar("member_login", p_identifier="0912000001", p_password="alice-pass-1")["session_id"]

        def charge(amount, key=None):
            qr = anon.rows("rotate_card_qr", p_card_id=legacy["alice_card"], p_session_id=member)[0]["qr_plain"]
            return anon.rows("merchant_charge_by_qr", p_merchant_code="SHOP-A", p_qr_plain=qr,
                             p_raw_amount=Decimal(amount), p_idempotency_key=key, p_session_id=merchant)[0]

        new = charge("10.00")
        assert new["tx_no"] == f"PAY{legacy['max_tx'] + 1:010d}"
        assert new["final_amount"] == Decimal("9.30")  # level 1 at the operator's own discount, 0.930
        # a late retry of a payment the original made replays it, whatever it carries
        replay = charge("99.00", key="pk-1")
        assert (replay["tx_no"], replay["final_amount"]) == (legacy["first"]["tx_no"], Decimal("120.50"))
        # the key of the original's failed call is free: the movement is made now
        assert charge("1.00", key="pk-orphan")["tx_no"] == f"PAY{legacy['max_tx'] + 2:010d}"
        service = api.as_service()
        again = service.rows("user_recharge_card", p_card_id=legacy["alice_card"], p_amount=Decimal("999"),
                             p_idempotency_key="rk-alice-1")[0]
        assert again["amount"] == Decimal("500.00")
        member_id = service.scalar("create_member_profile", p_name="Dora", p_phone="0912000009",
                                   p_email="dora@example.com", p_password="dora-pass-1")
        with admin_connect(SOURCE_DB) as conn:
            assert scalar(conn, "select member_no from public.member_profiles where id = %s", member_id) == \
                f"M{legacy['max_member'] + 1:08d}"
            assert scalar(conn, "select card_no from public.member_cards where owner_member_id = %s", member_id) == \
                f"STD{legacy['max_card'] + 1:08d}"
            assert scalar(conn, "select balance from public.member_cards where id = %s",
                          legacy["alice_card"]) == Decimal("409.27")  # 419.50 − 9.30 − 0.93
    finally:
        api.close()


def test_imported_payments_are_refunded_up_to_what_remains(legacy, imported):
    api = Api(SOURCE_DB)
    try:
        anon, merchant = shop_a(api)
        refund = anon.rows("merchant_refund_tx", p_merchant_code="SHOP-A", p_original_tx_no=legacy["first"]["tx_no"],
                           p_refund_amount=Decimal("100.50"), p_session_id=merchant)[0]
        assert refund["refunded_amount"] == Decimal("100.50")
        for tx_no in (legacy["first"]["tx_no"], legacy["raced"]["tx_no"], legacy["second"]["tx_no"]):
            code, message = fails(anon.rows, "merchant_refund_tx", p_merchant_code="SHOP-A", p_original_tx_no=tx_no,
                                  p_refund_amount=Decimal("0.01"), p_session_id=merchant)
            assert message == "REFUND_EXCEEDS_REMAINING", (tx_no, message)
        with admin_connect(SOURCE_DB) as conn:
            assert scalar(conn, "select status::text from public.transactions where tx_no = %s",
                          legacy["first"]["tx_no"]) == "refunded"
            assert conn.execute("select * from public.verify_ledger()").fetchall() == []
    finally:
        api.close()


def test_a_second_run_is_refused(legacy, imported):
    for dry in (True, False):
        run = migrate(SOURCE_DB, dry_run=dry)
        assert run.returncode != 0
        assert "MIGRATION_ALREADY_DONE: mps_ext is already installed in this database" in run.stderr
        assert "The import from the original ran at" in run.stderr


def test_a_failing_import_leaves_the_legacy_database_as_it_was(database):
    db = "mps_legacy_fail"
    build_legacy(db)
    with admin_connect(db) as conn:
        conn.execute("select create_member_profile('Eve', '0912000005', 'eve@example.com', 'eve-pass-1')")
        # a table of the operator's own that takes a name mps_ext needs: CREATE EXTENSION fails
        conn.execute("create table public.card_holds (note text)")
        conn.commit()
    before = snapshot(db)
    run = migrate(db)
    assert run.returncode != 0
    assert 'relation "card_holds" already exists' in run.stderr
    assert snapshot(db) == before


def test_a_database_without_the_original_is_refused(database):
    db = "mps_legacy_none"
    recreate_database(db, extension=False)
    run = migrate(db, dry_run=True)
    assert run.returncode != 0
    assert "LEGACY_SCHEMA_NOT_FOUND: this database does not hold the original MPS" in run.stderr
    assert "Missing: public.member_profiles.password_hash" in run.stderr


def test_a_generated_legacy_data_set_imports_whole(database):
    """The generator's data set (tests/legacy/generate.sql, the original's rows at scale with
    its planted anomalies) imports with every row and a clean ledger."""
    db = "mps_legacy_generated"
    build_legacy(db)
    psql_file(db, LEGACY / "generate.sql", "members=2000", "transactions=20000")
    with admin_connect(db) as conn:
        cards = {r["id"]: (r["balance"], r["points"]) for r in conn.execute("select id, balance, points from member_cards")}
    run = migrate(db)
    assert run.returncode == 0, run.stderr
    assert_carried_over(db)
    with admin_connect(db) as conn:
        assert {r["id"]: (r["balance"], r["points"]) for r in
                conn.execute("select id, balance, points from public.member_cards")} == cards
        kinds = {r["kind"]: r["n"] for r in
                 conn.execute("select kind, count(*) as n from mps_internal.legacy_anomalies group by kind")}
        counts = conn.execute("select rows from mps_internal.legacy_import").fetchone()["rows"]
    # the five the generator plants: a hand-edited balance, two refunds racing past a payment,
    # a clamped points adjustment, a key of a failed call, a payment left processing
    assert kinds["balance_not_sum_of_movements"] >= 1
    assert kinds["payment_refunds_disagree"] >= 2
    assert kinds["points_not_sum_of_ledger"] >= 1
    assert kinds["idempotency_key_without_movement"] == 1
    assert kinds["movement_not_completed"] >= 1
    assert counts["member_profiles"] == 2000 and counts["transactions"] >= 20000
