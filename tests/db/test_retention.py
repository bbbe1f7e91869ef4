"""Retention (apply_retention, the daily mps-retention job): rows older than each table's
cutoff go, newer rows stay; idempotency keys inside their window still replay or refuse
exactly as before, and a retry after it does what the README says; folding point ledger
detail changes no sum, no history balance and no verify_ledger() result. Runs in a database
of its own, so that the counts are exact."""

from datetime import timedelta
from decimal import Decimal

import psycopg
import pytest

from conftest import Shop, login_member, make_member
from mps import Api, admin_connect, drop_database, error_of, fails, recreate_database

DB = "mps_retention"
PERMISSION = "42501"
TABLES = ["audit.event_log", "public.idempotency_registry", "public.merchant_order_registry",
          "public.point_ledger", "public.app_sessions", "public.card_qr_history", "public.events"]


@pytest.fixture(scope="module")
def retention_db():
    recreate_database(DB)
    yield DB
    drop_database(DB)


@pytest.fixture
def rapi(retention_db):
    client = Api(retention_db)
    yield client
    client.close()


@pytest.fixture
def sql(retention_db):
    conn = admin_connect(retention_db)
    conn.autocommit = True
    yield conn
    assert conn.execute("select * from public.verify_ledger()").fetchall() == []
    conn.close()


def one(sql, statement, params=None):
    return next(iter(sql.execute(statement, params).fetchone().values()))


def apply(rapi):
    """apply_retention as service_role: {table: (rows_removed, done)}, after checking that
    every table is reported once, in order."""
    rows = rapi.as_service().rows("apply_retention")
    assert [r["table_name"] for r in rows] == TABLES
    return {r["table_name"]: (r["rows_removed"], r["done"]) for r in rows}


def removed(report):
    return {table: n for table, (n, _) in report.items()}


NOTHING = {table: 0 for table in TABLES}


def with_settings(sql, **settings):
    """Sets mps.retention_* for the database (new connections see it)."""
    for name, value in settings.items():
        if value is None:
            sql.execute(f"alter database {DB} reset mps.{name}")
        else:
            sql.execute(f"alter database {DB} set mps.{name} = {int(value)}")


def charge(shop, amount, key, qr=None):
    return shop.charge(Decimal(amount), qr=qr, p_idempotency_key=key)


