"""Card holds (issue 15): authorize by QR, capture all or part, void, expiry, and every
movement respecting what is held. Every test ends with verify_ledger() returning no rows
(conftest), which checks the holds too."""

import base64
import os
import re
import uuid
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from psycopg.types.json import Jsonb

from conftest import Shop, login_member, login_merchant, make_member
from mps import SERVICE, Api, Request, fails
from test_money import balance_points, run_concurrently

PERMISSION = "42501"
BUSINESS = "P0001"
D = Decimal


class Till:
    """A Shop that also authorizes, captures and voids holds, as service_role unless a
    caller (an mps.Request) and its session are given."""

    def __init__(self, shop: Shop):
        self.shop, self.svc, self.card, self.code = shop, shop.svc, shop.card, shop.merchant["code"]

    def authorize(self, raw, qr=None, card=None, by=None, **extra):
        return (by or self.svc).rows("merchant_authorize_by_qr", p_merchant_code=extra.pop("code", self.code),
                                     p_qr_plain=qr or self.shop.qr(card), p_raw_amount=raw, **extra)[0]

    def capture(self, hold_no, raw=None, by=None, **extra):
        return (by or self.svc).rows("merchant_capture_hold", p_merchant_code=extra.pop("code", self.code),
                                     p_hold_no=hold_no, p_raw_amount=raw, **extra)[0]

    def void(self, hold_no, by=None, **extra):
        return (by or self.svc).scalar("merchant_void_hold", p_merchant_code=extra.pop("code", self.code),
                                       p_hold_no=hold_no, **extra)

    def balance(self, card=None):
        """(balance, held, available) as get_card_balance answers a super admin."""
        row = self.svc.rows("get_card_balance", p_card_id=card or self.card)[0]
        return row["balance"], row["held"], row["available"]

    def statuses(self, card=None):
        """{hold_no: status} as get_card_holds lists them."""
        return {h["hold_no"]: h["status"] for h in self.svc.rows("get_card_holds", p_card_id=card or self.card)}


@pytest.fixture
def till(shop):
    return Till(shop)


def hold_row(admin_sql, hold_id):
    return admin_sql.execute("select status::text, raw_amount, discount, amount, capture_tx_id, idempotency_key,"
                             " external_order_id, tag from card_holds where id = %s", (hold_id,)).fetchone()


def expire(admin_sql, hold_id):
    admin_sql.execute("update card_holds set expires_at = now() - interval '1 second' where id = %s", (hold_id,))


def in_seconds(moment) -> float:
    return (moment - datetime.now(timezone.utc)).total_seconds()


def jwt_of(api, admin_sql, member_id) -> Request:
    """The member's JWT caller (their auth_user_id as `sub`)."""
    sub = uuid.uuid4()
    admin_sql.execute("update member_profiles set auth_user_id = %s where id = %s", (sub, member_id))
    return api.as_user(sub)


def staff_of(api, admin_sql, merchant_id) -> Request:
    sub = uuid.uuid4()
    admin_sql.execute("insert into merchant_users (merchant_id, auth_user_id, role) values (%s, %s, 'staff')",
                      (merchant_id, sub))
    return api.as_user(sub)


def test_authorize_then_capture_the_whole_hold(api, admin_sql, till, unique):
    hold = till.authorize(D("100.75"), p_idempotency_key=f"auth-{unique}", p_external_order_id=f"order-{unique}",
                          p_tag=Jsonb({"table": 7}))
    assert re.fullmatch(r"HLD\d{10}", hold["hold_no"]), hold
    assert (hold["card_id"], hold["amount"], hold["discount"]) == (till.card, D("100.75"), D("1.000"))
    assert 898 <= in_seconds(hold["expires_at"]) <= 900
    # no money moves, no points: the amount is only held
    assert balance_points(api, till.card)[:2] == (D("1000.00"), 0)
    assert till.balance() == (D("1000.00"), D("100.75"), D("899.25"))
    assert hold_row(admin_sql, hold["hold_id"]) == {
        "status": "active", "raw_amount": D("100.75"), "discount": D("1.000"), "amount": D("100.75"),
        "capture_tx_id": None, "idempotency_key": f"auth-{unique}", "external_order_id": f"order-{unique}",
        "tag": {"table": 7}}

    paid = till.capture(hold["hold_no"])
    assert paid["tx_no"].startswith("PAY") and len(paid["tx_no"]) == 13
    assert (paid["card_id"], paid["final_amount"], paid["discount"]) == (till.card, D("100.75"), D("1.000"))
    assert balance_points(api, till.card) == (D("899.25"), 100, 0, D("1.000"))
    assert till.balance() == (D("899.25"), D("0.00"), D("899.25"))
    assert hold_row(admin_sql, hold["hold_id"])["status"] == "captured"
    assert hold_row(admin_sql, hold["hold_id"])["capture_tx_id"] == paid["tx_id"]
    tx = admin_sql.execute("select tx_type::text, status::text, merchant_id, raw_amount, discount_applied,"
                           " final_amount, points_earned from transactions where id = %s", (paid["tx_id"],)).fetchone()
    assert tx == {"tx_type": "payment", "status": "completed", "merchant_id": till.shop.merchant["id"],
                  "raw_amount": D("100.75"), "discount_applied": D("1.000"), "final_amount": D("100.75"),
                  "points_earned": 100}
    assert till.statuses() == {hold["hold_no"]: "captured"}


