"""Every one of the 70 contract RPCs, and those beyond it (card holds, the event feed), answers
valid input without error, as service_role."""

from decimal import Decimal

from conftest import Shop
from rpc_calls import CONTRACT_NAMES, BEYOND_CONTRACT, RPCS, valid_calls


def test_every_rpc_accepts_valid_input(api, member, merchant, unique):
    shop = Shop(api, member, merchant)
    calls = valid_calls(api, shop, unique, api.as_service(), api.as_anon())
    assert {name for name, _ in calls} == CONTRACT_NAMES | BEYOND_CONTRACT, \
        "rpc_calls.RPCS has a valid call of every contract RPC and every one beyond it"
    assert len(RPCS) == len({rpc.name for rpc in RPCS})
    answered = {}
    for name, call in calls:
        answered[name] = call()
    assert answered["get_user_role"] == "super_admin"
    assert answered["compute_level"] == 1 and answered["compute_discount"] == Decimal("0.950")
    assert answered["merchant_charge_by_qr"][0]["final_amount"] == Decimal("10.00")
    # 1000 − 100 − 20 (Objects) − 10 (the charge) + 1 (the refund) − 30 (the capture); the new hold of 10 held
    assert answered["merchant_capture_hold"][0]["final_amount"] == Decimal("30.00")
    assert answered["merchant_void_hold"] is True
    assert answered["get_card_balance"] == [{"balance": Decimal("841.00"), "held": Decimal("10.00"),
                                             "available": Decimal("831.00")}]
    assert [h["status"] for h in answered["get_card_holds"]] == ["active", "voided", "captured"]
    assert answered["get_settlement_detail"][0]["total_amount"] == Decimal("100.00")
    events = [e["id"] for e in answered["get_events"]]
    assert len(events) == 10 and events == sorted(set(events))
    assert answered["add_events_to_realtime"] is False  # no publication supabase_realtime here
    assert all(answered[f] is True for f in ["admin_suspend_member", "admin_activate_merchant", "freeze_card",
                                             "update_settlement_status", "toggle_card_status_by_card_no"])
