"""The events feed (issue 16): an event for every movement, written in the movement's own
transaction and by no failed call; get_events per caller, in pages, gap-free when transactions
commit out of id order; NOTIFY mps_events; RLS on public.events and the Realtime publication;
a hot standby; retention. Every test ends with verify_ledger() returning no rows (conftest)."""

import json
import os
import re
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from clusters import scratch_cluster
from conftest import Shop, login_member, login_merchant, make_member
from mps import SERVICE, Api, Request, admin_connect, drop_database, dsn, fails, recreate_database
from test_holds import Till, expire, jwt_of, staff_of
from test_money import balance_points
from test_reads_never_write import caught_up

PERMISSION = "42501"
BUSINESS = "P0001"
D = Decimal
CHANNEL = "mps_events"
COLUMNS = ["id", "occurred_at", "event_type", "card_id", "member_id", "merchant_id", "tx_no", "amount",
           "balance_after", "payload"]


# --- helpers ---------------------------------------------------------------------------------

def newest_id(admin_sql) -> int:
    """The largest event id so far: a reader starting now passes it as p_after_id."""
    return admin_sql.execute("select coalesce(max(id), 0) as id from public.events").fetchone()["id"]


def stored(admin_sql, after: int, **where) -> list[dict]:
    """The table's events with id > `after` (and the given column values), ascending, as the
    superuser reads them: no RLS, nothing held back."""
    condition = "".join(f" and {column} = %({column})s" for column in where)
    return admin_sql.execute(f"select {', '.join(COLUMNS)} from public.events where id > %(after)s{condition}"
                             " order by id", {"after": after, **where}).fetchall()


def fields(event: dict) -> tuple:
    return (event["event_type"], event["card_id"], event["member_id"], event["merchant_id"], event["tx_no"],
            event["amount"], event["balance_after"], event["payload"])


def clock(admin_sql) -> datetime:
    return admin_sql.execute("select clock_timestamp() as t").fetchone()["t"]


def moment(text: str) -> datetime:
    """A timestamp as a payload carries it (JSON text)."""
    return datetime.fromisoformat(text)


def xid_of(event_id: int) -> int:
    """The writing transaction's id (ids are (xid << 20) + n)."""
    return event_id >> 20


def tx_nos(rows) -> list:
    return [(r["event_type"], r["tx_no"]) for r in rows]


def new_merchant(api, code) -> dict:
    merchant_id = api.as_service().scalar("create_merchant", p_code=code, p_name=f"Shop {code}",
                                          p_password="merchant-pass-1")
    return {"id": merchant_id, "code": code, "password": "merchant-pass-1"}


def admin_jwt(api, admin_sql) -> Request:
    """A JWT super admin (an admin_users row)."""
    sub = uuid.uuid4()
    admin_sql.execute("insert into admin_users (auth_user_id, name) values (%s, 'Events Admin')", (sub,))
    return api.as_user(sub)


def open_charge(database, shop: Shop, raw, tag: dict):
    """A charge made as PostgREST makes it (service_role), on a connection of its own, whose
    transaction is left open: returns (connection, charge row); the caller commits or rolls back."""
    conn = psycopg.connect(dsn(database, "authenticator"), row_factory=dict_row)
    conn.execute("select set_config('search_path', 'public', true), set_config('role', 'service_role', true),"
                 " set_config('request.jwt.claims', %s, true)", (json.dumps(SERVICE),))
    row = conn.execute("select * from public.merchant_charge_by_qr(p_merchant_code => %s, p_qr_plain => %s,"
                       " p_raw_amount => %s, p_tag => %s)",
                       (shop.merchant["code"], shop.qr(), D(raw), Jsonb(tag))).fetchone()
    return conn, row


def superuser_api(database, **settings) -> Api:
    """A client logged in as the superuser, with session settings (mps.* are superuser-only)."""
    client = Api(database, user="postgres")
    for name, value in settings.items():
        client.conn.execute(f"set mps.{name} = {value}")
    client.conn.commit()
    return client


# --- 1. every movement writes its event, in its own transaction ------------------------------

def test_payment_refund_and_recharge_events(api, admin_sql, shop, unique):
    card, member_id, merchant_id = shop.card, shop.member["id"], shop.merchant["id"]
    mark = newest_id(admin_sql)
    before = clock(admin_sql)
    paid = shop.charge(D("120.50"), p_tag=Jsonb({"order": unique}))
    refund = shop.refund(paid["tx_no"], D("20.25"), p_tag=Jsonb({"reason": "damaged"}))
    recharge = shop.svc.rows("user_recharge_card", p_card_id=card, p_amount=D("50.005"), p_payment_method="cash",
                             p_tag=Jsonb({"till": 3}))[0]
    after = clock(admin_sql)
    events = stored(admin_sql, mark)
    assert [fields(e) for e in events] == [
        ("payment", card, member_id, merchant_id, paid["tx_no"], D("120.50"), D("879.50"), {"tag": {"order": unique}}),
        ("refund", card, member_id, merchant_id, refund["refund_tx_no"], D("20.25"), D("899.75"),
         {"tag": {"reason": "damaged"}, "original_tx_no": paid["tx_no"]}),
        ("recharge", card, member_id, None, recharge["tx_no"], D("50.01"), D("949.76"), {"tag": {"till": 3}}),
    ]
    assert all(before <= e["occurred_at"] <= after for e in events)
    assert len({xid_of(e["id"]) for e in events}) == 3  # one transaction each
    assert balance_points(api, card)[0] == D("949.76")
    # get_events answers the same rows, column for column
    assert api.as_service().rows("get_events", p_after_id=mark) == events


