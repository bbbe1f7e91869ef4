"""A valid call of every public RPC, for any caller: the arguments name objects of one member
M (standard card, corporate card, payment, pending recharge) at one merchant S (settlement).
test_every_rpc.py and its followers (PostgREST, hot standby) make them one after another as
service_role; test_rpc_matrix.py makes each as every kind of caller."""

import csv
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Callable

from conftest import Shop, login_member, login_merchant, make_member, phone_for


with open(Path(__file__).resolve().parent.parent / "contract-functions.tsv", newline="") as _f:
    CONTRACT_NAMES = {row["name"] for row in csv.DictReader(_f, delimiter="\t")}

# Beyond the contract, made one after another like the contract's RPCs: card holds (issue 15)
# and the event feed (issue 16).
BEYOND_CONTRACT = {"merchant_authorize_by_qr", "merchant_capture_hold", "merchant_void_hold", "get_card_balance",
                   "get_card_holds", "get_merchant_holds", "get_events", "add_events_to_realtime"}


def first(result):
    """The first row of a set result, or the object of a composite one."""
    return result[0] if isinstance(result, list) else result


class Objects:
    """Committed objects the calls name: M's standard card (recharged) and corporate card
    (binding password `binding-1`, member X bound to it), a payment of 100.00 at S settled in
    a realtime settlement ending at `settled_until`, a payment of 20.00 after it, M's pending
    recharge of 5.00, member Y whom calls bind to the corporate card, and two active holds at S on
    M's standard card: 30.00 to capture and 10.00 to void."""

    def __init__(self, api, shop: Shop, unique: str):
        svc = api.as_service()
        self.api, self.shop, self.unique = api, shop, unique
        self.member, self.merchant = shop.member, shop.merchant
        self.bound = make_member(api, uuid.uuid4().hex[:10])
        self.joiner = make_member(api, uuid.uuid4().hex[:10])
        self.corp = svc.scalar("create_corporate_card", p_owner_member_id=self.member["id"], p_fixed_discount="0.9")
        svc.scalar("set_card_binding_password", p_card_id=self.corp, p_password="binding-1")
        svc.scalar("bind_member_to_card", p_card_id=self.corp, p_member_id=self.bound["id"])
        start = datetime.now(timezone.utc) - timedelta(hours=1)
        self.paid = shop.charge(Decimal("100"))
        self.settled_until = datetime.now(timezone.utc)
        self.settlement = svc.scalar("generate_settlement", p_merchant_id=self.merchant["id"], p_mode="realtime",
                                     p_period_start=start, p_period_end=self.settled_until)
        shop.charge(Decimal("20"))
        self.pending = api.as_anon().rows("user_recharge_card", p_card_id=shop.card, p_amount=Decimal("5"),
                                          p_session_id=login_member(api, self.member))[0]["tx_no"]
        self.member_no = first(svc.rows("get_member_detail", p_member_id=self.member["id"]))["member_no"]
        self.card_no = first(svc.rows("get_member_cards", p_member_id=self.member["id"]))["card_no"]
        self.hold_to_capture, self.hold_to_void = (
            svc.rows("merchant_authorize_by_qr", p_merchant_code=self.merchant["code"], p_qr_plain=shop.qr(),
                     p_raw_amount=Decimal(raw), p_ttl_seconds=3600)[0]["hold_no"] for raw in ("30", "10"))


@dataclass
class Rpc:
    """One RPC's valid call: `kind` is "rows" (set or row result) or "scalar"; `args` gives the
    named arguments (never p_session_id, which is the caller's); `sequential_as` is the caller
    of the one-after-another run: functions about the caller's own session or account need a
    session caller there."""

    name: str
    kind: str
    args: Callable[[Objects], dict]
    sequential_as: str = "service_role"


def _now():
    return datetime.now(timezone.utc)


