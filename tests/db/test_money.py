"""Money movements: charges by QR, refunds, recharges, points, levels, idempotency,
concurrency. Every test ends with verify_ledger() returning no rows (conftest)."""

import base64
import os
import threading
import uuid
from datetime import datetime, timezone
from decimal import Decimal

import psycopg
import pytest

from conftest import Shop, login_member, login_merchant, make_member
from mps import Api, fails

PERMISSION = "42501"
BUSINESS = "P0001"
D = Decimal



def balance_points(api, card_id):
    row = api.as_service().execute("select balance, points, level, discount from public.member_cards where id = %s",
                                   (card_id,))[0]
    return row["balance"], row["points"], row["level"], row["discount"]


def test_contract_full_payment_flow(api, shop):
    assert balance_points(api, shop.card)[:2] == (D("1000.00"), 0)
    paid = shop.charge(D("100.00"))
    assert (paid["final_amount"], paid["discount"], paid["card_id"]) == (D("100.00"), D("1.000"), shop.card)
    assert paid["tx_no"].startswith("PAY") and len(paid["tx_no"]) == 13
    assert balance_points(api, shop.card) == (D("900.00"), 100, 0, D("1.000"))
    tx = api.as_service().rows("merchant_charge_by_qr", p_merchant_code=shop.merchant["code"],
                               p_qr_plain=shop.qr(), p_raw_amount="0.005")[0]
    assert (tx["final_amount"], balance_points(api, shop.card)[0]) == (D("0.01"), D("899.99"))


def test_updated_at_is_stamped_unless_the_update_sets_it(admin_sql, shop):
    """A charge stamps its card (the movement sets updated_at itself, sparing the trigger); an
    UPDATE that leaves updated_at alone is stamped by the trigger; one that sets it keeps it."""
    def stamp():
        return admin_sql.execute("select updated_at from public.member_cards where id = %s",
                                 (shop.card,)).fetchone()["updated_at"]

    past = datetime(2001, 2, 3, 4, 5, 6, tzinfo=timezone.utc)
    admin_sql.execute("update public.member_cards set updated_at = %s where id = %s", (past, shop.card))
    assert stamp() == past
    shop.charge(D("10"))
    charged = stamp()
    assert charged > past
    assert admin_sql.execute("select %s::timestamptz > now() - interval '1 minute' as recent",
                             (charged,)).fetchone()["recent"]
    admin_sql.execute("update public.member_cards set corporate_discount = corporate_discount where id = %s",
                      (shop.card,))
    assert stamp() > charged


def test_contract_refunds_with_merchant_session(api, shop):
    paid = shop.charge(D("300"))
    assert balance_points(api, shop.card)[:2] == (D("700.00"), 300)
    msid = login_merchant(api, shop.merchant)
    anon = api.as_anon()
    r1 = anon.rows("merchant_refund_tx", p_merchant_code=shop.merchant["code"], p_original_tx_no=paid["tx_no"],
                   p_refund_amount=D("100"), p_session_id=msid)[0]
    assert r1["refunded_amount"] == D("100.00") and r1["refund_tx_no"].startswith("REF")
    assert balance_points(api, shop.card)[:2] == (D("800.00"), 200)  # a third of the points go back
    anon.rows("merchant_refund_tx", p_merchant_code=shop.merchant["code"], p_original_tx_no=paid["tx_no"],
              p_refund_amount=D("50"), p_session_id=msid)
    assert balance_points(api, shop.card)[:2] == (D("850.00"), 150)
    # remaining is 150: asking for remaining + 100 fails
    assert fails(anon.rows, "merchant_refund_tx", p_merchant_code=shop.merchant["code"],
                 p_original_tx_no=paid["tx_no"], p_refund_amount=D("250"), p_session_id=msid) == \
        (BUSINESS, "REFUND_EXCEEDS_REMAINING")
    rows = api.as_service().execute(
        "select status::text, original_tx_id, reason from public.transactions where id = %s", (r1["refund_tx_id"],))
    assert rows == [{"status": "completed", "original_tx_id": paid["tx_id"], "reason": paid["tx_no"]}]
    # the last refund uses the remainder up: the payment becomes refunded, every point is back
    shop.refund(paid["tx_no"], D("150.00"))
    assert balance_points(api, shop.card)[:2] == (D("1000.00"), 0)
    status = api.as_service().execute("select status::text from public.transactions where id = %s", (paid["tx_id"],))
    assert status == [{"status": "refunded"}]
    assert fails(shop.refund, paid["tx_no"], D("0.01")) == (BUSINESS, "REFUND_EXCEEDS_REMAINING")