def test_partial_capture_at_the_recorded_rate_releases_the_rest(api, admin_sql, till):
    till.svc.scalar("update_points_and_level", p_card_id=till.card, p_delta_points=1000)
    hold = till.authorize(D("200"))
    assert (hold["amount"], hold["discount"]) == (D("190.00"), D("0.950"))
    assert till.balance() == (D("1000.00"), D("190.00"), D("810.00"))
    # the card rises a level between authorization and capture: the hold keeps its rate
    till.svc.scalar("update_points_and_level", p_card_id=till.card, p_delta_points=4000)
    assert balance_points(api, till.card)[1:] == (5000, 2, D("0.900"))
    assert fails(till.capture, hold["hold_no"], D("200.01")) == (BUSINESS, "CAPTURE_EXCEEDS_HOLD")
    paid = till.capture(hold["hold_no"], D("150.50"))
    # 150.50 × 0.950 = 142.975, rounded half away from zero
    assert (paid["final_amount"], paid["discount"]) == (D("142.98"), D("0.950"))
    assert balance_points(api, till.card) == (D("857.02"), 5150, 2, D("0.900"))
    assert till.balance() == (D("857.02"), D("0.00"), D("857.02"))
    assert hold_row(admin_sql, hold["hold_id"])["status"] == "captured"
    tx = admin_sql.execute("select raw_amount, discount_applied, points_earned from transactions where id = %s",
                           (paid["tx_id"],)).fetchone()
    assert tx == {"raw_amount": D("150.50"), "discount_applied": D("0.950"), "points_earned": 150}


def test_a_bound_members_hold_carries_the_corporate_discount(api, unique, merchant):
    owner, employee = make_member(api, unique[:-1] + "a"), make_member(api, unique[:-1] + "b")
    svc = api.as_service()
    corp = svc.scalar("create_corporate_card", p_owner_member_id=owner["id"], p_fixed_discount=D("0.750"))
    svc.scalar("bind_member_to_card", p_card_id=corp, p_member_id=employee["id"])
    till = Till(Shop(api, employee, merchant, amount="100.00"))
    hold = till.authorize(D("120"))
    assert (hold["amount"], hold["discount"]) == (D("90.00"), D("0.750"))
    assert till.balance() == (D("100.00"), D("90.00"), D("10.00"))
    assert fails(till.authorize, D("13.34")) == (BUSINESS, "INSUFFICIENT_BALANCE")  # 10.005 → 10.01 > 10.00
    assert till.authorize(D("13.33"))["amount"] == D("10.00")
    assert till.balance() == (D("100.00"), D("100.00"), D("0.00"))
    assert till.capture(hold["hold_no"], D("100"))["final_amount"] == D("75.00")
    assert till.balance() == (D("25.00"), D("10.00"), D("15.00"))


def test_void_releases_once(till):
    hold = till.authorize(D("300"))
    assert till.balance() == (D("1000.00"), D("300.00"), D("700.00"))
    assert till.void(hold["hold_no"]) is True
    assert till.balance() == (D("1000.00"), D("0.00"), D("1000.00"))
    assert till.void(hold["hold_no"]) is False
    assert fails(till.capture, hold["hold_no"]) == (BUSINESS, "HOLD_NOT_ACTIVE")
    assert till.statuses() == {hold["hold_no"]: "voided"}
    assert balance_points(till.shop.api, till.card)[:2] == (D("1000.00"), 0)


def test_a_captured_hold_cannot_be_captured_again_or_voided(api, till):
    hold = till.authorize(D("40"))
    till.capture(hold["hold_no"], D("10"))
    assert fails(till.capture, hold["hold_no"]) == (BUSINESS, "HOLD_NOT_ACTIVE")
    assert fails(till.capture, hold["hold_no"], D("10")) == (BUSINESS, "HOLD_NOT_ACTIVE")
    assert fails(till.void, hold["hold_no"]) == (BUSINESS, "HOLD_NOT_ACTIVE")
    assert balance_points(api, till.card)[:2] == (D("990.00"), 10)
    assert till.balance() == (D("990.00"), D("0.00"), D("990.00"))


