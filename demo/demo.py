"""The MPS payment flow so far, end to end, through the same PostgREST-style calls a
Supabase client makes (one transaction per call, role + JWT claims set per request)."""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "db"))
from mps import Api  # noqa: E402  (the PostgREST-protocol client shared with the tests)
from psycopg.types.json import Jsonb  # noqa: E402


def step(title, value):
    print(f"--- {title}")
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def main():
    database = os.environ.get("MPS_DEMO_DB", "mps_demo")
    api = Api(database)        # PostgREST's side: only the PostgREST server holds authenticator's credentials
    admin = api.as_service()   # Supabase service_role key: a super admin, server side only
    # POS and member apps: the anon key + p_session_id. A POS talking to the database directly
    # logs in as mps_pos, a member of anon only (scripts/lib.sh creates it).
    pos_api = Api(database, user="mps_pos")
    anon = pos_api.as_anon()

    merchant_id = admin.scalar("create_merchant", p_code="DEMO-SHOP", p_name="Demo Coffee",
                               p_contact="+886-2-1234-5678", p_password="shop-password-1")
    step("create_merchant (service_role)", {"merchant_id": merchant_id})

    member_id = admin.scalar("create_member_profile", p_name="Alice Chen", p_phone="0912345678",
                             p_email="alice@example.com", p_password="alice-password-1")
    card = api.as_service().execute(
        "select card_no, card_type, balance, points, level, discount from public.member_cards"
        " where owner_member_id = %s", (member_id,))
    step("create_member_profile (service_role): member and automatic standard card",
         {"member_id": member_id, "card": card[0]})

    member = anon.scalar("member_login", p_identifier="0912345678", p_password="alice-password-1")
    step("member_login (anon)", {k: member[k] for k in ("member_id", "member_no", "name", "expires_at")}
         | {"session_id": member["session_id"][:8] + "…"})
    step("get_user_profile (anon + member session)", anon.scalar("get_user_profile", p_session_id=member["session_id"]))

    shop = anon.scalar("merchant_login", p_merchant_code="DEMO-SHOP", p_password="shop-password-1")
    step("merchant_login (anon)", {k: shop[k] for k in ("merchant_id", "merchant_code", "merchant_name", "expires_at")})
    step("get_user_role (anon + merchant session)", anon.scalar("get_user_role", p_session_id=shop["session_id"]))

    member_sid, shop_sid = member["session_id"], shop["session_id"]
    card_id = anon.rows("get_member_cards", p_session_id=member_sid)[0]["id"]
    recharge = anon.rows("user_recharge_card", p_card_id=card_id, p_amount="1000.00", p_payment_method="alipay",
                         p_idempotency_key="demo-recharge-1", p_session_id=member_sid)[0]
    step("user_recharge_card (member session): 1000.00 by alipay, pending until the payment is confirmed", recharge)
    step("confirm_recharge (service_role, as the payment gateway's webhook): the card is credited",
         admin.rows("confirm_recharge", p_tx_no=recharge["tx_no"]))

    qr = anon.rows("rotate_card_qr", p_card_id=card_id, p_ttl_seconds=300, p_session_id=member_sid)[0]
    step("rotate_card_qr (member session): a QR code for the standard card",
         {"qr_plain": qr["qr_plain"][:8] + "…", "qr_expires_at": qr["qr_expires_at"]})
    step("validate_qr_plain (merchant session): the code names the card",
         {"card_id": anon.scalar("validate_qr_plain", p_qr_plain=qr["qr_plain"], p_session_id=shop_sid)})

    charge = anon.rows("merchant_charge_by_qr", p_merchant_code="DEMO-SHOP", p_qr_plain=qr["qr_plain"],
                       p_raw_amount="299.99", p_idempotency_key="demo-pay-1", p_tag=Jsonb({"table": 7}),
                       p_session_id=shop_sid)[0]
    step("merchant_charge_by_qr (merchant session): 299.99", charge)
    retry = anon.rows("merchant_charge_by_qr", p_merchant_code="DEMO-SHOP", p_qr_plain=qr["qr_plain"],
                      p_raw_amount="299.99", p_idempotency_key="demo-pay-1", p_tag=Jsonb({"table": 7}),
                      p_session_id=shop_sid)[0]
    step("the same charge retried with its idempotency key: the same transaction, charged once",
         {"same_tx": retry["tx_id"] == charge["tx_id"]})

    refund = anon.rows("merchant_refund_tx", p_merchant_code="DEMO-SHOP", p_original_tx_no=charge["tx_no"],
                       p_refund_amount="99.99", p_tag=Jsonb({"reason": "cold coffee"}), p_session_id=shop_sid)[0]
    step("merchant_refund_tx (merchant session): partial refund 99.99", refund)

    step("balances: get_member_cards (member session)",
         [{k: c[k] for k in ("card_no", "card_type", "balance", "points", "level", "discount")}
          for c in anon.rows("get_member_cards", p_session_id=member_sid)])
    step("points ledger: get_point_ledger (member session)",
         [{k: r[k] for k in ("change", "balance_before", "balance_after", "reason")}
          for r in anon.rows("get_point_ledger", p_card_id=card_id, p_session_id=member_sid)])
    step("verify_ledger (service_role): violations", admin.rows("verify_ledger"))

    step("logout_session (merchant)", anon.scalar("logout_session", p_session_id=shop["session_id"]))
    api.close()
    pos_api.close()
    print("demo: ok")


if __name__ == "__main__":
    main()