def test_a_payment_event_carries_the_amount_after_discount_and_points_adjustments_theirs(api, admin_sql, shop):
    card, member_id = shop.card, shop.member["id"]
    mark = newest_id(admin_sql)
    assert shop.svc.scalar("update_points_and_level", p_card_id=card, p_delta_points=1000) is True
    paid = shop.charge(D("200"))  # level 1: 0.950
    assert balance_points(api, card) == (D("810.00"), 1200, 1, D("0.950"))
    shop.svc.scalar("update_points_and_level", p_card_id=card, p_delta_points=-999999, p_reason="correction")
    assert [fields(e) for e in stored(admin_sql, mark)] == [
        ("points_adjusted", card, member_id, None, None, None, D("1000.00"),
         {"delta": 1000, "points_before": 0, "points_after": 1000, "level": 1, "reason": "manual_adjust"}),
        ("payment", card, member_id, shop.merchant["id"], paid["tx_no"], D("190.00"), D("810.00"), {"tag": {}}),
        ("points_adjusted", card, member_id, None, None, None, D("810.00"),
         {"delta": -999999, "points_before": 1200, "points_after": 0, "level": 0, "reason": "correction"}),
    ]


def test_a_members_own_recharge_writes_its_event_when_confirmed(api, admin_sql, shop):
    card, member_id = shop.card, shop.member["id"]
    sid = login_member(api, shop.member)
    mark = newest_id(admin_sql)
    asked = api.as_anon().rows("user_recharge_card", p_card_id=card, p_amount=D("25.50"), p_payment_method="alipay",
                               p_tag=Jsonb({"app": "ios"}), p_session_id=sid)[0]
    # pending: no money moved, no event
    assert stored(admin_sql, mark) == []
    assert api.as_anon().rows("get_events", p_after_id=mark, p_session_id=sid) == []
    confirming = clock(admin_sql)
    assert api.as_service().rows("confirm_recharge", p_tx_no=asked["tx_no"]) == [asked]
    confirmed = clock(admin_sql)
    events = stored(admin_sql, mark)
    assert [fields(e) for e in events] == [
        ("recharge", card, member_id, None, asked["tx_no"], D("25.50"), D("1025.50"), {"tag": {"app": "ios"}})]
    assert confirming <= events[0]["occurred_at"] <= confirmed  # the confirmation's time
    # a retried confirmation credits nothing and writes nothing
    assert api.as_service().rows("confirm_recharge", p_tx_no=asked["tx_no"]) == [asked]
    assert stored(admin_sql, mark) == events
    assert api.as_anon().rows("get_events", p_after_id=mark, p_session_id=sid) == events


def test_freezing_and_unfreezing_write_card_events(api, admin_sql, shop):
    card, member_id, svc = shop.card, shop.member["id"], shop.svc
    card_no = admin_sql.execute("select card_no from member_cards where id = %s", (card,)).fetchone()["card_no"]
    mark = newest_id(admin_sql)
    assert svc.scalar("freeze_card", p_card_id=card) is True
    assert svc.scalar("unfreeze_card", p_card_id=card) is True
    assert fails(svc.scalar, "unfreeze_card", p_card_id=card) == (BUSINESS, "CARD_NOT_FROZEN")
    assert svc.scalar("toggle_card_status_by_card_no", p_card_no=card_no, p_new_status="inactive") is True
    assert svc.scalar("toggle_card_status_by_card_no", p_card_no=card_no, p_new_status="active") is True
    frozen = ("card_frozen", card, member_id, None, None, None, D("1000.00"), {"status": "inactive"})
    unfrozen = ("card_unfrozen", card, member_id, None, None, None, D("1000.00"), {"status": "active"})
    assert [fields(e) for e in stored(admin_sql, mark)] == [frozen, unfrozen, frozen, unfrozen]