def test_capture_replayed_with_its_key_returns_the_same_payment(api, admin_sql, till, unique):
    hold = till.authorize(D("80"))
    key = f"cap-{unique}"
    first = till.capture(hold["hold_no"], D("60"), p_idempotency_key=key)
    again = till.capture(hold["hold_no"], D("60"), p_idempotency_key=key)
    assert again == first and first["final_amount"] == D("60.00")
    assert balance_points(api, till.card)[:2] == (D("940.00"), 60)
    count = admin_sql.execute("select count(*) as n from transactions where card_id = %s and tx_type = 'payment'",
                              (till.card,)).fetchone()
    assert count["n"] == 1
    # without the key the hold is simply no longer active
    assert fails(till.capture, hold["hold_no"], D("60")) == (BUSINESS, "HOLD_NOT_ACTIVE")
    # the key names that capture: on another hold, or for another amount, it is refused
    other = till.authorize(D("10"))
    assert fails(till.capture, other["hold_no"], D("10"), p_idempotency_key=key) == \
        (BUSINESS, "IDEMPOTENCY_KEY_REUSED")
    assert fails(till.capture, hold["hold_no"], D("59"), p_idempotency_key=key) == \
        (BUSINESS, "IDEMPOTENCY_KEY_REUSED")
    assert till.balance() == (D("940.00"), D("10.00"), D("930.00"))


def test_authorize_replayed_with_its_key_holds_once(api, admin_sql, till, unique):
    qr, key, order = till.shop.qr(), f"auth-{unique}", f"order-{unique}"
    first = till.authorize(D("50"), qr=qr, p_idempotency_key=key, p_external_order_id=order)
    again = till.authorize(D("50"), qr=qr, p_idempotency_key=key, p_external_order_id=order)
    assert again == first
    assert till.balance() == (D("1000.00"), D("50.00"), D("950.00"))
    for other in [dict(raw=D("51"), qr=qr, p_external_order_id=order),
                  dict(raw=D("50"), qr=till.shop.qr(), p_external_order_id=order),
                  dict(raw=D("50"), qr=qr, p_external_order_id=f"other-{unique}")]:
        assert fails(till.authorize, p_idempotency_key=key, **other) == (BUSINESS, "IDEMPOTENCY_KEY_REUSED"), other
    assert admin_sql.execute("select count(*) as n from card_holds where card_id = %s",
                             (till.card,)).fetchone()["n"] == 1
    # keys are per merchant: another merchant's hold under the same key is its own
    till.svc.scalar("create_merchant", p_code=f"K{unique}", p_name="K")
    other = till.authorize(D("50"), code=f"K{unique}", p_idempotency_key=key)
    assert other["hold_id"] != first["hold_id"]
    assert till.balance() == (D("1000.00"), D("100.00"), D("900.00"))


def test_an_expired_hold_stops_counting_at_once(api, admin_sql, till):
    hold = till.authorize(D("300"))
    kept = till.authorize(D("100"))
    assert till.balance() == (D("1000.00"), D("400.00"), D("600.00"))
    expire(admin_sql, hold["hold_id"])
    # no job has run: the hold reads as expired and no longer holds anything
    assert till.balance() == (D("1000.00"), D("100.00"), D("900.00"))
    assert till.statuses() == {hold["hold_no"]: "expired", kept["hold_no"]: "active"}
    assert hold_row(admin_sql, hold["hold_id"])["status"] == "active"
    assert fails(till.capture, hold["hold_no"]) == (BUSINESS, "HOLD_EXPIRED")
    assert till.void(hold["hold_no"]) is False
    # the 300 it held can be spent
    assert till.shop.charge(D("900"))["final_amount"] == D("900.00")
    assert till.balance() == (D("100.00"), D("100.00"), D("0.00"))
    assert api.as_service().rows("verify_ledger") == []
    # the maintenance job writes down what already holds
    till.svc.scalar("cron_rotate_qr_tokens")
    assert hold_row(admin_sql, hold["hold_id"])["status"] == "expired"
    assert hold_row(admin_sql, kept["hold_id"])["status"] == "active"
    assert fails(till.capture, hold["hold_no"]) == (BUSINESS, "HOLD_EXPIRED")
    assert till.void(hold["hold_no"]) is False
    assert till.statuses() == {hold["hold_no"]: "expired", kept["hold_no"]: "active"}
    assert till.capture(kept["hold_no"])["final_amount"] == D("100.00")
    assert till.balance() == (D("0.00"), D("0.00"), D("0.00"))


@pytest.mark.parametrize("ttl, seconds", [(None, 900), (10, 60), (-5, 60), (3600, 3600), (10**7, 7 * 86400)],
                         ids=["default", "short", "negative", "hour", "long"])
def test_ttl_is_clamped_to_a_minute_and_a_week(till, ttl, seconds):
    extra = {} if ttl is None else {"p_ttl_seconds": ttl}
    hold = till.authorize(D("1"), **extra)
    assert seconds - 2 <= in_seconds(hold["expires_at"]) <= seconds
    if ttl is None:
        explicit_null = till.authorize(D("1"), p_ttl_seconds=None)
        assert seconds - 2 <= in_seconds(explicit_null["expires_at"]) <= seconds