def test_contract_corporate_discounts(api, unique, merchant):
    """The original's case (docs/contract.md, "Corporate discount 0.750"): a 0.750 corporate
    card owned by member 1; members 2 and 3 bind."""
    svc = api.as_service()
    m1, m2, m3 = (make_member(api, unique[:-1] + c) for c in "abc")
    shops = [Shop(api, m, merchant) for m in (m1, m2, m3)]
    corp = svc.scalar("create_corporate_card", p_owner_member_id=m1["id"], p_fixed_discount=D("0.750"))
    svc.scalar("set_card_binding_password", p_card_id=corp, p_password="corp123")
    for m in (m2, m3):
        api.as_anon().scalar("bind_member_to_card", p_card_id=corp, p_member_id=m["id"],
                             p_binding_password="corp123", p_session_id=login_member(api, m))
    assert [s.charge(D(raw))["final_amount"] for s, raw in zip(shops, ["100", "200", "150"])] == \
        [D("100.00"), D("150.00"), D("112.50")]
    api.as_anon().scalar("unbind_member_from_card", p_card_id=corp, p_member_id=m2["id"],
                         p_session_id=login_member(api, m2))
    assert shops[1].charge(D("100"))["final_amount"] == D("100.00")
    assert shops[2].charge(D("100"))["final_amount"] == D("75.00")
    # the original's case (docs/contract.md, "Corporate discount 0.800"): a 0.800 card gives 80.00 on 100
    corp8 = svc.scalar("create_corporate_card", p_owner_member_id=m1["id"], p_fixed_discount=D("0.800"))
    svc.scalar("bind_member_to_card", p_card_id=corp8, p_member_id=m2["id"])
    assert shops[1].charge(D("100"))["final_amount"] == D("80.00")


def test_levels_rise_with_points_and_discount_applies_to_the_next_payment(api, shop):
    shop.svc.rows("user_recharge_card", p_card_id=shop.card, p_amount=D("10000"))
    first = shop.charge(D("1000"))
    assert first["final_amount"] == D("1000.00")  # this payment's points count from the next one
    assert balance_points(api, shop.card)[1:] == (1000, 1, D("0.950"))
    second = shop.charge(D("150"))
    assert (second["final_amount"], second["discount"]) == (D("142.50"), D("0.950"))
    ledger = api.as_service().rows("get_point_ledger", p_card_id=shop.card)
    assert [(r["change"], r["balance_before"], r["balance_after"], r["reason"]) for r in ledger] == \
        [(150, 1000, 1150, "payment_earn"), (1000, 0, 1000, "payment_earn")]


def test_voucher_pays_without_discount_or_points(api, member, merchant):
    svc = api.as_service()
    shop = Shop(api, member, merchant, amount=None)
    voucher = svc.scalar("create_voucher_card", p_owner_member_id=member["id"], p_initial_balance=D("100"))
    corp = svc.scalar("create_corporate_card", p_owner_member_id=member["id"], p_fixed_discount="0.5")
    paid = shop.charge(D("60"), card=voucher)
    assert (paid["final_amount"], paid["discount"]) == (D("60.00"), D("1.000"))
    assert balance_points(api, voucher)[:2] == (D("40.00"), 0)
    assert fails(shop.charge, D("50"), card=voucher) == (BUSINESS, "INSUFFICIENT_BALANCE")
    assert fails(svc.rows, "user_recharge_card", p_card_id=voucher, p_amount=D("10")) == \
        (BUSINESS, "UNSUPPORTED_CARD_TYPE_FOR_RECHARGE")
    assert fails(svc.scalar, "update_points_and_level", p_card_id=corp, p_delta_points=5) == \
        (BUSINESS, "UNSUPPORTED_CARD_TYPE_FOR_POINTS")