def test_a_settlement_writes_its_event(api, admin_sql, shop):
    svc, merchant_id = shop.svc, shop.merchant["id"]
    start = datetime.now(timezone.utc) - timedelta(hours=1)
    paid = shop.charge(D("40"))
    shop.refund(paid["tx_no"], D("15"))
    end = datetime.now(timezone.utc)
    mark = newest_id(admin_sql)
    settlement_id = svc.scalar("generate_settlement", p_merchant_id=merchant_id, p_mode="realtime",
                               p_period_start=start, p_period_end=end)
    row = admin_sql.execute("select period_start, period_end, total_amount, total_tx_count from settlements"
                            " where id = %s", (settlement_id,)).fetchone()
    assert (row["total_amount"], row["total_tx_count"]) == (D("25.00"), 2)
    (event,) = stored(admin_sql, mark)
    payload = event["payload"]
    assert fields(event)[:7] == ("settlement_generated", None, None, merchant_id, None, D("25.00"), None)
    assert set(payload) == {"settlement_id", "mode", "period_start", "period_end", "total_tx_count"}
    assert (payload["settlement_id"], payload["mode"], payload["total_tx_count"]) == (str(settlement_id), "realtime", 2)
    assert (moment(payload["period_start"]), moment(payload["period_end"])) == (row["period_start"], row["period_end"])
    assert (moment(payload["period_start"]), moment(payload["period_end"])) == (start, end)
    # the merchant sees it; its member does not
    anon = api.as_anon()
    assert anon.rows("get_events", p_after_id=mark, p_session_id=login_merchant(api, shop.merchant)) == [event]
    assert anon.rows("get_events", p_after_id=mark, p_session_id=login_member(api, shop.member)) == []


def test_the_daily_settlement_job_writes_its_events(api, admin_sql, shop):
    paid = shop.charge(D("40"))
    admin_sql.execute("update transactions set created_at = (current_date - 1)::timestamp at time zone 'UTC'"
                      " + interval '12 hours' where id = %s", (paid["tx_id"],))
    mark = newest_id(admin_sql)
    assert api.as_service().scalar("generate_daily_settlements", p_day=date.today() - timedelta(days=1)) >= 1
    row = admin_sql.execute("select id, period_start, period_end from settlements where merchant_id = %s",
                            (shop.merchant["id"],)).fetchone()
    (event,) = stored(admin_sql, mark, merchant_id=shop.merchant["id"])
    assert fields(event)[:7] == ("settlement_generated", None, None, shop.merchant["id"], None, D("40.00"), None)
    assert {**event["payload"], "period_start": moment(event["payload"]["period_start"]),
            "period_end": moment(event["payload"]["period_end"])} == {
        "settlement_id": str(row["id"]), "mode": "t_plus_1", "period_start": row["period_start"],
        "period_end": row["period_end"], "total_tx_count": 1}


def test_hold_events_from_authorization_to_capture_void_and_expiry(api, admin_sql, shop):
    till = Till(shop)
    card, member_id, merchant_id = shop.card, shop.member["id"], shop.merchant["id"]
    mark = newest_id(admin_sql)
    held = till.authorize(D("100"), p_tag=Jsonb({"table": 7}))
    to_void = till.authorize(D("30"))
    to_lapse = till.authorize(D("20"))
    assert till.void(to_void["hold_no"]) is True
    assert till.void(to_void["hold_no"]) is False  # nothing voided: nothing written
    paid = till.capture(held["hold_no"], D("60"), p_tag=Jsonb({"cap": 1}))
    expire(admin_sql, to_lapse["hold_id"])
    till.svc.scalar("cron_rotate_qr_tokens")
    assert till.statuses()[to_lapse["hold_no"]] == "expired"
    assert till.balance() == (D("940.00"), D("0.00"), D("940.00"))

    events = stored(admin_sql, mark, card_id=card)  # the job may expire other cards' holds too
    assert len(events) == 7, tx_nos(events)
    authorized = events[:3]
    assert [fields(e)[:7] for e in authorized] == [
        ("hold_authorized", card, member_id, merchant_id, h["hold_no"], amount, D("1000.00"))
        for h, amount in [(held, D("100.00")), (to_void, D("30.00")), (to_lapse, D("20.00"))]]
    assert [e["payload"]["tag"] for e in authorized] == [{"table": 7}, {}, {}]
    assert [set(e["payload"]) for e in authorized] == [{"tag", "expires_at"}] * 3
    assert [moment(e["payload"]["expires_at"]) for e in authorized] == \
        [h["expires_at"] for h in (held, to_void, to_lapse)]
    assert fields(events[3]) == ("hold_voided", card, member_id, merchant_id, to_void["hold_no"], D("30.00"),
                                 D("1000.00"), {})
    assert fields(events[6]) == ("hold_expired", card, member_id, merchant_id, to_lapse["hold_no"], D("20.00"),
                                 D("940.00"), {})
    # the job found nothing more to expire: a second run writes nothing
    till.svc.scalar("cron_rotate_qr_tokens")
    assert stored(admin_sql, events[-1]["id"], card_id=card) == []
    # the capture: its payment and the hold's event, in one transaction
    assert xid_of(events[4]["id"]) == xid_of(events[5]["id"])
    capture = sorted(fields(e) for e in events[4:6])
    assert capture == [
        ("hold_captured", card, member_id, merchant_id, held["hold_no"], D("60.00"), D("940.00"),
         {"capture_tx_no": paid["tx_no"]}),
        ("payment", card, member_id, merchant_id, paid["tx_no"], D("60.00"), D("940.00"),
         {"tag": {"cap": 1}}),
    ]