def test_authorization_errors_are_a_charges(api, admin_sql, till, unique):
    svc, code = till.svc, till.code
    qr = till.shop.qr()
    for raw in [D("0"), D("-1"), D("0.004"), None, D("NaN"), D("10000000000000")]:
        assert fails(till.authorize, raw, qr=qr) == (BUSINESS, "INVALID_PRICE"), raw
    assert fails(till.authorize, D("1"), qr=qr, code="NOPE") == (BUSINESS, "MERCHANT_NOT_FOUND_OR_INACTIVE")
    assert fails(till.authorize, D("1"), qr="short") == (BUSINESS, "INVALID_QR")
    assert fails(till.authorize, D("1"), qr="A" * 44) == (BUSINESS, "QR_EXPIRED_OR_INVALID")
    assert fails(till.authorize, D("1000.01"), qr=qr) == (BUSINESS, "INSUFFICIENT_BALANCE")
    anon = api.as_anon()
    assert fails(till.authorize, D("1"), qr=qr, by=anon) == (PERMISSION, "NOT_AUTHENTICATED")
    svc.scalar("create_merchant", p_code=f"O{unique}", p_name="Other", p_password="other-pass-1")
    other = login_merchant(api, {"code": f"O{unique}", "password": "other-pass-1"})
    for sid in [other, login_member(api, till.shop.member)]:
        assert fails(till.authorize, D("1"), qr=qr, by=anon, p_session_id=sid) == \
            (PERMISSION, "NOT_AUTHORIZED_FOR_THIS_MERCHANT")
    svc.scalar("freeze_card", p_card_id=till.card)
    assert fails(till.authorize, D("1"), qr=qr) == (BUSINESS, "CARD_NOT_ACTIVE")
    svc.scalar("unfreeze_card", p_card_id=till.card)
    admin_sql.execute("update member_profiles set status = 'suspended' where id = %s", (till.shop.member["id"],))
    assert fails(till.authorize, D("1"), qr=qr) == (BUSINESS, "MEMBER_NOT_ACTIVE")
    admin_sql.execute("update member_profiles set status = 'active' where id = %s", (till.shop.member["id"],))
    corp = svc.scalar("create_corporate_card", p_owner_member_id=till.shop.member["id"], p_initial_balance=100)
    corp_qr = base64.b64encode(os.urandom(32)).decode()
    admin_sql.execute("insert into mps_internal.card_qr_tokens (card_id, token_hash, expires_at)"
                      " values (%s, encode(sha256(convert_to(%s, 'UTF8')), 'hex'), now() + interval '1 hour')",
                      (corp, corp_qr))
    assert fails(till.authorize, D("1"), qr=corp_qr) == (BUSINESS, "CORPORATE_CARD_CANNOT_PAY")
    voucher = svc.scalar("create_voucher_card", p_owner_member_id=till.shop.member["id"], p_initial_balance=10,
                         p_expires_at="2999-01-01T00:00:00Z")
    vqr = till.shop.qr(voucher)
    admin_sql.execute("update member_cards set expires_at = now() - interval '1 second' where id = %s", (voucher,))
    assert fails(till.authorize, D("1"), qr=vqr) == (BUSINESS, "CARD_EXPIRED")
    assert admin_sql.execute("select count(*) as n from card_holds where card_id = any(%s)",
                             ([till.card, corp, voucher],)).fetchone()["n"] == 0
    assert till.balance() == (D("1000.00"), D("0.00"), D("1000.00"))


def test_capture_and_void_errors(till):
    hold = till.authorize(D("50"))
    assert fails(till.capture, "HLD9999999999") == (BUSINESS, "HOLD_NOT_FOUND")
    assert fails(till.void, "HLD9999999999") == (BUSINESS, "HOLD_NOT_FOUND")
    till.svc.scalar("freeze_card", p_card_id=till.card)
    assert fails(till.capture, hold["hold_no"]) == (BUSINESS, "CARD_NOT_ACTIVE")
    till.svc.scalar("unfreeze_card", p_card_id=till.card)
    assert fails(till.capture, hold["hold_no"], D("50.01")) == (BUSINESS, "CAPTURE_EXCEEDS_HOLD")
    assert till.balance() == (D("1000.00"), D("50.00"), D("950.00"))
    assert till.capture(hold["hold_no"], D("50"))["final_amount"] == D("50.00")


def test_another_merchant_cannot_touch_the_hold(api, till, unique):
    svc, anon = till.svc, api.as_anon()
    hold = till.authorize(D("70"))
    svc.scalar("create_merchant", p_code=f"R{unique}", p_name="Rival", p_password="rival-pass-1")
    rival = login_merchant(api, {"code": f"R{unique}", "password": "rival-pass-1"})
    # under its own code, the hold is not there
    assert fails(till.capture, hold["hold_no"], code=f"R{unique}") == (BUSINESS, "HOLD_NOT_FOUND")
    assert fails(till.void, hold["hold_no"], code=f"R{unique}") == (BUSINESS, "HOLD_NOT_FOUND")
    assert fails(till.capture, hold["hold_no"], code=f"R{unique}", by=anon, p_session_id=rival) == \
        (BUSINESS, "HOLD_NOT_FOUND")
    # under the hold's merchant's code, its session is not that merchant's
    assert fails(till.capture, hold["hold_no"], by=anon, p_session_id=rival) == \
        (PERMISSION, "NOT_AUTHORIZED_FOR_THIS_MERCHANT")
    assert fails(till.void, hold["hold_no"], by=anon, p_session_id=rival) == \
        (PERMISSION, "NOT_AUTHORIZED_FOR_THIS_MERCHANT")
    assert till.balance() == (D("1000.00"), D("70.00"), D("930.00"))
    assert till.statuses() == {hold["hold_no"]: "active"}


