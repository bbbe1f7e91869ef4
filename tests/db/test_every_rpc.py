"""Every one of the 70 contract RPCs answers valid input without error, as service_role."""

from decimal import Decimal

from conftest import Shop
from rpc_calls import CONTRACT_NAMES, RPCS, valid_calls


def test_every_rpc_accepts_valid_input(api, member, merchant, unique):
    shop = Shop(api, member, merchant)
    calls = valid_calls(api, shop, unique, api.as_service(), api.as_anon())
    assert {name for name, _ in calls} == CONTRACT_NAMES, "rpc_calls.RPCS has a valid call of every contract RPC"
    assert len(RPCS) == len({rpc.name for rpc in RPCS})
    answered = {}
    for name, call in calls:
        answered[name] = call()
    assert answered["get_user_role"] == "super_admin"
    assert answered["compute_level"] == 1 and answered["compute_discount"] == Decimal("0.950")
    assert answered["merchant_charge_by_qr"][0]["final_amount"] == Decimal("10.00")
    assert answered["get_settlement_detail"][0]["total_amount"] == Decimal("100.00")
    assert all(answered[f] is True for f in ["admin_suspend_member", "admin_activate_merchant", "freeze_card",
                                             "update_settlement_status", "toggle_card_status_by_card_no"])