def test_a_failed_or_replayed_call_writes_no_event(api, admin_sql, shop, unique):
    till, svc = Till(shop), shop.svc
    qr = shop.qr()
    mark = newest_id(admin_sql)
    assert fails(shop.charge, D("1000.01"), qr=qr) == (BUSINESS, "INSUFFICIENT_BALANCE")
    assert fails(till.authorize, D("1000.01"), qr=qr) == (BUSINESS, "INSUFFICIENT_BALANCE")
    assert fails(svc.rows, "user_recharge_card", p_card_id=shop.card, p_amount=D("0")) == \
        (BUSINESS, "INVALID_RECHARGE_AMOUNT")
    assert fails(svc.scalar, "update_points_and_level", p_card_id=uuid.uuid4(), p_delta_points=1) == \
        (BUSINESS, "CARD_NOT_FOUND_OR_INACTIVE")
    assert stored(admin_sql, mark) == []

    paid = shop.charge(D("10"), qr=qr, p_idempotency_key=f"pay-{unique}")
    assert shop.charge(D("10"), qr=qr, p_idempotency_key=f"pay-{unique}") == paid
    assert fails(shop.charge, D("11"), qr=qr, p_idempotency_key=f"pay-{unique}") == \
        (BUSINESS, "IDEMPOTENCY_KEY_REUSED")
    refund = shop.refund(paid["tx_no"], D("4"), p_idempotency_key=f"ref-{unique}")
    assert shop.refund(paid["tx_no"], D("4"), p_idempotency_key=f"ref-{unique}") == refund
    assert fails(shop.refund, paid["tx_no"], D("6.01")) == (BUSINESS, "REFUND_EXCEEDS_REMAINING")
    recharge = svc.rows("user_recharge_card", p_card_id=shop.card, p_amount=D("5"), p_idempotency_key=f"rc-{unique}")[0]
    assert svc.rows("user_recharge_card", p_card_id=shop.card, p_amount=D("5"),
                    p_idempotency_key=f"rc-{unique}")[0] == recharge
    hold = till.authorize(D("7"), qr=qr, p_idempotency_key=f"auth-{unique}")
    assert till.authorize(D("7"), qr=qr, p_idempotency_key=f"auth-{unique}") == hold
    captured = till.capture(hold["hold_no"], p_idempotency_key=f"cap-{unique}")
    assert till.capture(hold["hold_no"], p_idempotency_key=f"cap-{unique}") == captured
    assert fails(till.capture, hold["hold_no"]) == (BUSINESS, "HOLD_NOT_ACTIVE")
    assert fails(till.void, hold["hold_no"]) == (BUSINESS, "HOLD_NOT_ACTIVE")
    assert balance_points(api, shop.card)[0] == D("992.00")  # 1000 − 10 + 4 + 5 − 7
    events = stored(admin_sql, mark)
    assert tx_nos(events[:4]) == [("payment", paid["tx_no"]), ("refund", refund["refund_tx_no"]),
                                  ("recharge", recharge["tx_no"]), ("hold_authorized", hold["hold_no"])]
    assert sorted(tx_nos(events[4:])) == [("hold_captured", hold["hold_no"]), ("payment", captured["tx_no"])]


# --- 2. who sees what, limits, order, paging --------------------------------------------------

def test_each_caller_sees_its_own_events(api, admin_sql, database, unique):
    svc, anon = api.as_service(), api.as_anon()
    x, y = new_merchant(api, f"X{unique}"), new_merchant(api, f"Y{unique}")
    a, b = make_member(api, unique[:-1] + "a"), make_member(api, unique[:-1] + "b")
    mark = newest_id(admin_sql)
    a_x, b_x = Shop(api, a, x, amount="500.00"), Shop(api, b, x, amount="300.00")
    a_y, b_y = Shop(api, a, y, amount=None), Shop(api, b, y, amount=None)
    paid = [s.charge(D(raw)) for s, raw in [(a_x, "10"), (b_x, "20"), (a_y, "30"), (b_y, "40")]]
    rcg = [r["tx_no"] for r in stored(admin_sql, mark, event_type="recharge")]
    everything = stored(admin_sql, mark)
    assert tx_nos(everything) == [("recharge", rcg[0]), ("recharge", rcg[1])] + [("payment", p["tx_no"]) for p in paid]
    mine = {"a": [everything[i] for i in (0, 2, 4)], "b": [everything[i] for i in (1, 3, 5)],
            "x": [everything[i] for i in (2, 3)], "y": [everything[i] for i in (4, 5)]}
    assert [e["member_id"] for e in mine["a"]] == [a["id"]] * 3

    superuser = superuser_api(database)
    try:
        callers = {
            "member a session": (anon, {"p_session_id": login_member(api, a)}, mine["a"]),
            "member a jwt": (jwt_of(api, admin_sql, a["id"]), {}, mine["a"]),
            "member b session": (anon, {"p_session_id": login_member(api, b)}, mine["b"]),
            "merchant x session": (anon, {"p_session_id": login_merchant(api, x)}, mine["x"]),
            "merchant x staff jwt": (staff_of(api, admin_sql, x["id"]), {}, mine["x"]),
            "merchant y session": (anon, {"p_session_id": login_merchant(api, y)}, mine["y"]),
            "service_role": (svc, {}, everything),
            "admin jwt": (admin_jwt(api, admin_sql), {}, everything),
            "psql superuser": (Request(superuser, None), {}, everything),
            "member without events": (anon, {"p_session_id": login_member(api, make_member(api, unique[::-1]))}, []),
        }
        seen = {who: by.rows("get_events", p_after_id=mark, **extra) for who, (by, extra, _) in callers.items()}
    finally:
        superuser.close()
    assert seen == {who: expected for who, (_, _, expected) in callers.items()}
    assert fails(anon.rows, "get_events", p_after_id=mark) == (PERMISSION, "NOT_AUTHENTICATED")
    assert fails(anon.rows, "get_events") == (PERMISSION, "NOT_AUTHENTICATED")
    # a valid JWT whose user has no account here is nobody, as for every RPC
    assert fails(api.as_user(uuid.uuid4()).rows, "get_events", p_after_id=mark) == (PERMISSION, "NOT_AUTHENTICATED")