def test_sessions_and_tokens_of_the_wrong_kind_are_refused(api, admin_sql, till):
    anon = api.as_anon()
    hold = till.authorize(D("20"))
    member_sid = login_member(api, till.shop.member)
    for by, extra in [(anon, {"p_session_id": member_sid}), (jwt_of(api, admin_sql, till.shop.member["id"]), {})]:
        assert fails(till.capture, hold["hold_no"], by=by, **extra)[0] == PERMISSION
        assert fails(till.void, hold["hold_no"], by=by, **extra)[0] == PERMISSION
        assert fails(till.authorize, D("1"), by=by, **extra)[0] == PERMISSION
    assert fails(till.capture, hold["hold_no"], by=anon) == (PERMISSION, "NOT_AUTHENTICATED")
    assert fails(till.void, hold["hold_no"], by=anon) == (PERMISSION, "NOT_AUTHENTICATED")
    assert fails(till.capture, hold["hold_no"], by=anon, p_session_id="A" * 43 + "=")[0] == PERMISSION
    assert till.balance() == (D("1000.00"), D("20.00"), D("980.00"))


def test_the_merchants_session_staff_and_super_admins_work_holds(api, admin_sql, till, database):
    anon, msid = api.as_anon(), login_merchant(api, till.shop.merchant)
    staff = staff_of(api, admin_sql, till.shop.merchant["id"])
    by_session = till.authorize(D("10"), by=anon, p_session_id=msid)
    by_staff = till.authorize(D("20"), by=staff)
    superuser = Api(database, user="postgres")
    try:
        by_superuser = till.authorize(D("30"), by=Request(superuser, None))
        assert till.capture(by_session["hold_no"], by=staff)["final_amount"] == D("10.00")
        assert till.capture(by_staff["hold_no"], D("5"), by=anon, p_session_id=msid)["final_amount"] == D("5.00")
        assert till.void(by_superuser["hold_no"], by=anon, p_session_id=msid) is True
        assert till.void(by_superuser["hold_no"], by=staff) is False
        assert till.void(by_superuser["hold_no"], by=Request(superuser, None)) is False
    finally:
        superuser.close()
    assert till.statuses() == {by_session["hold_no"]: "captured", by_staff["hold_no"]: "captured",
                               by_superuser["hold_no"]: "voided"}
    assert balance_points(api, till.card)[:2] == (D("985.00"), 15)


def test_charges_respect_holds(api, till):
    hold = till.authorize(D("900"))
    assert fails(till.shop.charge, D("100.01")) == (BUSINESS, "INSUFFICIENT_BALANCE")
    assert fails(till.authorize, D("100.01")) == (BUSINESS, "INSUFFICIENT_BALANCE")
    assert till.shop.charge(D("100"))["final_amount"] == D("100.00")
    assert till.balance() == (D("900.00"), D("900.00"), D("0.00"))
    assert fails(till.shop.charge, D("0.01")) == (BUSINESS, "INSUFFICIENT_BALANCE")
    assert till.void(hold["hold_no"]) is True
    assert till.shop.charge(D("500"))["final_amount"] == D("500.00")
    assert till.balance() == (D("400.00"), D("0.00"), D("400.00"))
    assert balance_points(api, till.card)[:2] == (D("400.00"), 600)


def test_a_captured_payment_refunds_like_any_payment(api, admin_sql, till):
    hold = till.authorize(D("100"))
    paid = till.capture(hold["hold_no"])
    first = till.shop.refund(paid["tx_no"], D("40"))
    assert first["refunded_amount"] == D("40.00") and first["refund_tx_no"].startswith("REF")
    assert balance_points(api, till.card)[:2] == (D("940.00"), 60)
    till.shop.refund(paid["tx_no"], D("60"))
    assert balance_points(api, till.card)[:2] == (D("1000.00"), 0)
    status = admin_sql.execute("select status::text from transactions where id = %s", (paid["tx_id"],)).fetchone()
    assert status == {"status": "refunded"}
    assert hold_row(admin_sql, hold["hold_id"])["status"] == "captured"
    assert fails(till.shop.refund, paid["tx_no"], D("0.01")) == (BUSINESS, "REFUND_EXCEEDS_REMAINING")
    assert till.balance() == (D("1000.00"), D("0.00"), D("1000.00"))