def test_charge_errors(api, admin_sql, shop, unique):
    svc, code = shop.svc, shop.merchant["code"]
    qr = shop.qr()
    for raw in [D("0"), D("-1"), D("0.004"), None, D("NaN"), D("10000000000000")]:
        assert fails(svc.rows, "merchant_charge_by_qr", p_merchant_code=code, p_qr_plain=qr, p_raw_amount=raw) == \
            (BUSINESS, "INVALID_PRICE"), raw
    assert fails(svc.rows, "merchant_charge_by_qr", p_merchant_code="NOPE", p_qr_plain=qr, p_raw_amount=1) == \
        (BUSINESS, "MERCHANT_NOT_FOUND_OR_INACTIVE")
    other = svc.scalar("create_merchant", p_code=f"O{unique}", p_name="Other", p_password="other-pass-1")
    osid = login_merchant(api, {"code": f"O{unique}", "password": "other-pass-1"})
    for sid in [osid, login_member(api, shop.member)]:
        assert fails(api.as_anon().rows, "merchant_charge_by_qr", p_merchant_code=code, p_qr_plain=qr,
                     p_raw_amount=1, p_session_id=sid) == (PERMISSION, "NOT_AUTHORIZED_FOR_THIS_MERCHANT")
    assert fails(api.as_anon().rows, "merchant_charge_by_qr", p_merchant_code=code, p_qr_plain=qr,
                 p_raw_amount=1) == (PERMISSION, "NOT_AUTHENTICATED")
    assert fails(svc.rows, "merchant_charge_by_qr", p_merchant_code=code, p_qr_plain="short", p_raw_amount=1) == \
        (BUSINESS, "INVALID_QR")
    assert fails(svc.rows, "merchant_charge_by_qr", p_merchant_code=code, p_qr_plain="A" * 44, p_raw_amount=1) == \
        (BUSINESS, "QR_EXPIRED_OR_INVALID")
    assert fails(shop.charge, D("1000.01"), qr=qr) == (BUSINESS, "INSUFFICIENT_BALANCE")
    # the merchant learns that the card cannot pay, not what is on it
    with pytest.raises(psycopg.Error) as e:
        api.as_anon().rows("merchant_charge_by_qr", p_merchant_code=code, p_qr_plain=qr, p_raw_amount=D("1500"),
                           p_session_id=login_merchant(api, shop.merchant))
    assert (e.value.sqlstate, e.value.diag.message_primary, e.value.diag.message_detail) == \
        (BUSINESS, "INSUFFICIENT_BALANCE", "the card's available balance does not cover the amount due 1500.00")
    svc.scalar("freeze_card", p_card_id=shop.card)
    assert fails(shop.charge, D("1"), qr=qr) == (BUSINESS, "CARD_NOT_ACTIVE")
    svc.scalar("unfreeze_card", p_card_id=shop.card)
    admin_sql.execute("update member_profiles set status = 'suspended' where id = %s", (shop.member["id"],))
    assert fails(shop.charge, D("1"), qr=qr) == (BUSINESS, "MEMBER_NOT_ACTIVE")
    assert fails(svc.rows, "user_recharge_card", p_card_id=shop.card, p_amount=1) == (BUSINESS, "MEMBER_NOT_ACTIVE")
    admin_sql.execute("update member_profiles set status = 'active' where id = %s", (shop.member["id"],))
    admin_sql.execute("update merchants set status = 'inactive' where id = %s", (other,))
    assert fails(api.as_anon().rows, "merchant_charge_by_qr", p_merchant_code=f"O{unique}", p_qr_plain=qr,
                 p_raw_amount=1, p_session_id=osid)[0] == PERMISSION  # its session died with it
    # a corporate card cannot pay, even holding a code
    corp = svc.scalar("create_corporate_card", p_owner_member_id=shop.member["id"], p_initial_balance=100)
    corp_token = base64.b64encode(os.urandom(32)).decode()
    admin_sql.execute("insert into mps_internal.card_qr_tokens (card_id, token_hash, expires_at)"
                      " values (%s, encode(sha256(convert_to(%s, 'UTF8')), 'hex'), now() + interval '1 hour')",
                      (corp, corp_token))
    assert fails(shop.charge, D("1"), qr=corp_token) == (BUSINESS, "CORPORATE_CARD_CANNOT_PAY")
    # an expired voucher
    voucher = svc.scalar("create_voucher_card", p_owner_member_id=shop.member["id"], p_initial_balance=10,
                         p_expires_at="2999-01-01T00:00:00Z")
    vqr = shop.qr(voucher)
    admin_sql.execute("update member_cards set expires_at = now() - interval '1 second' where id = %s", (voucher,))
    assert fails(shop.charge, D("1"), qr=vqr) == (BUSINESS, "CARD_EXPIRED")
    assert balance_points(api, shop.card)[:2] == (D("1000.00"), 0)