def test_rows_older_than_each_cutoff_go_and_newer_rows_stay(rapi, sql, unique):
    member = make_member(rapi, unique)
    merchant_code = f"R{unique}"
    merchant_id = rapi.as_service().scalar("create_merchant", p_code=merchant_code, p_name="Shop",
                                           p_password="merchant-pass-1")
    shop = Shop(rapi, member, {"id": merchant_id, "code": merchant_code})
    apply(rapi)  # a clean start: nothing of this database is old yet

    # audit: default 2555 days
    sql.execute("insert into audit.event_log (happened_at, action, object_type)"
                " select now() - interval '2556 days', 'TEST_OLD', 'system' from generate_series(1, 3)")
    sql.execute("insert into audit.event_log (happened_at, action, object_type)"
                " select now() - interval '2554 days', 'TEST_KEPT', 'system' from generate_series(1, 2)")
    # idempotency keys: default 90 days
    paid = [charge(shop, "10", f"{unique}-{i}") for i in range(3)]
    for tx, days in zip(paid, [91, 91, 89]):
        sql.execute("update idempotency_registry set created_at = now() - make_interval(days => %s)"
                    " where tx_id = %s", (days, tx["tx_id"]))
    # merchant_order_registry: the same window
    sql.execute("insert into merchant_order_registry (merchant_id, external_order_id, tx_id, created_at)"
                " values (%s, 'old', gen_random_uuid(), now() - interval '91 days'),"
                "        (%s, 'new', gen_random_uuid(), now() - interval '89 days')", (merchant_id, merchant_id))
    # sessions: gone once expired
    login_member(rapi, member)
    login_member(rapi, member)
    sql.execute("update app_sessions set expires_at = now() - interval '1 second'"
                " where session_id = (select session_id from app_sessions where member_id = %s limit 1)",
                (member["id"],))
    # QR history: default 30 days (the three charges rotated three codes)
    sql.execute("update card_qr_history set issued_at = now() - interval '31 days'"
                " where id in (select id from card_qr_history where card_id = %s order by issued_at limit 2)",
                (shop.card,))
    qr_history = one(sql, "select count(*) from card_qr_history where card_id = %s", (shop.card,))
    # the event feed: default 30 days (the three charges' events)
    for tx, days in zip(paid, [31, 31, 29]):
        sql.execute("update events set occurred_at = now() - make_interval(days => %s) where tx_no = %s",
                    (days, tx["tx_no"]))

    report = apply(rapi)
    assert removed(report) == {**NOTHING, "audit.event_log": 3, "public.idempotency_registry": 2,
                               "public.merchant_order_registry": 1, "public.app_sessions": 1,
                               "public.card_qr_history": 2, "public.events": 2}
    assert all(done for _, done in report.values())
    assert one(sql, "select count(*) from audit.event_log where action = 'TEST_OLD'") == 0
    assert one(sql, "select count(*) from audit.event_log where action = 'TEST_KEPT'") == 2
    assert [r["tx_id"] for r in sql.execute("select tx_id from idempotency_registry where tx_id = any(%s)",
                                            ([p["tx_id"] for p in paid],))] == [paid[2]["tx_id"]]
    assert [r["external_order_id"] for r in sql.execute("select external_order_id from merchant_order_registry")] \
        == ["new"]
    assert one(sql, "select count(*) from app_sessions where member_id = %s", (member["id"],)) == 1
    assert one(sql, "select count(*) from card_qr_history where card_id = %s", (shop.card,)) == qr_history - 2
    assert [r["tx_no"] for r in sql.execute("select tx_no from events where tx_no = any(%s)",
                                            ([p["tx_no"] for p in paid],))] == [paid[2]["tx_no"]]
    # money history stays: every movement and its registry row
    assert one(sql, "select count(*) from transactions where id = any(%s)", ([p["tx_id"] for p in paid],)) == 3
    assert one(sql, "select count(*) from tx_registry where tx_id = any(%s)", ([p["tx_id"] for p in paid],)) == 3
    # the run is audited, with what it removed
    audited = sql.execute("select actor_role, context from audit.event_log where action = 'APPLY_RETENTION'"
                          " order by id desc limit 1").fetchone()
    assert audited["actor_role"] == "super_admin"
    assert audited["context"]["removed"]["audit.event_log"] == 3 and audited["context"]["done"] is True
    assert removed(apply(rapi)) == NOTHING  # a second run finds nothing


def test_cutoffs_follow_the_settings_and_zero_keeps_forever(sql, retention_db):
    sql.execute("delete from audit.event_log where action in ('TEST_OLD', 'TEST_KEPT')")
    sql.execute("insert into audit.event_log (happened_at, action, object_type)"
                " values (now() - interval '11 days', 'TEST_OLD', 'system'),"
                "        (now() - interval '9 days', 'TEST_KEPT', 'system')")
    try:
        with_settings(sql, retention_audit_days=10, retention_idempotency_days=0, retention_point_ledger_days=0)
        client = Api(retention_db)
        try:
            rows = {r["table_name"]: r for r in client.as_service().rows("apply_retention")}
        finally:
            client.close()
        now = one(sql, "select now()")
        assert timedelta(days=10) <= now - rows["audit.event_log"]["cutoff"] < timedelta(days=10, minutes=1)
        assert rows["audit.event_log"]["rows_removed"] == 1
        assert timedelta(0) <= now - rows["public.app_sessions"]["cutoff"] < timedelta(minutes=1)
        for kept in ["public.idempotency_registry", "public.merchant_order_registry", "public.point_ledger"]:
            assert (rows[kept]["cutoff"], rows[kept]["rows_removed"], rows[kept]["done"]) == (None, 0, True)
        assert [r["action"] for r in sql.execute("select action from audit.event_log where action like 'TEST%'")] \
            == ["TEST_KEPT"]

        with_settings(sql, retention_audit_days=0)
        sql.execute("insert into audit.event_log (happened_at, action, object_type)"
                    " values (now() - interval '36500 days', 'TEST_OLD', 'system')")
        client = Api(retention_db)
        try:
            assert client.as_service().rows("apply_retention")[0] == {
                "table_name": "audit.event_log", "cutoff": None, "rows_removed": 0, "done": True}
        finally:
            client.close()
        assert one(sql, "select count(*) from audit.event_log where action like 'TEST%'") == 2
    finally:
        with_settings(sql, retention_audit_days=None, retention_idempotency_days=None,
                      retention_point_ledger_days=None)
        sql.execute("delete from audit.event_log where action in ('TEST_OLD', 'TEST_KEPT')")


