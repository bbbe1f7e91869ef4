"""Money enters only through a confirmed payment: a member's recharge (session or JWT) stays
pending until service_role or a super admin confirms it (confirm_recharge) or someone
allowed drops it (cancel_recharge); a super admin's recharge completes at once. Every test
ends with verify_ledger() returning no rows (conftest)."""

import uuid
from decimal import Decimal

from conftest import login_member, login_merchant, make_member, standard_card
from mps import fails
from test_money import balance_points, run_concurrently

PERMISSION = "42501"
BUSINESS = "P0001"
D = Decimal


def status_of(admin_sql, tx_id):
    return admin_sql.execute("select status::text from transactions where id = %s", (tx_id,)).fetchone()["status"]


def audit_actions(admin_sql, tx_id):
    return [r["action"] for r in admin_sql.execute(
        "select action from audit.event_log where object_id = %s order by id", (tx_id,)).fetchall()]


def ledger_rows(admin_sql, tx_id):
    return admin_sql.execute("select count(*) as n from point_ledger where tx_id = %s", (tx_id,)).fetchone()["n"]


def test_member_session_recharge_is_pending_until_confirmed_once(api, admin_sql, shop):
    anon, sid = api.as_anon(), login_member(api, shop.member)
    asked = anon.rows("user_recharge_card", p_card_id=shop.card, p_amount=D("9999999.99"), p_payment_method="wechat",
                      p_session_id=sid)[0]
    assert asked["amount"] == D("9999999.99") and asked["card_id"] == shop.card and asked["tx_no"].startswith("RCG")
    assert balance_points(api, shop.card)[:2] == (D("1000.00"), 0)
    assert status_of(admin_sql, asked["tx_id"]) == "processing"
    assert (audit_actions(admin_sql, asked["tx_id"]), ledger_rows(admin_sql, asked["tx_id"])) == ([], 0)
    assert api.as_service().rows("verify_ledger") == []
    # the member sees the request in their history, with its status
    history = anon.rows("get_member_transactions", p_member_id=shop.member["id"], p_session_id=sid)
    assert {h["tx_no"]: h["status"] for h in history}[asked["tx_no"]] == "processing"

    # the member cannot confirm their own recharge: anon may not execute it, and no session helps
    assert fails(anon.rows, "confirm_recharge", p_tx_no=asked["tx_no"], p_session_id=sid)[0] == PERMISSION
    assert fails(anon.rows, "confirm_recharge", p_tx_no=asked["tx_no"])[0] == PERMISSION
    assert balance_points(api, shop.card)[0] == D("1000.00")

    # the payment gateway confirms (service key): credited once, whatever the retries
    svc = api.as_service()
    confirmed = svc.rows("confirm_recharge", p_tx_no=asked["tx_no"])
    assert confirmed == [asked]
    assert balance_points(api, shop.card)[:2] == (D("10000999.99"), 0)
    assert status_of(admin_sql, asked["tx_id"]) == "completed"
    assert svc.rows("confirm_recharge", p_tx_no=asked["tx_no"]) == [asked]
    assert balance_points(api, shop.card)[0] == D("10000999.99")
    assert audit_actions(admin_sql, asked["tx_id"]) == ["RECHARGE"]
    assert ledger_rows(admin_sql, asked["tx_id"]) == 0  # recharges earn no points, confirmed or not


def test_jwt_member_recharge_is_pending_and_a_jwt_super_admin_confirms(api, admin_sql, unique):
    sub, admin = uuid.uuid4(), uuid.uuid4()
    m = make_member(api, unique, p_binding_user_org="supabase", p_binding_org_id=str(sub))
    card = standard_card(api, m["id"])
    asked = api.as_user(sub).rows("user_recharge_card", p_card_id=card, p_amount=D("30.305"))[0]
    assert asked["amount"] == D("30.31")
    assert balance_points(api, card)[0] == D("0.00")
    assert status_of(admin_sql, asked["tx_id"]) == "processing"
    assert fails(api.as_user(sub).rows, "confirm_recharge", p_tx_no=asked["tx_no"]) == \
        (PERMISSION, "PERMISSION_DENIED: Required super_admin, but user is member")
    admin_sql.execute("insert into admin_users (auth_user_id, name) values (%s, 'Back office')", (admin,))
    assert api.as_user(admin).rows("confirm_recharge", p_tx_no=asked["tx_no"]) == [asked]
    assert balance_points(api, card)[0] == D("30.31")
    actor = admin_sql.execute("select actor_user_id, actor_role from audit.event_log where object_id = %s",
                              (asked["tx_id"],)).fetchall()
    assert actor == [{"actor_user_id": admin, "actor_role": "super_admin"}]


