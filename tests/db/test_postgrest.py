"""Conformance with PostgREST and Supabase clients: every RPC called exactly as PostgREST
calls it for `POST /rpc/<fn>`, the JSON shapes existing clients read (docs/contract.md, "Client
fields"), and the HTTP statuses errors map to. No RPC answers 5xx, whatever the input."""

import csv
import uuid
from pathlib import Path

import pytest

from conftest import Shop, login_member, login_merchant
from mps import ANON, SERVICE, user_claims
from postgrest import Caller, PostgREST
from rpc_calls import valid_calls

CONTRACT = Path(__file__).resolve().parent.parent / "contract-functions.tsv"


@pytest.fixture
def server(database):
    s = PostgREST(database)
    yield s
    s.close()


# Fields each existing client reads (docs/contract.md, "Client fields"), per function.
CLIENT_READS = {
    "member_login": {"session_id", "member_id", "member_no", "name", "phone", "email"},
    "merchant_login": {"session_id", "merchant_id", "merchant_code", "merchant_name"},
    "test_connection": {"status"},
    "merchant_charge_by_qr": {"tx_id", "tx_no", "card_id", "final_amount", "discount"},
    "merchant_refund_tx": {"refund_tx_id", "refund_tx_no", "refunded_amount"},
    "user_recharge_card": {"tx_id", "tx_no", "card_id", "amount"},
    "rotate_card_qr": {"qr_plain", "qr_expires_at"},
    "get_member_transactions": {"id", "tx_no", "tx_type", "card_id", "final_amount", "status", "total_count"},
    "get_merchant_transactions": {"tx_type", "final_amount", "total_count"},
    "get_transaction_detail": {"tx_type", "status", "tx_no", "final_amount", "raw_amount", "discount_applied"},
    "get_today_transaction_stats": {"transaction_count", "payment_amount", "refund_amount", "net_amount",
                                    "unique_customers", "average_transaction"},
    "get_system_statistics": {"members_total", "members_active", "members_inactive", "members_suspended",
                              "cards_total", "cards_active", "merchants_total", "merchants_active",
                              "transactions_today", "transactions_today_amount", "cards_by_type"},
    "system_health_check": {"check_name", "status", "details", "recommendation"},
    "get_all_members": {"id", "member_no", "name", "phone", "email", "status", "total_count"},
    "get_all_cards": {"card_no", "owner_name", "total_count"},
    "search_cards": {"id", "card_no", "card_type", "owner_member_id", "owner_name", "owner_phone", "balance"},
    "search_members": {"id", "member_no", "name", "phone", "email", "status"},
    "list_settlements": {"id", "period_start", "period_end", "status", "created_at"},
    "get_card_details_by_card_no": {"card_no", "owner_name", "balance", "status"},
    "get_member_cards": {"id", "card_no", "card_type", "balance"},
}


def test_every_rpc_through_postgrest(api, server, member, merchant, unique):
    shop = Shop(api, member, merchant)
    svc, anon = Caller(server, SERVICE), Caller(server, ANON)
    calls = valid_calls(api, shop, unique, svc, anon)
    for _, call in calls:
        call()
    responses = svc.responses + anon.responses
    with open(CONTRACT, newline="") as f:
        contract = {r["name"]: r for r in csv.DictReader(f, delimiter="\t")}
    assert {fn for fn, _ in responses} >= set(contract)
    for fn, response in responses:
        assert response.status == 200, (fn, response)
        sig = server.signatures[fn]
        body = response.body
        if sig.returns_set:
            assert isinstance(body, list), fn
        elif sig.returns_composite:
            assert isinstance(body, dict), fn
        else:
            assert not isinstance(body, list), fn
        reads = CLIENT_READS.get(fn)
        if reads:
            row = body[0] if isinstance(body, list) else body
            assert reads <= set(row), (fn, reads - set(row))
    # values as a client sees them in JSON
    by_fn = {fn: r.body for fn, r in responses}
    assert by_fn["get_user_role"] == "super_admin"
    assert by_fn["compute_discount"] == 0.95 and by_fn["compute_level"] == 1
    assert by_fn["merchant_charge_by_qr"] == [dict(by_fn["merchant_charge_by_qr"][0], final_amount=10.00,
                                                   discount=1.000)]
    assert isinstance(by_fn["create_merchant"], str) and uuid.UUID(by_fn["create_merchant"])
    assert "binding_password_hash" not in by_fn["get_card_detail"]