def test_batches_are_bounded_and_the_job_runs_them_all(sql, retention_db):
    with_settings(sql, retention_batch_rows=100)
    try:
        sql.execute("insert into audit.event_log (happened_at, action, object_type)"
                    " select now() - interval '2556 days', 'TEST_OLD', 'system' from generate_series(1, 250)")
        client = Api(retention_db)
        try:
            runs = [removed_and_done(client) for _ in range(3)]
        finally:
            client.close()
        assert runs == [(100, False), (100, False), (50, True)]
        sql.execute("insert into audit.event_log (happened_at, action, object_type)"
                    " select now() - interval '2556 days', 'TEST_OLD', 'system' from generate_series(1, 250)")
        before = one(sql, "select count(*) from audit.event_log where action = 'APPLY_RETENTION'")
        with admin_connect(retention_db) as job:
            job.autocommit = True  # CALL outside a transaction block, as pg_cron runs it
            job.execute("CALL mps_internal.run_retention()")
        assert one(sql, "select count(*) from audit.event_log where action = 'TEST_OLD'") == 0
        assert one(sql, "select count(*) from audit.event_log where action = 'APPLY_RETENTION'") == before + 3
    finally:
        with_settings(sql, retention_batch_rows=None)


def removed_and_done(client):
    row = client.as_service().rows("apply_retention")[0]
    assert row["table_name"] == "audit.event_log"
    return row["rows_removed"], row["done"]


def test_point_ledger_detail_folds_into_one_carried_forward_row(rapi, sql, unique):
    member = make_member(rapi, unique)
    merchant_code = f"R{unique}"
    merchant_id = rapi.as_service().scalar("create_merchant", p_code=merchant_code, p_name="Shop",
                                           p_password="merchant-pass-1")
    shop = Shop(rapi, member, {"id": merchant_id, "code": merchant_code})
    old = [charge(shop, amount, None) for amount in ("100", "250.50", "40")]
    shop.refund(old[1]["tx_no"], Decimal("50.10"))  # reverses 50 of its 250 points
    rapi.as_service().scalar("update_points_and_level", p_card_id=shop.card, p_delta_points=7, p_reason="goodwill")
    new = [charge(shop, amount, None) for amount in ("30", "12")]
    old_ids = [p["tx_id"] for p in old] + [one(sql, "select id from transactions where original_tx_id = %s",
                                                (old[1]["tx_id"],))]
    # everything up to the adjustment happened 1,096 days ago (the default keeps 1,095 of detail)
    sql.execute("update transactions set created_at = created_at - interval '1096 days' where id = any(%s)",
                (old_ids,))
    sql.execute("update point_ledger set created_at = created_at - interval '1096 days'"
                " where card_id = %s and (tx_id = any(%s) or reason = 'goodwill')", (shop.card, old_ids))
    points = one(sql, "select points from member_cards where id = %s", (shop.card,))
    assert points == 100 + 250 + 40 - 50 + 7 + 30 + 12
    svc = rapi.as_service()
    history = svc.rows("get_point_ledger", p_card_id=shop.card)
    assert len(history) == 7

    report = apply(rapi)
    assert removed(report) == {**NOTHING, "public.point_ledger": 5 - 1}
    assert one(sql, "select points from member_cards where id = %s", (shop.card,)) == points
    assert one(sql, "select sum(change) from point_ledger where card_id = %s", (shop.card,)) == points
    after = svc.rows("get_point_ledger", p_card_id=shop.card)
    assert after[:2] == history[:2]  # the newer detail, unchanged
    carried = after[2]
    cutoff = next(r["cutoff"] for r in svc.rows("apply_retention") if r["table_name"] == "public.point_ledger")
    assert len(after) == 3
    assert (carried["change"], carried["balance_before"], carried["balance_after"], carried["reason"],
            carried["tx_id"]) == (347, 0, 347, "carried_forward", None)
    assert cutoff - timedelta(minutes=1) < carried["created_at"] <= cutoff
    assert carried["balance_after"] == after[1]["balance_before"]  # the running balance still chains
    # the member sees the same history through their session
    sid = login_member(rapi, member)
    assert rapi.as_anon().rows("get_point_ledger", p_card_id=shop.card, p_session_id=sid) == after

    # a folded payment can still be refunded, and its points reversed
    shop.refund(old[0]["tx_no"], Decimal("100"))
    assert one(sql, "select points from member_cards where id = %s", (shop.card,)) == points - 100
    assert one(sql, "select sum(change) from point_ledger where card_id = %s", (shop.card,)) == points - 100
    # verify_ledger still finds a real break in the detail it kept
    sql.execute("update point_ledger set change = change + 1 where tx_id = %s", (new[0]["tx_id"],))
    broken = sql.execute("select check_name from verify_ledger() where card_id = %s order by 1", (shop.card,))
    assert [r["check_name"] for r in broken] == ["points", "points_earned"]
    sql.execute("update point_ledger set change = change - 1 where tx_id = %s", (new[0]["tx_id"],))
    # nobody can forge the opening row
    assert fails(svc.scalar, "update_points_and_level", p_card_id=shop.card, p_delta_points=1,
                 p_reason="carried_forward")[1].startswith("INVALID_ARGUMENT")