def test_admin_recharges_complete_at_once(api, admin_sql, member, unique):
    card = standard_card(api, member["id"])
    cash = api.as_service().rows("user_recharge_card", p_card_id=card, p_amount=D("12.34"), p_payment_method="cash")[0]
    admin = uuid.uuid4()
    admin_sql.execute("insert into admin_users (auth_user_id, name) values (%s, 'Counter')", (admin,))
    counter = api.as_user(admin).rows("user_recharge_card", p_card_id=card, p_amount=D("0.66"),
                                      p_payment_method="cash")[0]
    psql = admin_sql.execute("select * from public.user_recharge_card(%s, 1)", (card,)).fetchone()
    assert balance_points(api, card)[0] == D("14.00")
    for tx in (cash, counter, psql):
        assert status_of(admin_sql, tx["tx_id"]) == "completed"
        assert audit_actions(admin_sql, tx["tx_id"]) == ["RECHARGE"]
        # confirming a completed recharge changes nothing
        assert api.as_service().rows("confirm_recharge", p_tx_no=tx["tx_no"]) == [tx]
    assert balance_points(api, card)[0] == D("14.00")
    assert fails(api.as_service().scalar, "cancel_recharge", p_tx_no=cash["tx_no"]) == \
        (BUSINESS, "INVALID_STATUS_TRANSITION")


def test_cancelled_recharge_is_never_credited(api, admin_sql, shop, unique):
    anon, sid = api.as_anon(), login_member(api, shop.member)
    asked = anon.rows("user_recharge_card", p_card_id=shop.card, p_amount=D("50"), p_session_id=sid)[0]
    # nobody else may cancel it: another member does not even see it, a merchant may not, anon must log in
    stranger = login_member(api, make_member(api, unique[::-1]))
    assert fails(anon.scalar, "cancel_recharge", p_tx_no=asked["tx_no"], p_session_id=stranger) == \
        (BUSINESS, "TX_NOT_FOUND")
    assert fails(anon.scalar, "cancel_recharge", p_tx_no=asked["tx_no"], p_session_id=login_merchant(api, shop.merchant)) \
        == (PERMISSION, "PERMISSION_DENIED")
    assert fails(anon.scalar, "cancel_recharge", p_tx_no=asked["tx_no"]) == (PERMISSION, "NOT_AUTHENTICATED")
    # the member drops their own request (an abandoned checkout)
    assert anon.scalar("cancel_recharge", p_tx_no=asked["tx_no"], p_reason="changed my mind", p_session_id=sid) is True
    assert status_of(admin_sql, asked["tx_id"]) == "cancelled"
    assert anon.scalar("cancel_recharge", p_tx_no=asked["tx_no"], p_session_id=sid) is True  # again: no change
    assert fails(api.as_service().rows, "confirm_recharge", p_tx_no=asked["tx_no"]) == \
        (BUSINESS, "INVALID_STATUS_TRANSITION")
    assert balance_points(api, shop.card)[0] == D("1000.00")
    assert audit_actions(admin_sql, asked["tx_id"]) == ["RECHARGE_CANCEL"]
    reason = admin_sql.execute("select context ->> 'reason' as r from audit.event_log where object_id = %s",
                               (asked["tx_id"],)).fetchone()["r"]
    assert reason == "changed my mind"

    # the gateway cancels a payment that failed
    failed = anon.rows("user_recharge_card", p_card_id=shop.card, p_amount=D("70"), p_session_id=sid)[0]
    assert api.as_service().scalar("cancel_recharge", p_tx_no=failed["tx_no"], p_reason="payment failed") is True
    assert status_of(admin_sql, failed["tx_id"]) == "cancelled"
    assert balance_points(api, shop.card)[0] == D("1000.00")


def test_only_recharges_can_be_confirmed(api, shop):
    svc = api.as_service()
    paid = shop.charge(D("10"))
    for tx_no in ["RCG9999999999", paid["tx_no"]]:
        assert fails(svc.rows, "confirm_recharge", p_tx_no=tx_no) == (BUSINESS, "TX_NOT_FOUND")
        assert fails(svc.scalar, "cancel_recharge", p_tx_no=tx_no) == (BUSINESS, "TX_NOT_FOUND")
    for tx_no in [None, " "]:
        assert fails(svc.rows, "confirm_recharge", p_tx_no=tx_no) == (BUSINESS, "INVALID_ARGUMENT")
    assert balance_points(api, shop.card)[0] == D("990.00")