def test_refund_and_recharge_errors(api, admin_sql, shop, unique):
    svc = shop.svc
    paid = shop.charge(D("100"))
    for amount in [D("0"), D("-5"), None, D("0.001")]:
        assert fails(shop.refund, paid["tx_no"], amount) == (BUSINESS, "INVALID_REFUND_AMOUNT"), amount
    assert fails(shop.refund, "PAY9999999999", D("1")) == (BUSINESS, "ORIGINAL_TX_NOT_FOUND")
    svc.scalar("create_merchant", p_code=f"X{unique}", p_name="X")
    assert fails(svc.rows, "merchant_refund_tx", p_merchant_code=f"X{unique}", p_original_tx_no=paid["tx_no"],
                 p_refund_amount=1) == (BUSINESS, "ORIGINAL_TX_NOT_FOUND")
    refund = shop.refund(paid["tx_no"], D("10"))
    assert fails(shop.refund, refund["refund_tx_no"], D("1")) == (BUSINESS, "ONLY_COMPLETED_PAYMENT_REFUNDABLE")
    assert fails(shop.refund, paid["tx_no"], D("90.01")) == (BUSINESS, "REFUND_EXCEEDS_REMAINING")
    svc.scalar("freeze_card", p_card_id=shop.card)
    assert fails(shop.refund, paid["tx_no"], D("1")) == (BUSINESS, "CARD_NOT_ACTIVE")
    assert fails(svc.rows, "user_recharge_card", p_card_id=shop.card, p_amount=1) == \
        (BUSINESS, "CARD_NOT_FOUND_OR_INACTIVE")
    svc.scalar("unfreeze_card", p_card_id=shop.card)
    for amount in [D("0"), D("-1"), None, D("Infinity")]:
        assert fails(svc.rows, "user_recharge_card", p_card_id=shop.card, p_amount=amount) == \
            (BUSINESS, "INVALID_RECHARGE_AMOUNT"), amount
    assert fails(svc.rows, "user_recharge_card", p_card_id=shop.card, p_amount=D("9999999999")) == \
        (BUSINESS, "INVALID_RECHARGE_AMOUNT")
    assert fails(svc.rows, "user_recharge_card", p_card_id=uuid.uuid4(), p_amount=1) == \
        (BUSINESS, "CARD_NOT_FOUND_OR_INACTIVE")


def test_refund_cannot_lift_the_balance_beyond_numeric_12_2(api, shop):
    """Found by test_money_model.py: the card was recharged up to the limit after it paid; the
    refund used to fail with a raw 22003 numeric field overflow."""
    paid = shop.charge(D("100"))
    shop.svc.rows("user_recharge_card", p_card_id=shop.card, p_amount=D("9999999999.99") - D("900.00"))
    with pytest.raises(psycopg.Error) as e:
        shop.refund(paid["tx_no"], D("0.01"))
    assert (e.value.sqlstate, e.value.diag.message_primary, e.value.diag.message_detail) == \
        (BUSINESS, "INVALID_REFUND_AMOUNT", "the balance would exceed 9999999999.99")
    assert balance_points(api, shop.card)[:2] == (D("9999999999.99"), 100)
    shop.charge(D("0.01"))
    assert shop.refund(paid["tx_no"], D("0.01"))["refunded_amount"] == D("0.01")


def test_who_may_recharge(api, shop, unique, merchant):
    anon = api.as_anon()
    assert fails(anon.rows, "user_recharge_card", p_card_id=shop.card, p_amount=10) == (PERMISSION, "NOT_AUTHENTICATED")
    other = login_member(api, make_member(api, unique[::-1]))
    # another member's card looks like a missing one
    assert fails(anon.rows, "user_recharge_card", p_card_id=shop.card, p_amount=10, p_session_id=other) == \
        (BUSINESS, "CARD_NOT_FOUND_OR_INACTIVE")
    assert fails(anon.rows, "user_recharge_card", p_card_id=shop.card, p_amount=10,
                 p_session_id=login_merchant(api, merchant))[0] == PERMISSION
    mine = anon.rows("user_recharge_card", p_card_id=shop.card, p_amount=D("25.50"), p_payment_method="alipay",
                     p_session_id=login_member(api, shop.member))[0]
    assert mine["amount"] == D("25.50") and mine["tx_no"].startswith("RCG")
    row = api.as_service().execute("select payment_method::text, merchant_id, reason, status::text"
                                   " from public.transactions where id = %s", (mine["tx_id"],))
    assert row == [{"payment_method": "alipay", "merchant_id": None, "reason": "recharge", "status": "processing"}]
    # the owner's own request waits for its payment (test_pending_recharges.py)
    assert balance_points(api, shop.card)[0] == D("1000.00")