def test_limits_order_and_paging(api, admin_sql, shop):
    svc = shop.svc
    mark = newest_id(admin_sql)
    # 1,005 events in one transaction (the superuser is a super admin)
    admin_sql.execute("select public.update_points_and_level(%s, 1) from generate_series(1, 1005)", (shop.card,))
    written = stored(admin_sql, mark)
    assert len(written) == 1005 and {e["event_type"] for e in written} == {"points_adjusted"}
    assert [e["payload"]["points_after"] for e in written] == list(range(1, 1006))

    def ids(**args):
        return [e["id"] for e in svc.rows("get_events", **args)]

    every = [e["id"] for e in written]
    assert ids(p_after_id=mark, p_limit=5000) == every[:1000]
    assert ids(p_after_id=mark, p_limit=1001) == every[:1000]
    assert ids(p_after_id=mark, p_limit=1000) == every[:1000]
    assert ids(p_after_id=mark, p_limit=0) == every[:1]
    assert ids(p_after_id=mark, p_limit=-5) == every[:1]
    assert ids(p_after_id=mark, p_limit=None) == every[:100]
    assert ids(p_after_id=mark) == every[:100]
    assert ids(p_after_id=every[-2], p_limit=10) == every[-1:]
    assert ids(p_after_id=every[-1]) == []
    # from the start: NULL is 0, and the defaults are (0, 100)
    first = [e["id"] for e in stored(admin_sql, 0)[:100]]
    assert ids() == first
    assert ids(p_after_id=None, p_limit=7) == ids(p_after_id=0, p_limit=7) == first[:7]
    # pages, each starting after the largest id received: every event once, ascending
    received, after = [], mark
    while page := ids(p_after_id=after, p_limit=300):
        assert len(page) <= 300
        received += page
        after = page[-1]
    assert received == every
    # the owner's session pages the same way
    sid = login_member(api, shop.member)
    assert [e["id"] for e in api.as_anon().rows("get_events", p_after_id=mark, p_limit=5000, p_session_id=sid)] == \
        every[:1000]


# --- 3. gap-free across transactions that commit out of id order -----------------------------

def test_a_reader_never_misses_an_event_committed_out_of_id_order(api, admin_sql, database, member, merchant,
                                                                   unique):
    first_shop = Shop(api, member, merchant)
    other_shop = Shop(api, make_member(api, unique[::-1]), new_merchant(api, f"G{unique}"))
    reader = api.as_service()
    writer = Api(database)
    writer.conn.execute("set lock_timeout = '10s'")  # a wait on the open charge fails instead of hanging
    writer.conn.commit()
    later = Shop(writer, other_shop.member, other_shop.merchant, amount=None)
    try:
        # the reader is up to date: it has received the newest event
        mark = newest_id(admin_sql)
        start = later.charge(D("1"), p_tag=Jsonb({"step": "start"}))
        received = reader.rows("get_events", p_after_id=mark)
        assert tx_nos(received) == [("payment", start["tx_no"])]
        last = received[-1]["id"]

        # A charges and stays open; B charges later and commits
        a_conn, a = open_charge(database, first_shop, "10", {"step": "a"})
        try:
            b = later.charge(D("20"), p_tag=Jsonb({"step": "b"}))
            (b_event,) = stored(admin_sql, last)  # B is committed, with an id above the reader's
            assert b_event["tx_no"] == b["tx_no"] and b_event["id"] > last
            # held back behind A, for every reader
            assert reader.rows("get_events", p_after_id=last) == []
            assert reader.rows("get_events", p_after_id=last, p_limit=1000) == []
            a_conn.commit()
        finally:
            a_conn.close()
        a_event = stored(admin_sql, last, tx_no=a["tx_no"])[0]
        assert a_event["id"] < b_event["id"]  # A's id is the smaller one: it committed out of order
        got = reader.rows("get_events", p_after_id=last)
        assert tx_nos(got) == [("payment", a["tx_no"]), ("payment", b["tx_no"])]
        assert got == [a_event, b_event]
        assert reader.rows("get_events", p_after_id=got[-1]["id"]) == []
        last = got[-1]["id"]

        # a charge that rolls back: held back while open, never seen afterwards
        c_conn, c = open_charge(database, first_shop, "30", {"step": "c"})
        try:
            d = later.charge(D("40"), p_tag=Jsonb({"step": "d"}))
            assert reader.rows("get_events", p_after_id=last) == []
            c_conn.rollback()
        finally:
            c_conn.close()
        got = reader.rows("get_events", p_after_id=last)
        assert tx_nos(got) == [("payment", d["tx_no"])]
        assert stored(admin_sql, mark, tx_no=c["tx_no"]) == []
        assert reader.rows("get_events", p_after_id=got[-1]["id"]) == []
        # each event reached the reader exactly once, in id order
        assert [e["tx_no"] for e in reader.rows("get_events", p_after_id=mark)] == \
            [start["tx_no"], a["tx_no"], b["tx_no"], d["tx_no"]]
    finally:
        writer.close()
    assert balance_points(api, first_shop.card)[0] == D("990.00")
    assert balance_points(api, other_shop.card)[0] == D("939.00")


