"""The rest of the contract surface: every signature, settlements, history, reports,
administration and identifier RPCs, and each role's denials."""

import csv
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import Shop, login_member, login_merchant, make_member, phone_for
from mps import Api, drop_database, fails, recreate_database

PERMISSION = "42501"
BUSINESS = "P0001"
D = Decimal
CONTRACT = Path(__file__).resolve().parent.parent / "contract-functions.tsv"
SESSION_ARG = "p_session_id text DEFAULT NULL::text"



def contract_functions():
    with open(CONTRACT, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def test_every_contract_signature_exists_exactly(admin_sql):
    expected = contract_functions()
    assert len(expected) == 70
    actual = {r["proname"]: r for r in admin_sql.execute(
        "select p.proname, pg_get_function_arguments(p.oid) as arguments, pg_get_function_result(p.oid) as returns,"
        "       count(*) over (partition by p.proname) as overloads"
        "  from pg_proc p where p.pronamespace = 'public'::regnamespace").fetchall()}
    for f in expected:
        name = f["name"]
        assert name in actual, f"missing {name}"
        ours = actual[name]
        assert ours["overloads"] == 1, f"{name} is overloaded"
        args = f["arguments"]
        if "p_session_id" not in args:  # every RPC also takes the optional session id, last
            args = f"{args}, {SESSION_ARG}" if args else SESSION_ARG
        assert ours["arguments"] == args, name
        assert ours["returns"] == f["returns"], name


def at(admin_sql, tx_id, when):
    admin_sql.execute("update transactions set created_at = %s where id = %s", (when, tx_id))


def test_settlement_sums_to_the_cent(api, admin_sql, shop):
    """The contract's example: payments 300.00 (fully refunded) and 0.40, refunds 100.01 and
    199.99: total 0.40 over 4 transactions."""
    t0 = datetime(2026, 1, 10, tzinfo=timezone.utc)
    p1 = shop.charge(D("300.00"))
    p2 = shop.charge(D("0.40"))
    r1 = shop.refund(p1["tx_no"], D("100.01"))
    r2 = shop.refund(p1["tx_no"], D("199.99"))
    for i, tx in enumerate([p1["tx_id"], p2["tx_id"], r1["refund_tx_id"], r2["refund_tx_id"]]):
        at(admin_sql, tx, t0 + timedelta(hours=i))
    recharge_in_period = shop.svc.rows("user_recharge_card", p_card_id=shop.card, p_amount=50)[0]
    at(admin_sql, recharge_in_period["tx_id"], t0 + timedelta(hours=5))
    msid = login_merchant(api, shop.merchant)
    sid = api.as_anon().scalar("generate_settlement", p_merchant_id=shop.merchant["id"], p_mode="t_plus_1",
                               p_period_start=t0, p_period_end=t0 + timedelta(days=1), p_session_id=msid)
    detail = api.as_anon().rows("get_settlement_detail", p_settlement_id=sid, p_session_id=msid)[0]
    assert (detail["total_amount"], detail["total_tx_count"], detail["status"], detail["mode"]) == \
        (D("0.40"), 4, "pending", "t_plus_1")
    assert detail["payload"] == {"payment_count": 2, "refund_count": 2, "payment_amount": 300.40,
                                 "refund_amount": 300.00}
    listed = api.as_anon().rows("list_settlements", p_merchant_id=shop.merchant["id"], p_session_id=msid)
    assert [(r["id"], r["total_amount"], r["total_tx_count"]) for r in listed] == [(sid, D("0.40"), 4)]

    svc = api.as_service()
    # overlapping the same merchant and mode
    assert fails(svc.scalar, "generate_settlement", p_merchant_id=shop.merchant["id"], p_mode="t_plus_1",
                 p_period_start=t0 + timedelta(hours=12), p_period_end=t0 + timedelta(days=2)) == \
        (BUSINESS, "SETTLEMENT_ALREADY_EXISTS")
    # reversed and empty periods, and a period without movements
    for start, end in [(t0 + timedelta(days=1), t0), (t0, t0)]:
        assert fails(svc.scalar, "generate_settlement", p_merchant_id=shop.merchant["id"], p_mode="monthly",
                     p_period_start=start, p_period_end=end) == (BUSINESS, "INVALID_PERIOD")
    assert fails(svc.scalar, "generate_settlement", p_merchant_id=shop.merchant["id"], p_mode="realtime",
                 p_period_start=t0 + timedelta(days=3), p_period_end=t0 + timedelta(days=4)) == \
        (BUSINESS, "NO_TRANSACTIONS_IN_PERIOD")
    assert fails(svc.scalar, "generate_settlement", p_merchant_id=uuid.uuid4(), p_mode="realtime",
                 p_period_start=t0, p_period_end=t0 + timedelta(days=1)) == (BUSINESS, "MERCHANT_NOT_FOUND")

    # status machine: pending → settled → paid only
    assert fails(svc.scalar, "update_settlement_status", p_settlement_id=sid, p_status="paid") == \
        (BUSINESS, "INVALID_STATUS_TRANSITION")
    assert svc.scalar("update_settlement_status", p_settlement_id=sid, p_status="settled") is True
    assert svc.scalar("update_settlement_status", p_settlement_id=sid, p_status="paid") is True
    assert fails(svc.scalar, "update_settlement_status", p_settlement_id=sid, p_status="pending") == \
        (BUSINESS, "INVALID_STATUS_TRANSITION")
    assert fails(svc.scalar, "update_settlement_status", p_settlement_id=uuid.uuid4(), p_status="settled") == \
        (BUSINESS, "SETTLEMENT_NOT_FOUND")
    assert fails(api.as_anon().scalar, "update_settlement_status", p_settlement_id=sid, p_status="failed")[0] == \
        PERMISSION


def test_net_negative_period_is_a_business_error(api, admin_sql, shop):
    t0 = datetime(2026, 2, 1, tzinfo=timezone.utc)
    paid = shop.charge(D("100"))
    refund = shop.refund(paid["tx_no"], D("60"))
    at(admin_sql, paid["tx_id"], t0)
    at(admin_sql, refund["refund_tx_id"], t0 + timedelta(days=1, hours=1))
    assert fails(api.as_service().scalar, "generate_settlement", p_merchant_id=shop.merchant["id"],
                 p_mode="t_plus_1", p_period_start=t0 + timedelta(days=1), p_period_end=t0 + timedelta(days=2)) == \
        (BUSINESS, "NEGATIVE_SETTLEMENT_AMOUNT")


def test_merchants_see_only_their_own(api, shop, unique):
    svc = api.as_service()
    svc.scalar("create_merchant", p_code=f"R{unique}", p_name="Rival", p_password="rival-pass-1")
    rival = login_merchant(api, {"code": f"R{unique}", "password": "rival-pass-1"})
    anon, mid = api.as_anon(), shop.merchant["id"]
    paid = shop.charge(D("10"))
    for fn, args in [("get_merchant_transactions", {"p_merchant_id": mid}), ("list_settlements", {"p_merchant_id": mid}),
                     ("get_merchant_detail", {"p_merchant_id": mid}),
                     ("get_today_transaction_stats", {"p_merchant_id": mid})]:
        assert fails(anon.rows, fn, p_session_id=rival, **args) == (PERMISSION, "NOT_AUTHORIZED_FOR_THIS_MERCHANT"), fn
    assert fails(anon.rows, "get_transaction_detail", p_tx_no=paid["tx_no"], p_session_id=rival) == \
        (BUSINESS, "TX_NOT_FOUND")
    own = login_merchant(api, shop.merchant)
    assert anon.rows("get_transaction_detail", p_tx_no=paid["tx_no"], p_session_id=own)[0]["final_amount"] == D("10.00")
    detail = anon.rows("get_merchant_detail", p_merchant_id=mid, p_session_id=own)[0]
    assert detail["code"] == shop.merchant["code"] and "password_hash" not in detail
    me = anon.rows("get_merchant_by_auth_user", p_session_id=own)[0]
    assert me["id"] == mid and "password_hash" not in me
    # a merchant's own stats without naming itself
    stats = anon.rows("get_today_transaction_stats", p_session_id=own)[0]
    assert (stats["transaction_count"], stats["payment_amount"]) == (1, D("10.00"))


def test_member_history_pagination_and_privacy(api, shop, unique):
    for raw in ["1", "2", "3", "4", "5"]:
        shop.charge(D(raw))
    anon, sid = api.as_anon(), login_member(api, shop.member)
    page1 = anon.rows("get_member_transactions", p_member_id=shop.member["id"], p_limit=2, p_session_id=sid)
    page2 = anon.rows("get_member_transactions", p_member_id=shop.member["id"], p_limit=2, p_offset=2,
                      p_session_id=sid)
    everything = anon.rows("get_member_transactions", p_member_id=shop.member["id"], p_session_id=sid)
    assert [r["total_count"] for r in page1 + page2] == [6] * 4  # 5 payments + the recharge
    assert len(everything) == 6 and {r["id"] for r in page1 + page2} < {r["id"] for r in everything}
    assert [r["final_amount"] for r in everything[:5]] == [D("5.00"), D("4.00"), D("3.00"), D("2.00"), D("1.00")]
    other = login_member(api, make_member(api, unique[::-1]))
    assert fails(anon.rows, "get_member_transactions", p_member_id=shop.member["id"], p_session_id=other)[0] == PERMISSION
    assert fails(anon.rows, "get_member_detail", p_member_id=shop.member["id"], p_session_id=other)[0] == PERMISSION
    detail = anon.rows("get_member_detail", p_member_id=shop.member["id"], p_session_id=sid)[0]
    assert "password_hash" not in detail and detail["phone"] == shop.member["phone"]
    assert anon.rows("get_member_by_auth_user", p_session_id=sid)[0]["id"] == shop.member["id"]
    assert fails(anon.rows, "get_member_by_auth_user") == (BUSINESS, "MEMBER_NOT_FOUND")
    tx = everything[0]
    assert anon.rows("get_transaction_detail", p_tx_no=tx["tx_no"], p_session_id=sid)[0]["id"] == tx["id"]
    assert fails(anon.rows, "get_transaction_detail", p_tx_no=tx["tx_no"], p_session_id=other) == \
        (BUSINESS, "TX_NOT_FOUND")
    # date filters are a half-open range
    now = datetime.now(timezone.utc)
    assert anon.rows("get_member_transactions", p_member_id=shop.member["id"], p_start_date=now + timedelta(hours=1),
                     p_session_id=sid) == []
    assert anon.rows("get_member_transactions", p_member_id=shop.member["id"], p_offset=6, p_session_id=sid) == []
    # an empty page of an existing member is empty; of no member, MEMBER_NOT_FOUND (the member is
    # looked up only when the page is empty); a stranger is refused before either
    svc = api.as_service()
    assert svc.rows("get_member_transactions", p_member_id=make_member(api, unique[1:] + "f")["id"]) == []
    assert fails(svc.rows, "get_member_transactions", p_member_id=uuid.uuid4()) == (BUSINESS, "MEMBER_NOT_FOUND")
    assert fails(anon.rows, "get_member_transactions", p_member_id=uuid.uuid4(), p_session_id=sid)[0] == PERMISSION


def test_admin_lists_and_searches(api, admin_sql, unique):
    svc = api.as_service()
    members = [make_member(api, unique[:-1] + c) for c in "0123"]
    admin_sql.execute("update member_profiles set name = %s where id = %s", (f"搜尋測試會員{unique}", members[0]["id"]))
    page = svc.rows("get_all_members", p_limit=3)
    assert len(page) == 3 and page[0]["total_count"] >= 4
    assert len(svc.rows("get_all_members", p_limit=3, p_offset=3)) >= 1
    found = svc.rows("search_members", p_keyword=f"搜尋測試會員{unique}")
    assert [r["id"] for r in found] == [members[0]["id"]]
    assert svc.rows("search_members", p_keyword=None) == []
    assert svc.rows("search_members", p_keyword="%") == []  # wildcards are literal
    adv = svc.rows("search_members_advanced", p_phone=members[1]["phone"], p_status="active")
    assert [r["id"] for r in adv] == [members[1]["id"]]
    cards = svc.rows("get_all_cards", p_limit=5, p_card_type="standard", p_owner_name=f"搜尋測試會員{unique}")
    assert [(c["owner_member_id"], c["owner_name"], c["total_count"]) for c in cards] == \
        [(members[0]["id"], f"搜尋測試會員{unique}", 1)]
    by_keyword = svc.rows("search_cards", p_keyword=f"搜尋測試會員{unique}")
    assert [c["owner_name"] for c in by_keyword] == [f"搜尋測試會員{unique}"]
    svc.scalar("create_merchant", p_code=f"S{unique}", p_name=f"Searchable {unique}")
    assert [m["code"] for m in svc.rows("search_merchants", p_keyword=f"searchable {unique}")] == [f"S{unique}"]


def test_page_sizes_are_bounded(api, admin_sql, unique):
    admin_sql.execute("insert into member_profiles (name) select 'bulk' || g from generate_series(1, 210) g")
    rows = api.as_service().rows("get_all_members", p_limit=100000)
    assert len(rows) == 200 and rows[0]["total_count"] >= 210
    assert len(api.as_service().rows("get_all_members", p_limit=-1, p_offset=-5)) == 1
    admin_sql.execute("delete from member_profiles where name like 'bulk%'")


def test_reports_add_up_beyond_one_cards_limit():
    """A day's movements may together exceed what one card can hold (numeric(12,2)): the
    reports sum them without overflowing (found by test_money_model.py, whose recharges of
    9,999,999,999 on several cards took the shared test database past it)."""
    name = "mps_report_volume"
    recreate_database(name)
    api = Api(name)
    try:
        svc = api.as_service()
        suffix = uuid.uuid4().hex[:10]
        code = f"RV{suffix}"
        merchant_id = svc.scalar("create_merchant", p_code=code, p_name="Volume Shop")
        for i in range(2):
            shop = Shop(api, make_member(api, suffix[:-1] + str(i)), {"id": merchant_id, "code": code},
                        amount="9000000000.00")
            shop.charge(D("8000000000.00"))
        totals = svc.rows("get_system_statistics")[0]
        assert (totals["transactions_today"], totals["transactions_today_amount"]) == (2, D("16000000000.00"))
        today = svc.rows("get_today_transaction_stats", p_merchant_id=merchant_id)[0]
        assert (today["payment_amount"], today["net_amount"]) == (D("16000000000.00"), D("16000000000.00"))
        now = datetime.now(timezone.utc)
        trend = svc.rows("get_transaction_trends", p_start_date=now - timedelta(days=1),
                         p_end_date=now + timedelta(days=1), p_merchant_id=merchant_id)
        assert sum(t["net_amount"] for t in trend) == D("16000000000.00")
    finally:
        api.close()
        drop_database(name)


def test_reports(api, admin_sql, shop):
    paid = shop.charge(D("100"))
    shop.charge(D("50.01"))
    shop.refund(paid["tx_no"], D("30"))
    svc = api.as_service()
    mine = svc.rows("get_today_transaction_stats", p_merchant_id=shop.merchant["id"])[0]
    assert mine == {"transaction_count": 2, "payment_amount": D("150.01"), "refund_amount": D("30.00"),
                    "net_amount": D("120.01"), "unique_customers": 1, "average_transaction": D("75.01")}
    everyone = svc.rows("get_today_transaction_stats")[0]
    assert everyone["net_amount"] == everyone["payment_amount"] - everyone["refund_amount"]  # recharges excluded
    now = datetime.now(timezone.utc)
    trends = svc.rows("get_transaction_trends", p_start_date=now - timedelta(days=1), p_end_date=now + timedelta(days=1),
                      p_merchant_id=shop.merchant["id"], p_group_by="day")
    assert len(trends) == 1
    day = trends[0]
    assert day["period_end"] - day["period_start"] == timedelta(days=1)
    assert (day["transaction_count"], day["net_amount"], day["average_transaction"]) == (2, D("120.01"), D("75.01"))
    hourly = svc.rows("get_transaction_trends", p_start_date=now - timedelta(days=1), p_end_date=now + timedelta(days=1),
                      p_merchant_id=shop.merchant["id"], p_group_by="hour")
    assert sum(h["transaction_count"] for h in hourly) == 2
    assert fails(svc.rows, "get_transaction_trends", p_start_date=now, p_end_date=now - timedelta(days=1)) == \
        (BUSINESS, "INVALID_PERIOD")
    assert fails(svc.rows, "get_transaction_trends", p_start_date=now - timedelta(days=1), p_end_date=now,
                 p_group_by="fortnight") == (BUSINESS, "INVALID_ARGUMENT")
    stats = svc.rows("get_system_statistics")[0]
    assert stats["members_total"] >= 1 and stats["cards_by_type"]["standard"] >= 1
    assert stats["transactions_today"] >= 2
    health = svc.rows("system_health_check")
    assert [h["check_name"] for h in health] == ["database_connection", "expired_sessions", "expiring_qr_codes",
                                                 "low_balance_cards", "suspended_members", "inactive_merchants"]
    assert all(h["status"] in ("ok", "warning") for h in health)
    assert all((h["recommendation"] is None) == (h["status"] == "ok") for h in health)
    member_sid = login_member(api, shop.member)
    for fn in ["get_system_statistics", "system_health_check", "get_today_transaction_stats"]:
        assert fails(api.as_anon().rows, fn, p_session_id=member_sid)[0] == PERMISSION, fn


def test_identifier_rpcs(api, admin_sql, unique):
    svc = api.as_service()
    a = make_member(api, unique)
    a_no = svc.rows("get_member_detail", p_member_id=a["id"])[0]["member_no"]
    # b's phone is a's member number (a row from before 0.3.0 checked phone shapes): the
    # member-number match wins, deterministically (docs/contract.md B22)
    b_id = svc.scalar("create_member_profile", p_name="B", p_phone=phone_for(unique, "05"), p_email=None,
                      p_password="b-password-1")
    admin_sql.execute("update member_profiles set phone = %s where id = %s", (a_no, b_id))
    assert svc.scalar("get_member_by_identifier", p_identifier=a_no)["id"] == str(a["id"])
    found = svc.scalar("get_member_by_identifier", p_identifier=f"{unique}@example.com")
    assert found["id"] == str(a["id"]) and "password_hash" not in found
    assert fails(svc.scalar, "get_member_by_identifier", p_identifier="nobody") == (BUSINESS, "MEMBER_NOT_FOUND")

    assert fails(svc.scalar, "set_member_password_by_identifier", p_identifier=a_no, p_new_password="1") == \
        (BUSINESS, "PASSWORD_TOO_SHORT")
    assert svc.scalar("set_member_password_by_identifier", p_identifier=a_no, p_new_password="fresh-password") is True
    assert api.as_anon().scalar("member_login", p_identifier=a_no, p_password="fresh-password")["success"]
    assert svc.scalar("update_member_by_identifier", p_identifier=a_no, p_name="Renamed") is True
    assert fails(svc.scalar, "update_member_by_identifier", p_identifier=a_no, p_phone=a_no) == \
        (BUSINESS, "INVALID_PHONE")
    assert svc.scalar("toggle_member_status_by_identifier", p_identifier=a_no, p_new_status="suspended") is True
    assert svc.rows("get_member_detail", p_member_id=a["id"])[0]["status"] == "suspended"
    actions = [r["action"] for r in admin_sql.execute(
        "select action from audit.event_log where object_id = %s and action <> 'LOGIN_SUCCESS' order by id",
        (a["id"],)).fetchall()]
    assert actions == ["CREATE_MEMBER", "PASSWORD_CHANGED", "UPDATE_MEMBER", "MEMBER_STATUS_CHANGE"]

    card_no = svc.rows("get_member_cards", p_member_id=b_id)[0]["card_no"]
    card = svc.scalar("get_card_by_identifier", p_identifier=card_no)
    assert card["card_no"] == card_no and "binding_password_hash" not in card
    details = svc.scalar("get_card_details_by_card_no", p_card_no=card_no)
    assert (details["owner_member_id"], details["owner_phone"]) == (str(b_id), a_no)
    assert svc.scalar("toggle_card_status_by_card_no", p_card_no=card_no, p_new_status="lost") is True
    assert svc.scalar("get_card_details_by_card_no", p_card_no=card_no)["status"] == "lost"
    assert fails(svc.scalar, "toggle_card_status_by_card_no", p_card_no="STD99999999x", p_new_status="active") == \
        (BUSINESS, "CARD_NOT_FOUND")
    # card numbers are guessable: anon and strangers learn nothing (docs/contract.md W2)
    assert fails(api.as_anon().scalar, "get_card_details_by_card_no", p_card_no=card_no) == \
        (PERMISSION, "NOT_AUTHENTICATED")
    stranger = login_member(api, make_member(api, unique[::-1]))
    assert fails(api.as_anon().scalar, "get_card_details_by_card_no", p_card_no=card_no, p_session_id=stranger) == \
        (BUSINESS, "CARD_NOT_FOUND")
    merchant = svc.scalar("create_merchant", p_code=f"I{unique}", p_name="Ident", p_password="ident-pass-1")
    m = svc.scalar("get_merchant_by_identifier", p_identifier=f"I{unique}")
    assert m["id"] == str(merchant) and "password_hash" not in m


def test_suspend_and_activate(api, shop):
    svc = api.as_service()
    assert svc.scalar("admin_suspend_merchant", p_merchant_id=shop.merchant["id"]) is True
    assert fails(shop.charge, D("1")) == (BUSINESS, "MERCHANT_NOT_FOUND_OR_INACTIVE")
    assert svc.scalar("admin_activate_merchant", p_merchant_id=shop.merchant["id"]) is True
    assert svc.scalar("admin_suspend_member", p_member_id=shop.member["id"]) is True
    assert fails(shop.charge, D("1")) == (BUSINESS, "MEMBER_NOT_ACTIVE")
    assert svc.scalar("admin_activate_member", p_member_id=shop.member["id"]) is True
    assert shop.charge(D("1"))["final_amount"] == D("1.00")
    for fn, arg in [("admin_suspend_member", "p_member_id"), ("admin_activate_member", "p_member_id")]:
        assert fails(svc.scalar, fn, **{arg: uuid.uuid4()}) == (BUSINESS, "MEMBER_NOT_FOUND")
    for fn in ["admin_suspend_merchant", "admin_activate_merchant"]:
        assert fails(svc.scalar, fn, p_merchant_id=uuid.uuid4()) == (BUSINESS, "MERCHANT_NOT_FOUND")


def test_update_member_profile(api, member, unique):
    other = make_member(api, unique[::-1])
    sid = login_member(api, member)
    anon = api.as_anon()
    assert anon.scalar("update_member_profile", p_member_id=member["id"], p_name="New Name", p_session_id=sid) is True
    assert fails(anon.scalar, "update_member_profile", p_member_id=member["id"], p_phone=other["phone"],
                 p_session_id=sid, p_current_password=member["password"]) == (BUSINESS, "DUPLICATE_PHONE")
    assert fails(anon.scalar, "update_member_profile", p_member_id=other["id"], p_name="X", p_session_id=sid)[0] == \
        PERMISSION
    row = api.as_service().rows("get_member_detail", p_member_id=member["id"])[0]
    assert (row["name"], row["phone"]) == ("New Name", member["phone"])  # NULL keeps a field


ADMIN_ONLY = [
    ("admin_suspend_member", {"p_member_id": uuid.uuid4()}), ("admin_activate_member", {"p_member_id": uuid.uuid4()}),
    ("admin_suspend_merchant", {"p_merchant_id": uuid.uuid4()}),
    ("admin_activate_merchant", {"p_merchant_id": uuid.uuid4()}),
    ("get_all_members", {}), ("search_members", {"p_keyword": "a"}), ("search_members_advanced", {}),
    ("search_merchants", {"p_keyword": "a"}), ("get_all_cards", {}), ("search_cards", {"p_keyword": "a"}),
    ("get_system_statistics", {}), ("system_health_check", {}), ("get_member_by_identifier", {"p_identifier": "x"}),
    ("get_merchant_by_identifier", {"p_identifier": "x"}), ("update_settlement_status",
                                                           {"p_settlement_id": uuid.uuid4(), "p_status": "paid"}),
    ("update_member_by_identifier", {"p_identifier": "x"}),
    ("set_member_password_by_identifier", {"p_identifier": "x", "p_new_password": "long-password"}),
    ("toggle_member_status_by_identifier", {"p_identifier": "x", "p_new_status": "active"}),
    ("toggle_card_status_by_card_no", {"p_card_no": "x", "p_new_status": "active"}),
    ("apply_retention", {}),
    ("delete_test_member", {"p_member_id": uuid.uuid4()}), ("delete_test_merchant", {"p_merchant_id": uuid.uuid4()}),
]


@pytest.mark.parametrize("fn,args", ADMIN_ONLY, ids=[f for f, _ in ADMIN_ONLY])
def test_admin_only_functions_refuse_everyone_else(api, member, merchant, fn, args):
    anon = api.as_anon()
    assert fails(anon.rows, fn, **args)[0] == PERMISSION  # anon may not even execute it
    for sid in [login_member(api, member), login_merchant(api, merchant)]:
        code, message = fails(api.as_claims({"role": "authenticated"}).rows, fn, p_session_id=sid, **args)
        assert code == PERMISSION and message.startswith("PERMISSION_DENIED: Required super_admin"), (fn, message)