def test_idempotent_payments(api, admin_sql, shop, unique):
    qr, key = shop.qr(), f"payment-{unique}"
    first = shop.charge(D("120"), qr=qr, p_idempotency_key=key, p_external_order_id=f"order-{unique}")
    again = shop.charge(D("120"), qr=qr, p_idempotency_key=key, p_external_order_id=f"order-{unique}")
    assert again == first
    assert balance_points(api, shop.card)[0] == D("880.00")
    row = admin_sql.execute("select idempotency_key, external_order_id from transactions where id = %s",
                            (first["tx_id"],)).fetchone()
    assert row == {"idempotency_key": key, "external_order_id": f"order-{unique}"}
    # a replay comes before QR validation: it works after the code rotated, and after a refund
    shop.qr()
    shop.refund(first["tx_no"], D("120"))
    assert shop.charge(D("120"), qr=qr, p_idempotency_key=key, p_external_order_id=f"order-{unique}") == first
    # same key, different request
    assert fails(shop.charge, D("121"), qr=qr, p_idempotency_key=key, p_external_order_id=f"order-{unique}") == \
        (BUSINESS, "IDEMPOTENCY_KEY_REUSED")
    # the external order id alone deduplicates too
    assert shop.charge(D("120"), qr=qr, p_external_order_id=f"order-{unique}") == first
    assert fails(shop.charge, D("5"), p_external_order_id=f"order-{unique}") == (BUSINESS, "EXTERNAL_ORDER_ID_REUSED")
    # keys are scoped per merchant: another merchant may use the same key
    svc = shop.svc
    svc.scalar("create_merchant", p_code=f"K{unique}", p_name="K")
    other = svc.rows("merchant_charge_by_qr", p_merchant_code=f"K{unique}", p_qr_plain=shop.qr(),
                     p_raw_amount=D("120"), p_idempotency_key=key)[0]
    assert other["tx_id"] != first["tx_id"]


def test_idempotent_recharges(api, shop, unique):
    svc = shop.svc
    a = svc.rows("user_recharge_card", p_card_id=shop.card, p_amount=D("100.005"), p_idempotency_key=f"r-{unique}")[0]
    b = svc.rows("user_recharge_card", p_card_id=shop.card, p_amount=D("100.005"), p_idempotency_key=f"r-{unique}")[0]
    assert a == b and a["amount"] == D("100.01")
    assert fails(svc.rows, "user_recharge_card", p_card_id=shop.card, p_amount=D("99"),
                 p_idempotency_key=f"r-{unique}") == (BUSINESS, "IDEMPOTENCY_KEY_REUSED")
    c = svc.rows("user_recharge_card", p_card_id=shop.card, p_amount=5, p_external_order_id=f"o-{unique}")[0]
    assert svc.rows("user_recharge_card", p_card_id=shop.card, p_amount=5, p_external_order_id=f"o-{unique}")[0] == c
    assert balance_points(api, shop.card)[0] == D("1105.01")