def test_single_use_codes_are_used_up_by_an_authorization(api, database, till, unique):
    superuser = Api(database, user="postgres")
    try:
        superuser.conn.execute("set mps.qr_single_use = on")
        superuser.conn.commit()
        svc = Request(superuser, SERVICE)
        qr, key = till.shop.qr(), f"once-{unique}"
        hold = till.authorize(D("10"), qr=qr, by=svc, p_idempotency_key=key)
        assert fails(till.authorize, D("10"), qr=qr, by=svc) == (BUSINESS, "QR_EXPIRED_OR_INVALID")
        assert fails(svc.rows, "merchant_charge_by_qr", p_merchant_code=till.code, p_qr_plain=qr,
                     p_raw_amount=D("1")) == (BUSINESS, "QR_EXPIRED_OR_INVALID")
        # a retry of the authorization is answered before the code is checked, as a charge's is
        assert till.authorize(D("10"), qr=qr, by=svc, p_idempotency_key=key) == hold
    finally:
        superuser.close()
    assert till.balance() == (D("1000.00"), D("10.00"), D("990.00"))


def test_card_balance_and_holds_per_caller(api, admin_sql, till, unique):
    anon = api.as_anon()
    svc = till.svc
    first = till.authorize(D("10"))
    second = till.authorize(D("25.50"), p_ttl_seconds=3600)
    # the owner (session and JWT) and super admins; a member bound to a card below
    expected_balance = [{"balance": D("1000.00"), "held": D("35.50"), "available": D("964.50")}]
    expected_holds = [(second["hold_no"], till.shop.merchant["id"], D("25.50"), "active"),
                      (first["hold_no"], till.shop.merchant["id"], D("10.00"), "active")]
    callers = [(anon, {"p_session_id": login_member(api, till.shop.member)}),
               (jwt_of(api, admin_sql, till.shop.member["id"]), {}), (svc, {})]
    for by, extra in callers:
        assert by.rows("get_card_balance", p_card_id=till.card, **extra) == expected_balance
        holds = by.rows("get_card_holds", p_card_id=till.card, **extra)
        assert [(h["hold_no"], h["merchant_id"], h["amount"], h["status"]) for h in holds] == expected_holds
        assert holds[0]["hold_id"] == second["hold_id"] and holds[0]["expires_at"] == second["expires_at"]
    # a member bound to a corporate card sees its balance; nothing is held on it
    corp = svc.scalar("create_corporate_card", p_owner_member_id=till.shop.member["id"], p_initial_balance=50)
    employee = make_member(api, unique[::-1])
    svc.scalar("bind_member_to_card", p_card_id=corp, p_member_id=employee["id"])
    employee_sid = login_member(api, employee)
    assert anon.rows("get_card_balance", p_card_id=corp, p_session_id=employee_sid) == \
        [{"balance": D("50.00"), "held": D("0.00"), "available": D("50.00")}]
    assert anon.rows("get_card_holds", p_card_id=corp, p_session_id=employee_sid) == []
    # others: a stranger sees no card, a merchant reads no card, anon must sign in
    stranger = login_member(api, make_member(api, uuid.uuid4().hex[:10]))
    merchant_sid = login_merchant(api, till.shop.merchant)
    for fn in ["get_card_balance", "get_card_holds"]:
        assert fails(anon.rows, fn, p_card_id=till.card, p_session_id=stranger) == (BUSINESS, "CARD_NOT_FOUND")
        assert fails(anon.rows, fn, p_card_id=till.card, p_session_id=employee_sid) == (BUSINESS, "CARD_NOT_FOUND")
        assert fails(anon.rows, fn, p_card_id=uuid.uuid4(), p_session_id=stranger) == (BUSINESS, "CARD_NOT_FOUND")
        state, message = fails(anon.rows, fn, p_card_id=till.card, p_session_id=merchant_sid)
        assert (state, message.split(":")[0]) == (PERMISSION, "PERMISSION_DENIED")
        assert fails(anon.rows, fn, p_card_id=till.card) == (PERMISSION, "NOT_AUTHENTICATED")