# In an order where each call's preconditions hold when they are made one after another
# (each committed) as service_role: bind before unbind, freeze before unfreeze, suspend before
# activate, a charge and a refund before the settlement that counts them.
RPCS = [
    Rpc("get_user_role", "scalar", lambda o: {}),
    # the role M's resource needs: members and super admins pass, merchants and anon do not
    Rpc("check_permission", "scalar", lambda o: {"required_role": "member"}),
    Rpc("is_admin", "scalar", lambda o: {}),
    Rpc("get_user_profile", "scalar", lambda o: {}),
    Rpc("test_connection", "scalar", lambda o: {}),
    Rpc("reset_session_variables", "scalar", lambda o: {}),
    Rpc("member_login", "scalar", lambda o: {"p_identifier": o.member["phone"], "p_password": o.member["password"]}),
    Rpc("merchant_login", "scalar",
        lambda o: {"p_merchant_code": o.merchant["code"], "p_password": o.merchant["password"]}),
    # the session argument is the caller's own session (none for callers without one)
    Rpc("load_session", "scalar", lambda o: {"p_session_id": None}, sequential_as="member"),
    Rpc("logout_session", "scalar", lambda o: {"p_session_id": None}, sequential_as="member"),
    Rpc("cleanup_expired_sessions", "scalar", lambda o: {}),
    Rpc("create_member_profile", "scalar",
        lambda o: {"p_name": "New", "p_phone": phone_for(uuid.uuid4().hex[:10], "1"), "p_email": None}),
    Rpc("create_merchant", "scalar", lambda o: {"p_code": f"N{uuid.uuid4().hex[:10]}", "p_name": "New"}),
    Rpc("set_member_password", "scalar",
        lambda o: {"p_member_id": o.member["id"], "p_password": o.member["password"],
                   "p_current_password": o.member["password"]}),
    Rpc("set_merchant_password", "scalar",
        lambda o: {"p_merchant_id": o.merchant["id"], "p_password": o.merchant["password"],
                   "p_current_password": o.merchant["password"]}),
    Rpc("create_corporate_card", "scalar", lambda o: {"p_owner_member_id": o.member["id"]}),
    Rpc("create_voucher_card", "scalar", lambda o: {"p_owner_member_id": o.member["id"], "p_initial_balance": "5"}),
    Rpc("set_card_binding_password", "scalar", lambda o: {"p_card_id": o.corp, "p_password": "binding-1"}),
    Rpc("bind_member_to_card", "scalar", lambda o: {"p_card_id": o.corp, "p_member_id": o.joiner["id"]}),
    Rpc("get_card_bindings", "rows", lambda o: {"p_card_id": o.corp}),
    Rpc("unbind_member_from_card", "scalar", lambda o: {"p_card_id": o.corp, "p_member_id": o.bound["id"]}),
    Rpc("freeze_card", "scalar", lambda o: {"p_card_id": o.corp}),
    Rpc("unfreeze_card", "scalar", lambda o: {"p_card_id": o.corp}),
    Rpc("rotate_card_qr", "rows", lambda o: {"p_card_id": o.shop.card}),
    Rpc("validate_qr_plain", "scalar", lambda o: {"p_qr_plain": o.shop.qr()}),
    Rpc("revoke_card_qr", "scalar", lambda o: {"p_card_id": o.shop.card}),
    Rpc("cron_rotate_qr_tokens", "scalar", lambda o: {}),
    Rpc("get_member_cards", "rows", lambda o: {"p_member_id": o.member["id"]}),
    Rpc("get_card_detail", "rows", lambda o: {"p_card_id": o.shop.card}),
    Rpc("merchant_charge_by_qr", "rows",
        lambda o: {"p_merchant_code": o.merchant["code"], "p_qr_plain": o.shop.qr(), "p_raw_amount": Decimal("10")}),
    Rpc("merchant_refund_tx", "rows",
        lambda o: {"p_merchant_code": o.merchant["code"], "p_original_tx_no": o.paid["tx_no"],
                   "p_refund_amount": Decimal("1")}),
    Rpc("merchant_authorize_by_qr", "rows",
        lambda o: {"p_merchant_code": o.merchant["code"], "p_qr_plain": o.shop.qr(), "p_raw_amount": Decimal("10")}),
    Rpc("merchant_capture_hold", "rows",
        lambda o: {"p_merchant_code": o.merchant["code"], "p_hold_no": o.hold_to_capture}),
    Rpc("merchant_void_hold", "scalar", lambda o: {"p_merchant_code": o.merchant["code"], "p_hold_no": o.hold_to_void}),
    Rpc("get_card_balance", "rows", lambda o: {"p_card_id": o.shop.card}),
    Rpc("get_card_holds", "rows", lambda o: {"p_card_id": o.shop.card}),
    Rpc("get_merchant_holds", "rows", lambda o: {"p_merchant_id": o.merchant["id"]}),
    Rpc("user_recharge_card", "rows", lambda o: {"p_card_id": o.shop.card, "p_amount": 5}),
    Rpc("confirm_recharge", "rows", lambda o: {"p_tx_no": o.pending}),
    Rpc("cancel_recharge", "scalar", lambda o: {"p_tx_no": o.pending, "p_reason": "changed my mind"}),
    Rpc("update_points_and_level", "scalar", lambda o: {"p_card_id": o.shop.card, "p_delta_points": 1}),
    Rpc("compute_discount", "scalar", lambda o: {"p_points": 1000}),
    Rpc("compute_level", "scalar", lambda o: {"p_points": 1000}),
    Rpc("get_point_ledger", "rows", lambda o: {"p_card_id": o.shop.card}),
    Rpc("verify_ledger", "rows", lambda o: {}),
    Rpc("get_events", "rows", lambda o: {"p_after_id": 0, "p_limit": 10}),
    Rpc("add_events_to_realtime", "scalar", lambda o: {}),
    # the period after the settlement of Objects, up to now: the 20.00 payment and whatever followed
    Rpc("generate_settlement", "scalar",
        lambda o: {"p_merchant_id": o.merchant["id"], "p_mode": "realtime", "p_period_start": o.settled_until,
                   "p_period_end": _now()}),
    Rpc("list_settlements", "rows", lambda o: {"p_merchant_id": o.merchant["id"]}),
    Rpc("get_settlement_detail", "rows", lambda o: {"p_settlement_id": o.settlement}),
    Rpc("update_settlement_status", "scalar", lambda o: {"p_settlement_id": o.settlement, "p_status": "settled"}),
    Rpc("generate_daily_settlements", "scalar", lambda o: {}),
    Rpc("get_member_transactions", "rows", lambda o: {"p_member_id": o.member["id"]}),
    Rpc("get_merchant_transactions", "rows", lambda o: {"p_merchant_id": o.merchant["id"]}),
    Rpc("get_transaction_detail", "rows", lambda o: {"p_tx_no": o.paid["tx_no"]}),
    Rpc("get_member_detail", "rows", lambda o: {"p_member_id": o.member["id"]}),
    Rpc("get_merchant_detail", "rows", lambda o: {"p_merchant_id": o.merchant["id"]}),
    Rpc("get_member_by_auth_user", "rows", lambda o: {}, sequential_as="member"),
    Rpc("get_merchant_by_auth_user", "rows", lambda o: {}, sequential_as="merchant"),
    Rpc("search_members", "rows", lambda o: {"p_keyword": "Member"}),
    Rpc("search_members_advanced", "rows", lambda o: {"p_name": "Member"}),
    Rpc("search_merchants", "rows", lambda o: {"p_keyword": "Shop"}),
    Rpc("search_cards", "rows", lambda o: {"p_keyword": "STD"}),
    Rpc("get_all_members", "rows", lambda o: {}),
    Rpc("get_all_cards", "rows", lambda o: {}),
    Rpc("update_member_profile", "scalar", lambda o: {"p_member_id": o.member["id"], "p_name": "Renamed"}),
    Rpc("get_today_transaction_stats", "rows", lambda o: {"p_merchant_id": o.merchant["id"]}),
    Rpc("get_transaction_trends", "rows",
        lambda o: {"p_start_date": _now() - timedelta(days=7), "p_end_date": _now() + timedelta(days=1),
                   "p_merchant_id": o.merchant["id"]}),
    Rpc("get_system_statistics", "rows", lambda o: {}),
    Rpc("system_health_check", "rows", lambda o: {}),
    Rpc("get_member_by_identifier", "scalar", lambda o: {"p_identifier": o.member_no}),
    Rpc("get_card_by_identifier", "scalar", lambda o: {"p_identifier": o.card_no}),
    Rpc("get_merchant_by_identifier", "scalar", lambda o: {"p_identifier": o.merchant["code"]}),
    Rpc("get_card_details_by_card_no", "scalar", lambda o: {"p_card_no": o.card_no}),
    Rpc("toggle_card_status_by_card_no", "scalar", lambda o: {"p_card_no": o.card_no, "p_new_status": "active"}),
    Rpc("update_member_by_identifier", "scalar",
        lambda o: {"p_identifier": o.member_no, "p_email": f"x{o.unique}@example.com"}),
    Rpc("set_member_password_by_identifier", "scalar",
        lambda o: {"p_identifier": o.member_no, "p_new_password": o.member["password"]}),
    Rpc("toggle_member_status_by_identifier", "scalar",
        lambda o: {"p_identifier": o.member_no, "p_new_status": "active"}),
    Rpc("create_transaction_partitions", "scalar", lambda o: {}),
    Rpc("schedule_maintenance", "rows", lambda o: {}),
    Rpc("apply_retention", "rows", lambda o: {}),
    Rpc("admin_suspend_member", "scalar", lambda o: {"p_member_id": o.member["id"]}),
    Rpc("admin_activate_member", "scalar", lambda o: {"p_member_id": o.member["id"]}),
    Rpc("admin_suspend_merchant", "scalar", lambda o: {"p_merchant_id": o.merchant["id"]}),
    Rpc("admin_activate_merchant", "scalar", lambda o: {"p_merchant_id": o.merchant["id"]}),
    Rpc("delete_test_member", "scalar", lambda o: {"p_member_id": o.member["id"]}),
    Rpc("delete_test_merchant", "scalar", lambda o: {"p_merchant_id": o.merchant["id"]}),
]