def test_idempotent_refunds(api, admin_sql, shop, unique):
    """A refund retried with its key pays out once: the same row comes back, even when nothing
    is left to refund; the key with another original or amount is refused; a refund without a
    key is not deduplicated (the contract's calls keep working)."""
    paid = shop.charge(D("100.00"))
    key = f"rf-{unique}"
    first = shop.refund(paid["tx_no"], D("40.00"), p_idempotency_key=key)
    again = shop.refund(paid["tx_no"], D("40.00"), p_idempotency_key=key)
    assert again == first and first["refunded_amount"] == D("40.00")
    assert balance_points(api, shop.card)[0] == D("940.00")
    assert fails(shop.refund, paid["tx_no"], D("30.00"), p_idempotency_key=key) == (BUSINESS, "IDEMPOTENCY_KEY_REUSED")
    other = shop.charge(D("10.00"))
    assert fails(shop.refund, other["tx_no"], D("40.00"), p_idempotency_key=key) == \
        (BUSINESS, "IDEMPOTENCY_KEY_REUSED")
    # the rest goes back; the first refund's retry still replays, though nothing is left
    rest = shop.refund(paid["tx_no"], D("60.00"), p_idempotency_key=f"rest-{unique}")
    assert shop.refund(paid["tx_no"], D("40.00"), p_idempotency_key=key) == first
    assert shop.refund(paid["tx_no"], D("60.00"), p_idempotency_key=f"rest-{unique}") == rest
    assert fails(shop.refund, paid["tx_no"], D("0.01")) == (BUSINESS, "REFUND_EXCEEDS_REMAINING")
    assert balance_points(api, shop.card)[0] == D("990.00")
    row = admin_sql.execute("select idempotency_key, status::text from transactions where id = %s",
                            (first["refund_tx_id"],)).fetchone()
    assert row == {"idempotency_key": key, "status": "completed"}
    # without a key, two identical refunds are two refunds
    small = shop.charge(D("20.00"))
    a, b = shop.refund(small["tx_no"], D("5.00")), shop.refund(small["tx_no"], D("5.00"))
    assert a["refund_tx_id"] != b["refund_tx_id"]
    assert balance_points(api, shop.card)[0] == D("990.00") - D("20.00") + D("10.00")


def test_concurrent_refund_retries_make_one_refund(api, admin_sql, database, shop, unique):
    paid = shop.charge(D("50.00"))
    key = f"burst-rf-{unique}"
    results = run_concurrently(database, 8, lambda c, i: c.as_service().rows(
        "merchant_refund_tx", p_merchant_code=shop.merchant["code"], p_original_tx_no=paid["tx_no"],
        p_refund_amount=D("30.00"), p_idempotency_key=key)[0])
    assert all(kind == "ok" for kind, _ in results), results
    assert len({r["refund_tx_id"] for _, r in results}) == 1
    count = admin_sql.execute("select count(*) as n from transactions where original_tx_id = %s",
                              (paid["tx_id"],)).fetchone()
    assert count["n"] == 1
    assert balance_points(api, shop.card)[0] == D("980.00")


def test_manual_points(api, shop):
    svc = shop.svc
    assert svc.scalar("update_points_and_level", p_card_id=shop.card, p_delta_points=5200) is True
    assert balance_points(api, shop.card)[1:] == (5200, 2, D("0.900"))
    svc.scalar("update_points_and_level", p_card_id=shop.card, p_delta_points=-999999, p_reason="correction")
    assert balance_points(api, shop.card)[1:] == (0, 0, D("1.000"))
    ledger = svc.rows("get_point_ledger", p_card_id=shop.card, p_limit=1)
    assert [(r["change"], r["balance_after"], r["reason"]) for r in ledger] == [(-5200, 0, "correction")]
    sid = login_member(api, shop.member)
    for reason in ["manual_adjust", "promo", None]:
        assert fails(api.as_anon().scalar, "update_points_and_level", p_card_id=shop.card, p_delta_points=20000,
                     p_reason=reason, p_session_id=sid)[0] == PERMISSION
    assert fails(svc.scalar, "update_points_and_level", p_card_id=uuid.uuid4(), p_delta_points=1) == \
        (BUSINESS, "CARD_NOT_FOUND_OR_INACTIVE")


def test_compute_level_and_discount(api):
    anon = api.as_anon()
    for points, level, discount in [(999, 0, "1.000"), (1000, 1, "0.950"), (4999, 1, "0.950"), (5000, 2, "0.900"),
                                    (10000, 3, "0.850"), (-5, 0, "1.000")]:
        assert anon.scalar("compute_level", p_points=points) == level
        assert anon.scalar("compute_discount", p_points=points) == D(discount)