# --- 4. NOTIFY mps_events ---------------------------------------------------------------------

@pytest.fixture
def listener(database):
    conn = psycopg.connect(dsn(database, "postgres"), autocommit=True)
    conn.execute(f"LISTEN {CHANNEL}")
    yield conn
    conn.close()


def heard(listener, seconds=1.0, stop_after=None) -> list[tuple[str, str]]:
    return [(n.channel, n.payload) for n in listener.notifies(timeout=seconds, stop_after=stop_after)]


def test_a_commit_notifies_its_first_event_id(api, admin_sql, database, shop, listener):
    till = Till(shop)
    heard(listener, 0.2)  # whatever the set-up announced
    mark = newest_id(admin_sql)
    paid = shop.charge(D("12"))
    (event,) = stored(admin_sql, mark)
    assert event["tx_no"] == paid["tx_no"]
    notes = heard(listener, 5, stop_after=1) + heard(listener, 0.5)
    assert notes == [(CHANNEL, str(event["id"]))]
    assert re.fullmatch(r"[1-9][0-9]*", notes[0][1])  # the id and nothing else
    # the listener fetches under its own authorization: the member's session gets the event
    sid = login_member(api, shop.member)
    assert [e["id"] for e in api.as_anon().rows("get_events", p_after_id=int(notes[0][1]) - 1, p_session_id=sid)] == \
        [event["id"]]

    # a failed call and a rolled-back charge send nothing
    assert fails(shop.charge, D("100000")) == (BUSINESS, "INSUFFICIENT_BALANCE")
    conn, _ = open_charge(database, shop, "1", {})
    conn.rollback()
    conn.close()
    assert heard(listener, 1.5) == []
    assert balance_points(api, shop.card)[0] == D("988.00")

    # a transaction with two events (a capture): one notification, of its first id
    hold = till.authorize(D("5"))
    assert heard(listener, 5, stop_after=1) + heard(listener, 0.5) == [(CHANNEL, str(newest_id(admin_sql)))]
    mark = newest_id(admin_sql)
    till.capture(hold["hold_no"])
    captured = stored(admin_sql, mark)
    assert sorted(e["event_type"] for e in captured) == ["hold_captured", "payment"]
    assert heard(listener, 5, stop_after=1) + heard(listener, 0.5) == [(CHANNEL, str(min(e["id"] for e in captured)))]
    assert balance_points(api, shop.card)[0] == D("983.00")


def test_notifications_can_be_turned_off_by_a_superuser(api, admin_sql, database, shop, listener):
    with pytest.raises(psycopg.Error) as refused:  # only a superuser sets it
        api.as_service().execute("set mps.events_notify = off")
    assert refused.value.sqlstate == PERMISSION
    quiet = superuser_api(database, events_notify="off")
    try:
        svc = Request(quiet, SERVICE)
        heard(listener, 0.2)  # whatever the set-up announced
        mark = newest_id(admin_sql)
        paid = svc.rows("merchant_charge_by_qr", p_merchant_code=shop.merchant["code"], p_qr_plain=shop.qr(),
                        p_raw_amount=D("3"))[0]
        assert tx_nos(stored(admin_sql, mark)) == [("payment", paid["tx_no"])]  # the event is written
        assert heard(listener, 1.5) == []  # but not announced
        # the same session with the setting back on announces again
        quiet.conn.execute("set mps.events_notify = on")
        quiet.conn.commit()
        mark = newest_id(admin_sql)
        svc.rows("merchant_charge_by_qr", p_merchant_code=shop.merchant["code"], p_qr_plain=shop.qr(),
                 p_raw_amount=D("4"))
        (event,) = stored(admin_sql, mark)
        assert heard(listener, 5, stop_after=1) + heard(listener, 0.5) == [(CHANNEL, str(event["id"]))]
    finally:
        quiet.close()
    # other sessions were never affected
    mark = newest_id(admin_sql)
    shop.charge(D("5"))
    (event,) = stored(admin_sql, mark)
    assert heard(listener, 5, stop_after=1) + heard(listener, 0.5) == [(CHANNEL, str(event["id"]))]
    assert admin_sql.execute("show mps.events_notify").fetchone()["mps.events_notify"] == "on"