def test_error_statuses(api, server, member, merchant):
    anon = lambda fn, body: server.rpc(fn, body, ANON)  # noqa: E731
    # business error: 400 with the contract token as the message
    r = anon("member_login", {"p_identifier": member["phone"], "p_password": "wrong-password"})
    assert (r.status, r.body["code"], r.body["message"]) == (400, "P0001", "INVALID_PASSWORD")
    assert r.body["details"]
    # permission errors: 401 anonymous, 403 authenticated
    r = anon("create_merchant", {"p_code": "X", "p_name": "Y"})
    assert (r.status, r.body["code"]) == (401, "42501")
    sid = login_member(api, member)
    r = server.rpc("create_merchant", {"p_code": "X", "p_name": "Y", "p_session_id": sid}, user_claims(uuid.uuid4()))
    assert (r.status, r.body["message"]) == (403, "PERMISSION_DENIED: Required super_admin, but user is member")
    r = anon("get_user_role", {"p_session_id": "A" * 44})
    assert (r.status, r.body["message"]) == (401, "SESSION_INVALID")
    msid = login_merchant(api, merchant)
    r = anon("rotate_card_qr", {"p_card_id": str(uuid.uuid4()), "p_session_id": msid})
    assert (r.status, r.body["message"]) == (401, "PERMISSION_DENIED: 商戶不能生成 QR 碼")
    # malformed input: 400, never 5xx
    r = anon("get_member_detail", {"p_member_id": "not-a-uuid"})
    assert (r.status, r.body["code"]) == (400, "22P02")
    # an unknown argument name: PGRST202 function not found
    assert anon("member_login", {"p_phone": "x", "p_password": "y"}).status == 404


def test_readers_work_in_read_only_transactions(admin_sql):
    """PostgREST runs STABLE functions READ ONLY (GET, read replicas); writers are VOLATILE."""
    volatility = {r["proname"]: r["provolatile"] for r in admin_sql.execute(
        "select proname, provolatile from pg_proc where pronamespace = 'public'::regnamespace").fetchall()}
    readers = {f for f, v in volatility.items() if v == "s"}
    writers = {"member_login", "merchant_login", "merchant_charge_by_qr", "merchant_refund_tx", "user_recharge_card",
               "rotate_card_qr", "revoke_card_qr", "bind_member_to_card", "unbind_member_from_card",
               "generate_settlement", "update_settlement_status", "create_member_profile", "create_merchant",
               "set_member_password", "logout_session", "load_session", "cron_rotate_qr_tokens", "freeze_card",
               "update_points_and_level", "admin_suspend_member", "toggle_card_status_by_card_no",
               "merchant_authorize_by_qr", "merchant_capture_hold", "merchant_void_hold"}
    assert all(volatility[w] == "v" for w in writers), {w: volatility[w] for w in writers}
    assert {"get_member_transactions", "get_card_detail", "list_settlements", "get_user_profile",
            "validate_qr_plain", "verify_ledger", "system_health_check", "get_card_balance", "get_card_holds",
            "get_merchant_holds"} <= readers


HOSTILE_VALUES = [None, "", "x" * 10000, "' OR 1=1 --", "-1", "0", "1e400", "NaN", "Infinity", "-Infinity",
                  "0.001", "99999999999999.999", "{}", "[]", "00000000-0000-0000-0000-000000000000", "日本語🙂",
                  12345678901234567890, -5, 3.5, True, {"a": [1, {"b": None}]}, [1, 2]]


def test_no_rpc_answers_5xx_for_hostile_input(api, server, member, merchant):
    """Every argument of every RPC gets hostile values, as anon, as a member and as
    service_role: only 2xx/4xx come back."""
    sid = login_member(api, member)
    identities = [(ANON, {}), (ANON, {"p_session_id": sid}), (SERVICE, {})]
    seen_5xx = []
    calls = 0
    for fn, sig in sorted(server.signatures.items()):
        names = [n for n, _ in sig.arguments if n != "p_session_id"]
        for arg in names:
            for value in HOSTILE_VALUES:
                body = {n: None for n in names}
                body[arg] = value
                for claims, extra in identities:
                    response = server.rpc(fn, {**body, **extra}, claims)
                    calls += 1
                    if response.status >= 500:
                        seen_5xx.append((fn, arg, value, claims["role"], response.body))
    assert calls > 3000
    assert seen_5xx == []
    # and the books still balance (checked by the autouse fixture), nothing was written by anon