def test_idempotency_keys_inside_the_window_replay_and_after_it_behave_as_documented(rapi, sql, unique):
    member = make_member(rapi, unique)
    merchant_code = f"R{unique}"
    merchant_id = rapi.as_service().scalar("create_merchant", p_code=merchant_code, p_name="Shop",
                                           p_password="merchant-pass-1")
    shop = Shop(rapi, member, {"id": merchant_id, "code": merchant_code})
    qr_in = shop.qr()
    inside = charge(shop, "20", f"in-{unique}", qr=qr_in)
    qr_out = shop.qr()
    outside = charge(shop, "30", f"out-{unique}", qr=qr_out)
    svc = rapi.as_service()
    recharged = svc.rows("user_recharge_card", p_card_id=shop.card, p_amount=Decimal("5"),
                         p_idempotency_key=f"rc-{unique}")[0]
    for tx, days in [(inside, 89), (outside, 91), (recharged, 91)]:
        sql.execute("update idempotency_registry set created_at = now() - make_interval(days => %s)"
                    " where tx_id = %s", (days, tx["tx_id"]))
    assert removed(apply(rapi))["public.idempotency_registry"] == 2
    balance = one(sql, "select balance from member_cards where id = %s", (shop.card,))

    # inside the window: the same request replays, another one is refused
    assert charge(shop, "20", f"in-{unique}", qr=qr_in)["tx_no"] == inside["tx_no"]
    assert fails(charge, shop, "21", f"in-{unique}", qr=qr_in)[1].startswith("IDEMPOTENCY_KEY_REUSED")
    # after it, a payment's retry carries a code that has long expired (a code lives at most
    # a day): refused, never charged twice
    sql.execute("update mps_internal.card_qr_tokens set expires_at = now() - interval '1 second' where card_id = %s",
                (shop.card,))
    assert fails(charge, shop, "30", f"out-{unique}", qr=qr_out)[1].startswith("QR_EXPIRED_OR_INVALID")
    assert one(sql, "select balance from member_cards where id = %s", (shop.card,)) == balance
    # a recharge's retry after the window is a new recharge
    again = svc.rows("user_recharge_card", p_card_id=shop.card, p_amount=Decimal("5"),
                     p_idempotency_key=f"rc-{unique}")[0]
    assert again["tx_no"] != recharged["tx_no"]
    assert one(sql, "select balance from member_cards where id = %s", (shop.card,)) == balance + Decimal("5.00")


def test_only_a_super_admin_applies_retention(rapi, sql, unique):
    member = make_member(rapi, unique)
    sid = login_member(rapi, member)
    with pytest.raises(psycopg.Error) as e:
        rapi.as_anon().rows("apply_retention")
    assert error_of(e) == (PERMISSION, "permission denied for function apply_retention")
    assert fails(rapi.as_claims({"role": "authenticated"}).rows, "apply_retention") == (
        PERMISSION, "NOT_AUTHENTICATED")
    code, message = fails(rapi.as_claims({"role": "authenticated"}).rows, "apply_retention", p_session_id=sid)
    assert (code, message) == (PERMISSION, "PERMISSION_DENIED: Required super_admin, but user is member")
    assert one(sql, "select count(*) from audit.event_log where action = 'APPLY_RETENTION'"
                    " and actor_role <> 'super_admin'") == 0
    with admin_connect(DB) as conn:
        assert conn.execute("select has_function_privilege('service_role', 'mps_internal.run_retention()',"
                            " 'EXECUTE') as x").fetchone()["x"] is False