# --- 5. the table API: RLS as get_events ------------------------------------------------------

def test_table_rows_are_filtered_like_get_events(api, admin_sql, unique):
    x, y = new_merchant(api, f"T{unique}"), new_merchant(api, f"U{unique}")
    a, b = make_member(api, unique[:-1] + "c"), make_member(api, unique[:-1] + "d")
    mark = newest_id(admin_sql)
    shop_a, shop_b = Shop(api, a, x, amount="100.00"), Shop(api, b, y, amount="100.00")
    shop_a.charge(D("1"))
    shop_b.charge(D("2"))
    Shop(api, b, x, amount=None).charge(D("3"))
    everything = stored(admin_sql, mark)
    assert len(everything) == 5
    callers = {"member a jwt": jwt_of(api, admin_sql, a["id"]), "member b jwt": jwt_of(api, admin_sql, b["id"]),
               "staff x": staff_of(api, admin_sql, x["id"]), "staff y": staff_of(api, admin_sql, y["id"]),
               "admin jwt": admin_jwt(api, admin_sql), "service_role": api.as_service()}
    query = f"select {', '.join(COLUMNS)} from public.events where id > %s order by id"
    table = {who: by.execute(query, (mark,)) for who, by in callers.items()}
    rpc = {who: by.rows("get_events", p_after_id=mark) for who, by in callers.items()}
    assert table == rpc
    assert {who: [everything.index(e) for e in rows] for who, rows in table.items()} == {
        "member a jwt": [0, 2], "member b jwt": [1, 3, 4], "staff x": [2, 4], "staff y": [3],
        "admin jwt": [0, 1, 2, 3, 4], "service_role": [0, 1, 2, 3, 4]}
    assert fails(api.as_anon().execute, "select id from public.events")[0] == PERMISSION
    # nobody writes events through the table API
    first = everything[0]["id"]
    for by in (callers["member a jwt"], callers["staff x"], callers["service_role"]):
        for statement in ("insert into public.events (id, occurred_at, event_type) values (1, now(), 'payment')",
                          f"update public.events set amount = 0 where id = {first}",
                          f"delete from public.events where id = {first}"):
            assert fails(by.execute, statement)[0] == PERMISSION, statement
    assert stored(admin_sql, mark) == everything
    # a JWT user without an account: no rows from the table; get_events refuses nobody
    stranger = api.as_user(uuid.uuid4())
    assert stranger.execute(query, (mark,)) == []
    assert fails(stranger.rows, "get_events", p_after_id=mark) == (PERMISSION, "NOT_AUTHENTICATED")


# --- 6. Supabase Realtime ---------------------------------------------------------------------

def published(conn) -> list[tuple[str, str]]:
    return [(r["schemaname"], r["tablename"]) for r in conn.execute(
        "select schemaname, tablename from pg_publication_tables where pubname = 'supabase_realtime'").fetchall()]


def test_add_events_to_realtime(api, admin_sql, shop):
    svc, anon = api.as_service(), api.as_anon()
    assert admin_sql.execute("select count(*) as n from pg_publication where pubname = 'supabase_realtime'") \
        .fetchone()["n"] == 0
    assert svc.scalar("add_events_to_realtime") is False  # no such publication
    admin_sql.execute("create publication supabase_realtime")
    try:
        refused = [(anon, {}), (anon, {"p_session_id": login_member(api, shop.member)}),
                   (anon, {"p_session_id": login_merchant(api, shop.merchant)}),
                   (jwt_of(api, admin_sql, shop.member["id"]), {}), (staff_of(api, admin_sql, shop.merchant["id"]), {})]
        for by, extra in refused:
            assert fails(by.scalar, "add_events_to_realtime", **extra)[0] == PERMISSION, extra
        assert published(admin_sql) == []
        assert svc.scalar("add_events_to_realtime") is True
        assert published(admin_sql) == [("public", "events")]
        assert svc.scalar("add_events_to_realtime") is False
        assert admin_jwt(api, admin_sql).scalar("add_events_to_realtime") is False
        assert admin_sql.execute("select public.add_events_to_realtime() as added").fetchone()["added"] is False
        assert published(admin_sql) == [("public", "events")]
    finally:
        admin_sql.execute("drop publication if exists supabase_realtime")