def test_merchant_holds_per_caller(api, admin_sql, till, unique):
    anon, svc = api.as_anon(), till.svc
    holds = [till.authorize(D(raw)) for raw in ["1", "2", "3"]]
    till.capture(holds[0]["hold_no"])
    till.void(holds[1]["hold_no"])
    expected = [(holds[2]["hold_no"], till.card, D("3.00"), "active"),
                (holds[1]["hold_no"], till.card, D("2.00"), "voided"),
                (holds[0]["hold_no"], till.card, D("1.00"), "captured")]
    msid = login_merchant(api, till.shop.merchant)
    staff = staff_of(api, admin_sql, till.shop.merchant["id"])
    for by, extra in [(anon, {"p_session_id": msid}), (staff, {}), (svc, {})]:
        rows = by.rows("get_merchant_holds", p_merchant_id=till.shop.merchant["id"], **extra)
        assert [(h["hold_no"], h["card_id"], h["amount"], h["status"]) for h in rows] == expected
        page = by.rows("get_merchant_holds", p_merchant_id=till.shop.merchant["id"], p_limit=1, p_offset=1, **extra)
        assert [h["hold_no"] for h in page] == [holds[1]["hold_no"]]
    svc.scalar("create_merchant", p_code=f"R{unique}", p_name="Rival", p_password="rival-pass-1")
    rival = login_merchant(api, {"code": f"R{unique}", "password": "rival-pass-1"})
    assert fails(anon.rows, "get_merchant_holds", p_merchant_id=till.shop.merchant["id"], p_session_id=rival) == \
        (PERMISSION, "NOT_AUTHORIZED_FOR_THIS_MERCHANT")
    assert fails(anon.rows, "get_merchant_holds", p_merchant_id=till.shop.merchant["id"],
                 p_session_id=login_member(api, till.shop.member))[0] == PERMISSION
    assert fails(anon.rows, "get_merchant_holds", p_merchant_id=till.shop.merchant["id"]) == \
        (PERMISSION, "NOT_AUTHENTICATED")


def test_table_rows_are_filtered_like_transactions(api, admin_sql, till, unique):
    member = jwt_of(api, admin_sql, till.shop.member["id"])
    staff = staff_of(api, admin_sql, till.shop.merchant["id"])
    mine = till.authorize(D("5"))
    # another member's hold at another merchant
    other_merchant = till.svc.scalar("create_merchant", p_code=f"T{unique}", p_name="T")
    other_shop = Shop(api, make_member(api, unique[::-1]), {"id": other_merchant, "code": f"T{unique}"},
                      amount="10.00")
    theirs = Till(other_shop).authorize(D("5"))
    seen = {who: {r["hold_no"] for r in req.execute("select hold_no from public.card_holds")}
            for who, req in [("member", member), ("staff", staff),
                             ("stranger", api.as_user(uuid.uuid4()))]}
    assert seen == {"member": {mine["hold_no"]}, "staff": {mine["hold_no"]}, "stranger": set()}
    assert {mine["hold_no"], theirs["hold_no"]} <= {
        r["hold_no"] for r in api.as_service().execute("select hold_no from public.card_holds")}
    assert fails(api.as_anon().execute, "select * from public.card_holds")[0] == PERMISSION


def test_argument_values_reach_their_own_columns(admin_sql, till, unique):
    hold = till.authorize(D("12.34"), p_idempotency_key=f"key-{unique}", p_external_order_id=f"ord-{unique}",
                          p_tag=Jsonb({"tag": unique}), p_ttl_seconds=120)
    row = hold_row(admin_sql, hold["hold_id"])
    assert (row["idempotency_key"], row["external_order_id"], row["tag"]) == \
        (f"key-{unique}", f"ord-{unique}", {"tag": unique})
    assert 118 <= in_seconds(hold["expires_at"]) <= 120
    paid = till.capture(hold["hold_no"], D("12.00"), p_idempotency_key=f"cap-{unique}", p_tag=Jsonb({"cap": 1}))
    tx = admin_sql.execute("select raw_amount, idempotency_key, tag from transactions where id = %s",
                           (paid["tx_id"],)).fetchone()
    assert tx == {"raw_amount": D("12.00"), "idempotency_key": f"cap-{unique}", "tag": {"cap": 1}}


def test_verify_ledger_checks_holds(api, admin_sql, till):
    captured = till.authorize(D("100"))
    till.capture(captured["hold_no"], D("80"))
    active = till.authorize(D("50"))
    paid = till.shop.charge(D("10"))
    refund = till.shop.refund(paid["tx_no"], D("5"))
    assert till.balance() == (D("915.00"), D("50.00"), D("865.00"))

    def found_after(statement, params):
        with admin_sql.transaction(force_rollback=True):
            admin_sql.execute(statement, params)
            return {(r["check_name"], r["expected"], r["actual"])
                    for r in admin_sql.execute("select * from verify_ledger()").fetchall()
                    if r["card_id"] == till.card}

    # the payment exceeds what its hold authorized
    assert found_after("update card_holds set amount = 79.99 where id = %s", (captured["hold_id"],)) == \
        {("hold_capture", "79.99", "80.00")}
    # a captured hold whose payment is no payment (a refund)
    assert found_after("update card_holds set capture_tx_id = %s where id = %s",
                       (refund["refund_tx_id"], captured["hold_id"])) == \
        {("hold_payment", "one payment", "a payment of another card or kind")}
    # more held than the card has
    assert found_after("update card_holds set amount = 915.01, raw_amount = 915.01 where id = %s",
                       (active["hold_id"],)) == {("hold_balance", "915.01", "915.00")}
    # a hold past its expiry holds nothing, whatever it held
    assert found_after("update card_holds set amount = 915.01, raw_amount = 915.01,"
                       " expires_at = now() - interval '1 second' where id = %s", (active["hold_id"],)) == set()
    assert api.as_service().rows("verify_ledger") == []


# --- concurrency: several real connections at once -------------------------------------------