def test_point_ledger_access(api, shop, unique):
    shop.charge(D("10"))
    mine = api.as_anon().rows("get_point_ledger", p_card_id=shop.card, p_session_id=login_member(api, shop.member))
    assert [r["change"] for r in mine] == [10]
    other = login_member(api, make_member(api, unique[::-1]))
    assert fails(api.as_anon().rows, "get_point_ledger", p_card_id=shop.card, p_session_id=other) == \
        (BUSINESS, "CARD_NOT_FOUND")
    assert fails(api.as_anon().rows, "get_point_ledger", p_card_id=shop.card) == (PERMISSION, "NOT_AUTHENTICATED")


def test_verify_ledger_finds_tampering(api, admin_sql, shop):
    shop.charge(D("10"))
    admin_sql.execute("update member_cards set balance = balance + 1, points = points + 3 where id = %s", (shop.card,))
    found = {(r["check_name"], r["expected"], r["actual"]) for r in api.as_service().rows("verify_ledger")
             if r["card_id"] == shop.card}
    assert found == {("balance", "990.00", "991.00"), ("points", "10", "13")}
    assert fails(api.as_anon().rows, "verify_ledger")[0] == PERMISSION
    admin_sql.execute("update member_cards set balance = balance - 1, points = points - 3 where id = %s", (shop.card,))


# --- concurrency: several real connections at once -------------------------------------------

def run_concurrently(database, n, work):
    """Runs work(api, i) on n connections released together; returns results or errors."""
    clients = [Api(database) for _ in range(n)]
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        barrier.wait()
        try:
            results[i] = ("ok", work(clients[i], i))
        except psycopg.Error as e:
            results[i] = ("error", (e.sqlstate, e.diag.message_primary))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in clients:
        c.close()
    return results


def test_ten_concurrent_charges_of_200_on_1000(api, database, shop):
    qr = shop.qr()
    results = run_concurrently(database, 10, lambda c, i: c.as_service().rows(
        "merchant_charge_by_qr", p_merchant_code=shop.merchant["code"], p_qr_plain=qr, p_raw_amount=D("200"))[0])
    ok = [r for kind, r in results if kind == "ok"]
    errors = [r for kind, r in results if kind == "error"]
    assert len(ok) == 5 and all(r["final_amount"] == D("200.00") for r in ok)
    assert errors == [(BUSINESS, "INSUFFICIENT_BALANCE")] * 5
    assert balance_points(api, shop.card)[:2] == (D("0.00"), 1000)


def test_two_concurrent_refunds_cannot_exceed_the_payment(api, database, shop):
    paid = shop.charge(D("100"))
    results = run_concurrently(database, 2, lambda c, i: c.as_service().rows(
        "merchant_refund_tx", p_merchant_code=shop.merchant["code"], p_original_tx_no=paid["tx_no"],
        p_refund_amount=D("60"))[0])
    kinds = sorted(kind for kind, _ in results)
    assert kinds == ["error", "ok"]
    assert [r for kind, r in results if kind == "error"] == [(BUSINESS, "REFUND_EXCEEDS_REMAINING")]
    assert balance_points(api, shop.card)[0] == D("960.00")


def test_same_idempotency_key_from_eight_connections(api, admin_sql, database, shop, unique):
    qr, key = shop.qr(), f"burst-{unique}"
    results = run_concurrently(database, 8, lambda c, i: c.as_service().rows(
        "merchant_charge_by_qr", p_merchant_code=shop.merchant["code"], p_qr_plain=qr, p_raw_amount=D("10"),
        p_idempotency_key=key)[0])
    assert all(kind == "ok" for kind, _ in results), results
    assert len({r["tx_id"] for _, r in results}) == 1
    count = admin_sql.execute("select count(*) as n from transactions where idempotency_key = %s", (key,)).fetchone()
    assert count["n"] == 1
    assert balance_points(api, shop.card)[0] == D("990.00")


def test_concurrent_recharges_and_charges_keep_the_books(api, database, shop):
    qr = shop.qr()

    def work(client, i):
        svc = client.as_service()
        if i % 2:
            return svc.rows("user_recharge_card", p_card_id=shop.card, p_amount=D("10.10"))[0]
        return svc.rows("merchant_charge_by_qr", p_merchant_code=shop.merchant["code"], p_qr_plain=qr,
                        p_raw_amount=D("33.33"))[0]

    results = run_concurrently(database, 8, work)
    assert all(kind == "ok" for kind, _ in results), results
    assert balance_points(api, shop.card)[0] == D("1000.00") + 4 * D("10.10") - 4 * D("33.33")