def test_install_and_upgrade_join_an_existing_publication():
    try:
        recreate_database("mps_events_install", extension=False)
        with admin_connect("mps_events_install") as conn:
            conn.autocommit = True
            conn.execute("create publication supabase_realtime")
            conn.execute("create extension mps_ext")
            assert published(conn) == [("public", "events")]
            assert conn.execute("select public.add_events_to_realtime() as added").fetchone()["added"] is False
        recreate_database("mps_events_upgrade", "0.5.0")
        with admin_connect("mps_events_upgrade") as conn:
            conn.autocommit = True
            conn.execute("create publication supabase_realtime")
            conn.execute("alter extension mps_ext update")
            assert conn.execute("select extversion from pg_extension where extname = 'mps_ext'").fetchone() == \
                {"extversion": "0.6.0"}
            assert published(conn) == [("public", "events")]
    finally:
        drop_database("mps_events_install")
        drop_database("mps_events_upgrade")


# --- 7. reads on a hot standby ----------------------------------------------------------------

def test_get_events_assigns_no_transaction_id(api, admin_sql, shop):
    mark = newest_id(admin_sql)
    shop.charge(D("1"))
    sid, msid = login_member(api, shop.member), login_merchant(api, shop.merchant)
    for claims, extra in [(SERVICE, {}), ({"role": "anon"}, {"p_session_id": sid}),
                          ({"role": "anon"}, {"p_session_id": msid})]:
        xids = {}
        assert len(Request(api, claims, xids).rows("get_events", p_after_id=mark, **extra)) == 1
        assert xids == {"get_events": None}, extra
    assert admin_sql.execute("select provolatile from pg_proc where oid = 'public.get_events'::regproc") \
        .fetchone()["provolatile"] == "s"


STANDBY_PORT = 5497


def test_a_hot_standby_serves_the_same_events(api, admin_sql, database, shop):
    mark = newest_id(admin_sql)
    paid = shop.charge(D("30"))
    refund = shop.refund(paid["tx_no"], D("5"))
    sid, msid = login_member(api, shop.member), login_merchant(api, shop.merchant)
    jwt = jwt_of(api, admin_sql, shop.member["id"]).claims

    def reads(client):
        anon = client.as_anon()
        return {"service": client.as_service().rows("get_events", p_after_id=mark),
                "member session": anon.rows("get_events", p_after_id=mark, p_session_id=sid),
                "merchant session": anon.rows("get_events", p_after_id=mark, p_session_id=msid),
                "member jwt": client.as_claims(jwt).rows("get_events", p_after_id=mark)}

    on_primary = reads(api)
    assert tx_nos(on_primary["service"]) == [("payment", paid["tx_no"]), ("refund", refund["refund_tx_no"])]
    assert on_primary["member session"] == on_primary["merchant session"] == on_primary["member jwt"] == \
        on_primary["service"]
    with scratch_cluster(STANDBY_PORT, {}, standby_of=(os.environ["PGHOST"], os.environ["PGPORT"])) as standby:
        caught_up(database, standby)
        replica = Api(database, host=standby.host, port=standby.port)
        try:
            assert replica.conn.execute("select pg_is_in_recovery() as r").fetchone()["r"] is True
            replica.conn.rollback()
            assert reads(replica) == on_primary
        finally:
            replica.close()


# --- 8. retention -----------------------------------------------------------------------------

def events_report(client: Api) -> dict:
    (row,) = [r for r in Request(client, SERVICE).rows("apply_retention") if r["table_name"] == "public.events"]
    return row


def test_retention_removes_events_past_the_setting(api, admin_sql, database, shop):
    assert admin_sql.execute("show mps.retention_events_days").fetchone()["mps.retention_events_days"] == "30"
    mark = newest_id(admin_sql)
    paid = [shop.charge(D(raw))["tx_no"] for raw in ("1", "2", "3", "4")]
    for tx_no, age in zip(paid, ["31 days", "29 days", "2 days", "0 days"]):
        admin_sql.execute("update public.events set occurred_at = now() - %s::interval where tx_no = %s", (age, tx_no))

    def remaining():
        return [e["tx_no"] for e in stored(admin_sql, mark, event_type="payment")]

    def older_than(days):
        return admin_sql.execute("select count(*) as n from public.events where occurred_at < now() - %s::interval",
                                 (f"{days} days",)).fetchone()["n"]

    # the default: 30 days
    due = older_than(30)
    assert due >= 1
    report = events_report(api)
    assert (report["rows_removed"], report["done"]) == (due, True)
    assert timedelta(days=30) <= clock(admin_sql) - report["cutoff"] < timedelta(days=30, minutes=1)
    assert remaining() == paid[1:]
    # a day
    client = superuser_api(database, retention_events_days=1)
    try:
        due = older_than(1)
        assert due >= 2
        report = events_report(client)
        assert (report["rows_removed"], report["done"]) == (due, True)
    finally:
        client.close()
    assert remaining() == paid[3:]
    assert older_than(1) == 0
    # the card's recharge of a moment ago stays too
    assert [e["event_type"] for e in stored(admin_sql, 0, card_id=shop.card)] == ["recharge", "payment"]