def authorize_on(client, till, qr, raw):
    return client.as_service().rows("merchant_authorize_by_qr", p_merchant_code=till.code, p_qr_plain=qr,
                                    p_raw_amount=raw)[0]


def test_eight_concurrent_authorizations_of_30_on_100(api, database, member, merchant):
    till = Till(Shop(api, member, merchant, amount="100.00"))
    qr = till.shop.qr()
    results = run_concurrently(database, 8, lambda c, i: authorize_on(c, till, qr, D("30")))
    ok = [r for kind, r in results if kind == "ok"]
    assert len(ok) == 3 and all(r["amount"] == D("30.00") for r in ok)
    assert [r for kind, r in results if kind == "error"] == [(BUSINESS, "INSUFFICIENT_BALANCE")] * 5
    assert len({r["hold_no"] for r in ok}) == 3
    assert till.balance() == (D("100.00"), D("90.00"), D("10.00"))


def test_concurrent_charges_and_authorizations_never_exceed_the_balance(api, database, member, merchant):
    till = Till(Shop(api, member, merchant, amount="100.00"))
    qr = till.shop.qr()

    def work(client, i):
        if i % 2:
            return "hold", authorize_on(client, till, qr, D("30"))
        return "payment", client.as_service().rows("merchant_charge_by_qr", p_merchant_code=till.code,
                                                   p_qr_plain=qr, p_raw_amount=D("30"))[0]

    results = run_concurrently(database, 8, work)
    ok = [r for kind, r in results if kind == "ok"]
    assert len(ok) == 3
    assert [r for kind, r in results if kind == "error"] == [(BUSINESS, "INSUFFICIENT_BALANCE")] * 5
    paid = sum(1 for what, _ in ok if what == "payment")
    held = sum(1 for what, _ in ok if what == "hold")
    assert till.balance() == (D("100.00") - 30 * paid, D("30.00") * held, D("10.00"))
    assert balance_points(api, till.card)[:2] == (D("100.00") - 30 * paid, 30 * paid)


def test_concurrent_captures_and_voids_of_one_hold_settle_it_once(api, database, till):
    hold = till.authorize(D("50"))

    def work(client, i):
        svc = client.as_service()
        if i % 2:
            return svc.scalar("merchant_void_hold", p_merchant_code=till.code, p_hold_no=hold["hold_no"])
        return svc.rows("merchant_capture_hold", p_merchant_code=till.code, p_hold_no=hold["hold_no"])[0]["tx_no"]

    results = run_concurrently(database, 8, work)
    captures, voids = results[0::2], results[1::2]
    captured = [r for kind, r in captures if kind == "ok"]
    released = [r for kind, r in voids if kind == "ok" and r is True]
    assert len(captured) + len(released) == 1, results
    assert [r for kind, r in captures if kind == "error"] == [(BUSINESS, "HOLD_NOT_ACTIVE")] * (4 - len(captured))
    if captured:
        assert voids == [("error", (BUSINESS, "HOLD_NOT_ACTIVE"))] * 4
        assert till.balance() == (D("950.00"), D("0.00"), D("950.00"))
        assert till.statuses() == {hold["hold_no"]: "captured"}
    else:
        assert sorted(voids) == [("ok", False)] * 3 + [("ok", True)]
        assert till.balance() == (D("1000.00"), D("0.00"), D("1000.00"))
        assert till.statuses() == {hold["hold_no"]: "voided"}


def test_concurrent_retries_of_one_capture_make_one_payment(admin_sql, database, till, unique):
    hold, key = till.authorize(D("40")), f"burst-capture-{unique}"
    results = run_concurrently(database, 8, lambda c, i: c.as_service().rows(
        "merchant_capture_hold", p_merchant_code=till.code, p_hold_no=hold["hold_no"], p_raw_amount=D("25"),
        p_idempotency_key=key)[0])
    assert all(kind == "ok" for kind, _ in results), results
    assert len({r["tx_id"] for _, r in results}) == 1
    assert admin_sql.execute("select count(*) as n from transactions where card_id = %s and tx_type = 'payment'",
                             (till.card,)).fetchone()["n"] == 1
    assert till.balance() == (D("975.00"), D("0.00"), D("975.00"))


def test_concurrent_retries_of_one_authorization_make_one_hold(admin_sql, database, till, unique):
    qr, key = till.shop.qr(), f"burst-hold-{unique}"
    results = run_concurrently(database, 8, lambda c, i: c.as_service().rows(
        "merchant_authorize_by_qr", p_merchant_code=till.code, p_qr_plain=qr, p_raw_amount=D("10"),
        p_idempotency_key=key)[0])
    assert all(kind == "ok" for kind, _ in results), results
    assert len({r["hold_id"] for _, r in results}) == 1
    assert admin_sql.execute("select count(*) as n from card_holds where card_id = %s",
                             (till.card,)).fetchone()["n"] == 1
    assert till.balance() == (D("1000.00"), D("10.00"), D("990.00"))