def test_confirm_checks_the_card_again(api, admin_sql, shop):
    sid = login_member(api, shop.member)
    asked = api.as_anon().rows("user_recharge_card", p_card_id=shop.card, p_amount=D("20"), p_session_id=sid)[0]
    svc = api.as_service()
    svc.scalar("freeze_card", p_card_id=shop.card)
    assert fails(svc.rows, "confirm_recharge", p_tx_no=asked["tx_no"]) == (BUSINESS, "CARD_NOT_FOUND_OR_INACTIVE")
    assert status_of(admin_sql, asked["tx_id"]) == "processing"
    svc.scalar("unfreeze_card", p_card_id=shop.card)
    admin_sql.execute("update member_profiles set status = 'suspended' where id = %s", (shop.member["id"],))
    assert fails(svc.rows, "confirm_recharge", p_tx_no=asked["tx_no"]) == (BUSINESS, "MEMBER_NOT_ACTIVE")
    admin_sql.execute("update member_profiles set status = 'active' where id = %s", (shop.member["id"],))
    assert balance_points(api, shop.card)[0] == D("1000.00")
    assert svc.rows("confirm_recharge", p_tx_no=asked["tx_no"]) == [asked]
    assert balance_points(api, shop.card)[0] == D("1020.00")


def test_a_pending_recharge_replays_with_its_idempotency_key(api, admin_sql, shop, unique):
    anon, sid, key = api.as_anon(), login_member(api, shop.member), f"pending-{unique}"
    first = anon.rows("user_recharge_card", p_card_id=shop.card, p_amount=D("15"), p_idempotency_key=key,
                      p_session_id=sid)[0]
    assert anon.rows("user_recharge_card", p_card_id=shop.card, p_amount=D("15"), p_idempotency_key=key,
                     p_session_id=sid)[0] == first
    assert fails(anon.rows, "user_recharge_card", p_card_id=shop.card, p_amount=D("16"), p_idempotency_key=key,
                 p_session_id=sid) == (BUSINESS, "IDEMPOTENCY_KEY_REUSED")
    api.as_service().rows("confirm_recharge", p_tx_no=first["tx_no"])
    assert anon.rows("user_recharge_card", p_card_id=shop.card, p_amount=D("15"), p_idempotency_key=key,
                     p_session_id=sid)[0] == first
    count = admin_sql.execute("select count(*) as n from transactions where idempotency_key = %s", (key,)).fetchone()
    assert count["n"] == 1
    assert balance_points(api, shop.card)[0] == D("1015.00")


def test_concurrent_confirmations_credit_once(api, admin_sql, database, shop):
    sid = login_member(api, shop.member)
    asked = api.as_anon().rows("user_recharge_card", p_card_id=shop.card, p_amount=D("33.33"), p_session_id=sid)[0]
    results = run_concurrently(database, 6, lambda c, i: c.as_service().rows("confirm_recharge",
                                                                             p_tx_no=asked["tx_no"]))
    assert results == [("ok", [asked])] * 6
    assert balance_points(api, shop.card)[0] == D("1033.33")
    assert audit_actions(admin_sql, asked["tx_id"]) == ["RECHARGE"]


def test_confirm_and_cancel_race_one_wins(api, admin_sql, database, shop):
    sid = login_member(api, shop.member)
    asked = api.as_anon().rows("user_recharge_card", p_card_id=shop.card, p_amount=D("8"), p_session_id=sid)[0]

    def work(client, i):
        if i % 2:
            return client.as_service().scalar("cancel_recharge", p_tx_no=asked["tx_no"])
        return client.as_service().rows("confirm_recharge", p_tx_no=asked["tx_no"])

    results = run_concurrently(database, 4, work)
    final = status_of(admin_sql, asked["tx_id"])
    losers = [r for kind, r in results if kind == "error"]
    assert losers and all(r == (BUSINESS, "INVALID_STATUS_TRANSITION") for r in losers)
    assert balance_points(api, shop.card)[0] == (D("1008.00") if final == "completed" else D("1000.00"))