class Caller:
    """Who makes a call: a client identity (anything with `rows` and `scalar`: mps.Request,
    postgrest.Caller) and, for a session caller, a function giving its p_session_id."""

    def __init__(self, client, session: Callable[[], str] | None = None):
        self.client, self.session = client, session

    def call(self, rpc: Rpc, args: dict):
        if self.session:
            args = {**args, "p_session_id": self.session()}
        return getattr(self.client, rpc.kind)(rpc.name, **args)


def valid_calls(api, shop: Shop, unique: str, svc, anon, names: set[str] | None = None):
    """(function, call) for the RPCs in `names` (default: the contract's 70 and those beyond it), in RPCS order,
    each made by service_role `svc` or, where its subject is the caller's own session or
    account, by `anon` with a fresh session of M or S. Made one after another, each call's
    preconditions hold and none fails."""
    names = CONTRACT_NAMES | BEYOND_CONTRACT if names is None else names
    objects = Objects(api, shop, unique)
    callers = {"service_role": Caller(svc), "member": Caller(anon, lambda: login_member(api, objects.member)),
               "merchant": Caller(anon, lambda: login_merchant(api, objects.merchant))}
    return [(rpc.name, lambda rpc=rpc: callers[rpc.sequential_as].call(rpc, rpc.args(objects)))
            for rpc in RPCS if rpc.name in names]
