"""Every one of the 70 contract RPCs answers valid input without error, as service_role."""

import csv
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from conftest import Shop, login_member, login_merchant, make_member, phone_for

CONTRACT = Path(__file__).resolve().parent.parent / "contract-functions.tsv"


def first(result):
    """The first row of a set result, or the object of a composite one."""
    return result[0] if isinstance(result, list) else result


def valid_calls(api, shop, unique, svc, anon):
    """(function, call) in an order where each call's preconditions hold. `svc` and `anon`
    are the service_role and anon callers of whichever client is under test."""
    m, merchant = shop.member, shop.merchant
    other = make_member(api, unique[::-1])
    corp = svc.scalar("create_corporate_card", p_owner_member_id=m["id"], p_fixed_discount="0.9")
    paid = shop.charge(Decimal("100"))
    member_no = first(svc.rows("get_member_detail", p_member_id=m["id"]))["member_no"]
    card_no = first(svc.rows("get_member_cards", p_member_id=m["id"]))["card_no"]
    now = datetime.now(timezone.utc)
    settlement = {}

    def settle():
        # a period ends no later than now: this one covers the charges and the refund made so far
        settlement["id"] = svc.scalar("generate_settlement", p_merchant_id=merchant["id"], p_mode="realtime",
                                      p_period_start=now - timedelta(hours=1), p_period_end=datetime.now(timezone.utc))
        return settlement["id"]

    return [
        ("get_user_role", lambda: svc.scalar("get_user_role")),
        ("check_permission", lambda: svc.scalar("check_permission", required_role="super_admin")),
        ("is_admin", lambda: svc.scalar("is_admin")),
        ("get_user_profile", lambda: svc.scalar("get_user_profile")),
        ("test_connection", lambda: svc.scalar("test_connection")),
        ("reset_session_variables", lambda: svc.scalar("reset_session_variables")),
        ("member_login", lambda: svc.scalar("member_login", p_identifier=m["phone"], p_password=m["password"])),
        ("merchant_login", lambda: svc.scalar("merchant_login", p_merchant_code=merchant["code"],
                                              p_password=merchant["password"])),
        ("load_session", lambda: svc.scalar("load_session", p_session_id=login_member(api, m))),
        ("logout_session", lambda: svc.scalar("logout_session", p_session_id=login_member(api, m))),
        ("cleanup_expired_sessions", lambda: svc.scalar("cleanup_expired_sessions")),
        ("create_member_profile", lambda: svc.scalar("create_member_profile", p_name="New", p_phone=phone_for(unique, "1"),
                                                     p_email=None)),
        ("create_merchant", lambda: svc.scalar("create_merchant", p_code=f"N{unique}", p_name="New")),
        ("set_member_password", lambda: svc.scalar("set_member_password", p_member_id=other["id"],
                                                   p_password="another-pass")),
        ("set_merchant_password", lambda: svc.scalar("set_merchant_password", p_merchant_id=merchant["id"],
                                                     p_password=merchant["password"])),
        ("create_corporate_card", lambda: svc.scalar("create_corporate_card", p_owner_member_id=m["id"])),
        ("create_voucher_card", lambda: svc.scalar("create_voucher_card", p_owner_member_id=m["id"],
                                                   p_initial_balance="5")),
        ("set_card_binding_password", lambda: svc.scalar("set_card_binding_password", p_card_id=corp,
                                                         p_password="binding-1")),
        ("bind_member_to_card", lambda: svc.scalar("bind_member_to_card", p_card_id=corp, p_member_id=other["id"])),
        ("get_card_bindings", lambda: svc.rows("get_card_bindings", p_card_id=corp)),
        ("unbind_member_from_card", lambda: svc.scalar("unbind_member_from_card", p_card_id=corp,
                                                       p_member_id=other["id"])),
        ("freeze_card", lambda: svc.scalar("freeze_card", p_card_id=corp)),
        ("unfreeze_card", lambda: svc.scalar("unfreeze_card", p_card_id=corp)),
        ("rotate_card_qr", lambda: svc.rows("rotate_card_qr", p_card_id=shop.card)),
        ("validate_qr_plain", lambda: svc.scalar("validate_qr_plain", p_qr_plain=shop.qr())),
        ("revoke_card_qr", lambda: svc.scalar("revoke_card_qr", p_card_id=shop.card)),
        ("cron_rotate_qr_tokens", lambda: svc.scalar("cron_rotate_qr_tokens")),
        ("get_member_cards", lambda: svc.rows("get_member_cards", p_member_id=m["id"])),
        ("get_card_detail", lambda: svc.rows("get_card_detail", p_card_id=shop.card)),
        ("merchant_charge_by_qr", lambda: svc.rows("merchant_charge_by_qr", p_merchant_code=merchant["code"],
                                                   p_qr_plain=shop.qr(), p_raw_amount=Decimal("10"))),
        ("merchant_refund_tx", lambda: svc.rows("merchant_refund_tx", p_merchant_code=merchant["code"],
                                                p_original_tx_no=paid["tx_no"], p_refund_amount=Decimal("1"))),
        ("user_recharge_card", lambda: svc.rows("user_recharge_card", p_card_id=shop.card, p_amount=5)),
        ("update_points_and_level", lambda: svc.scalar("update_points_and_level", p_card_id=shop.card,
                                                       p_delta_points=1)),
        ("compute_discount", lambda: svc.scalar("compute_discount", p_points=1000)),
        ("compute_level", lambda: svc.scalar("compute_level", p_points=1000)),
        ("get_point_ledger", lambda: svc.rows("get_point_ledger", p_card_id=shop.card)),
        ("generate_settlement", settle),
        ("list_settlements", lambda: svc.rows("list_settlements", p_merchant_id=merchant["id"])),
        ("get_settlement_detail", lambda: svc.rows("get_settlement_detail", p_settlement_id=settlement["id"])),
        ("update_settlement_status", lambda: svc.scalar("update_settlement_status", p_settlement_id=settlement["id"],
                                                        p_status="settled")),
        ("get_member_transactions", lambda: svc.rows("get_member_transactions", p_member_id=m["id"])),
        ("get_merchant_transactions", lambda: svc.rows("get_merchant_transactions", p_merchant_id=merchant["id"])),
        ("get_transaction_detail", lambda: svc.rows("get_transaction_detail", p_tx_no=paid["tx_no"])),
        ("get_member_detail", lambda: svc.rows("get_member_detail", p_member_id=m["id"])),
        ("get_merchant_detail", lambda: svc.rows("get_merchant_detail", p_merchant_id=merchant["id"])),
        ("get_member_by_auth_user", lambda: anon.rows("get_member_by_auth_user", p_session_id=login_member(api, m))),
        ("get_merchant_by_auth_user", lambda: anon.rows("get_merchant_by_auth_user",
                                                        p_session_id=login_merchant(api, merchant))),
        ("search_members", lambda: svc.rows("search_members", p_keyword="Member")),
        ("search_members_advanced", lambda: svc.rows("search_members_advanced", p_name="Member")),
        ("search_merchants", lambda: svc.rows("search_merchants", p_keyword="Shop")),
        ("search_cards", lambda: svc.rows("search_cards", p_keyword="STD")),
        ("get_all_members", lambda: svc.rows("get_all_members")),
        ("get_all_cards", lambda: svc.rows("get_all_cards")),
        ("update_member_profile", lambda: svc.scalar("update_member_profile", p_member_id=m["id"], p_name="Renamed")),
        ("get_today_transaction_stats", lambda: svc.rows("get_today_transaction_stats")),
        ("get_transaction_trends", lambda: svc.rows("get_transaction_trends", p_start_date=now - timedelta(days=7),
                                                    p_end_date=now + timedelta(days=1))),
        ("get_system_statistics", lambda: svc.rows("get_system_statistics")),
        ("system_health_check", lambda: svc.rows("system_health_check")),
        ("get_member_by_identifier", lambda: svc.scalar("get_member_by_identifier", p_identifier=member_no)),
        ("get_card_by_identifier", lambda: svc.scalar("get_card_by_identifier", p_identifier=card_no)),
        ("get_merchant_by_identifier", lambda: svc.scalar("get_merchant_by_identifier", p_identifier=merchant["code"])),
        ("get_card_details_by_card_no", lambda: svc.scalar("get_card_details_by_card_no", p_card_no=card_no)),
        ("toggle_card_status_by_card_no", lambda: svc.scalar("toggle_card_status_by_card_no", p_card_no=card_no,
                                                             p_new_status="active")),
        ("update_member_by_identifier", lambda: svc.scalar("update_member_by_identifier", p_identifier=member_no,
                                                           p_email=f"x{unique}@example.com")),
        ("set_member_password_by_identifier", lambda: svc.scalar("set_member_password_by_identifier",
                                                                 p_identifier=member_no, p_new_password=m["password"])),
        ("toggle_member_status_by_identifier", lambda: svc.scalar("toggle_member_status_by_identifier",
                                                                  p_identifier=member_no, p_new_status="active")),
        ("admin_suspend_member", lambda: svc.scalar("admin_suspend_member", p_member_id=other["id"])),
        ("admin_activate_member", lambda: svc.scalar("admin_activate_member", p_member_id=other["id"])),
        ("admin_suspend_merchant", lambda: svc.scalar("admin_suspend_merchant", p_merchant_id=merchant["id"])),
        ("admin_activate_merchant", lambda: svc.scalar("admin_activate_merchant", p_merchant_id=merchant["id"])),
    ]


def test_every_rpc_accepts_valid_input(api, member, merchant, unique):
    shop = Shop(api, member, merchant)
    calls = valid_calls(api, shop, unique, api.as_service(), api.as_anon())
    with open(CONTRACT, newline="") as f:
        contract = {row["name"] for row in csv.DictReader(f, delimiter="\t")}
    assert {name for name, _ in calls} == contract
    answered = {}
    for name, call in calls:
        answered[name] = call()
    assert answered["get_user_role"] == "super_admin"
    assert answered["compute_level"] == 1 and answered["compute_discount"] == Decimal("0.950")
    assert answered["merchant_charge_by_qr"][0]["final_amount"] == Decimal("10.00")
    assert answered["get_settlement_detail"][0]["total_amount"] == Decimal("109.00")
    assert all(answered[f] is True for f in ["admin_suspend_member", "admin_activate_merchant", "freeze_card",
                                             "update_settlement_status", "toggle_card_status_by_card_no"])
