"""Issue 18: the original client's test clean-up, delete_test_member and delete_test_merchant.
Refused unless a superuser turned mps.allow_test_cleanup on for the database; with it on, a
member or merchant goes with everything hanging off it, and the books still balance."""

import uuid
from decimal import Decimal

import pytest

from conftest import Shop, login_member, login_merchant, make_member, standard_card
from mps import Api, admin_connect, drop_database, fails, recreate_database

DB = "mps_cleanup"
BUSINESS, PERMISSION = "P0001", "42501"


@pytest.fixture
def cleanup_db():
    recreate_database(DB)
    yield DB
    drop_database(DB)


def count(conn, sql, *args) -> int:
    return conn.execute(f"select count(*) as n from {sql}", args).fetchone()["n"]


def test_refused_unless_the_database_allows_it(cleanup_db):
    api = Api(cleanup_db)
    try:
        member = make_member(api, uuid.uuid4().hex[:10])
        with pytest.raises(Exception) as e:
            api.as_service().scalar("delete_test_member", p_member_id=member["id"])
        d = e.value.diag
        assert (e.value.sqlstate, d.message_primary) == (BUSINESS, "TEST_CLEANUP_DISABLED")
        assert "mps.allow_test_cleanup" in d.message_detail and "mps.allow_test_cleanup = on" in d.message_hint
        assert fails(api.as_service().scalar, "delete_test_merchant", p_merchant_id=uuid.uuid4()) == \
            (BUSINESS, "TEST_CLEANUP_DISABLED")
        # only a superuser may turn it on; anon may not even call
        sid = login_member(api, member)
        assert fails(api.as_anon().scalar, "delete_test_member", p_member_id=member["id"], p_session_id=sid)[0] == \
            PERMISSION
        with admin_connect(cleanup_db) as conn:
            assert count(conn, "member_profiles where id = %s", member["id"]) == 1
    finally:
        api.close()


def test_a_member_and_a_merchant_go_with_everything_that_hangs_off_them(cleanup_db):
    with admin_connect(cleanup_db) as conn:
        conn.execute(f"alter database {cleanup_db} set mps.allow_test_cleanup = on")
        conn.commit()
    api = Api(cleanup_db)  # a new connection sees the setting
    try:
        svc = api.as_service()
        suffix = uuid.uuid4().hex[:10]
        leaving, employee, staying = make_member(api, suffix), make_member(api, suffix[::-1]), \
            make_member(api, suffix[1:] + "0")
        shop_code = f"CL{suffix}"
        shop_id = svc.scalar("create_merchant", p_code=shop_code, p_name="Test Shop", p_contact="0912",
                             p_password="merchant-pass-1")
        shop = {"id": shop_id, "code": shop_code, "password": "merchant-pass-1"}
        other_code = f"OT{suffix}"
        other_id = svc.scalar("create_merchant", p_code=other_code, p_name="Other Shop", p_contact="0913",
                              p_password="merchant-pass-1")
        other = {"id": other_id, "code": other_code, "password": "merchant-pass-1"}

        # the leaving member: a paying standard card, a corporate card an employee is bound to
        mine = Shop(api, leaving, shop)
        paid = mine.charge(Decimal("100.00"), p_idempotency_key="leaving-key")
        mine.refund(paid["tx_no"], Decimal("40.00"))
        Shop(api, leaving, other, amount=None).charge(Decimal("10.00"))
        corporate = svc.scalar("create_corporate_card", p_owner_member_id=leaving["id"], p_fixed_discount=Decimal("0.800"))
        svc.scalar("bind_member_to_card", p_card_id=corporate, p_member_id=employee["id"])
        employee_card = standard_card(api, employee["id"])
        assert svc.execute("select corporate_discount from member_cards where id = %s",
                           (employee_card,))[0]["corporate_discount"] == Decimal("0.800")
        login_member(api, leaving)
        # a member who stays pays at the merchant that will be deleted
        theirs = Shop(api, staying, other, amount="500.00")
        theirs.charge(Decimal("200.00"))
        settled_until = svc.execute("select clock_timestamp() as t")[0]["t"]
        svc.rows("generate_settlement", p_merchant_id=other_id, p_mode="realtime",
                 p_period_start=settled_until.replace(year=settled_until.year - 1), p_period_end=settled_until)
        login_merchant(api, other)
        with admin_connect(cleanup_db) as conn:
            before = conn.execute("select balance, points, level from member_cards where id = %s",
                                  (theirs.card,)).fetchone()
        assert before["balance"] == Decimal("300.00") and before["points"] > 0

        assert svc.scalar("delete_test_member", p_member_id=leaving["id"]) is True
        with admin_connect(cleanup_db) as conn:
            cards = [mine.card, corporate]
            assert count(conn, "member_profiles where id = %s", leaving["id"]) == 0
            assert count(conn, "member_cards where id = any(%s)", cards) == 0
            assert count(conn, "transactions where card_id = any(%s)", cards) == 0
            assert count(conn, "point_ledger where card_id = any(%s)", cards) == 0
            assert count(conn, "card_bindings where card_id = any(%s) or member_id = %s", cards, leaving["id"]) == 0
            assert count(conn, "app_sessions where member_id = %s", leaving["id"]) == 0
            assert count(conn, "mps_internal.member_passwords where member_id = %s", leaving["id"]) == 0
            assert count(conn, "mps_internal.card_qr_tokens where card_id = any(%s)", cards) == 0
            assert count(conn, "idempotency_registry where idempotency_key = 'leaving-key'") == 0
            assert count(conn, "tx_registry r where not exists (select from transactions t where t.id = r.tx_id)") == 0
            assert count(conn, "audit.event_log where object_id = %s and action <> 'DELETE_TEST_MEMBER'",
                         leaving["id"]) == 0
            assert count(conn, "audit.event_log where object_id = any(%s)", cards) == 0
            # the employee loses the corporate discount with the card
            assert conn.execute("select corporate_discount from member_cards where id = %s",
                                (employee_card,)).fetchone()["corporate_discount"] is None
            assert conn.execute("select * from verify_ledger()").fetchall() == []
        # the client's fixed test phone number is free for its next run
        assert make_member(api, suffix)["phone"] == leaving["phone"]

        assert svc.scalar("delete_test_merchant", p_merchant_id=other_id) is True
        with admin_connect(cleanup_db) as conn:
            assert count(conn, "merchants where id = %s", other_id) == 0
            assert count(conn, "transactions where merchant_id = %s", other_id) == 0
            assert count(conn, "settlements where merchant_id = %s", other_id) == 0
            assert count(conn, "app_sessions where merchant_id = %s", other_id) == 0
            assert count(conn, "mps_internal.merchant_passwords where merchant_id = %s", other_id) == 0
            # the staying member keeps their money and points; the ledger carries the removed rows
            after = conn.execute("select balance, points, level from member_cards where id = %s",
                                 (theirs.card,)).fetchone()
            assert after == before
            carried = conn.execute("select change, balance_after from point_ledger"
                                   " where card_id = %s and reason = 'test_cleanup'", (theirs.card,)).fetchall()
            assert carried == [{"change": before["points"], "balance_after": before["points"]}]
            assert conn.execute("select * from verify_ledger()").fetchall() == []

        assert fails(svc.scalar, "delete_test_member", p_member_id=leaving["id"]) == (BUSINESS, "MEMBER_NOT_FOUND")
        assert fails(svc.scalar, "delete_test_merchant", p_merchant_id=other_id) == (BUSINESS, "MERCHANT_NOT_FOUND")
        sid = login_member(api, staying)
        assert fails(api.as_anon().scalar, "delete_test_merchant", p_merchant_id=shop_id, p_session_id=sid)[0] == \
            PERMISSION
    finally:
        api.close()


def test_holds_go_with_their_member_and_merchant(cleanup_db):
    """A captured hold points at its payment: the clean-up removes the hold with the card or
    the merchant, and the payment with it."""
    with admin_connect(cleanup_db) as conn:
        conn.execute(f"alter database {cleanup_db} set mps.allow_test_cleanup = on")
        conn.commit()
    api = Api(cleanup_db)
    try:
        svc = api.as_service()
        suffix = uuid.uuid4().hex[:10]
        leaving, staying = make_member(api, suffix), make_member(api, suffix[::-1])
        merchants = []
        for code in (f"HL{suffix}", f"HO{suffix}"):
            merchant_id = svc.scalar("create_merchant", p_code=code, p_name="Hold Shop", p_password="merchant-pass-1")
            merchants.append({"id": merchant_id, "code": code, "password": "merchant-pass-1"})
        shop, other = merchants

        def hold(s: Shop, raw, capture=None):
            held = svc.rows("merchant_authorize_by_qr", p_merchant_code=s.merchant["code"], p_qr_plain=s.qr(),
                            p_raw_amount=Decimal(raw))[0]
            if capture:
                svc.rows("merchant_capture_hold", p_merchant_code=s.merchant["code"], p_hold_no=held["hold_no"],
                         p_raw_amount=Decimal(capture))
            return held

        mine = Shop(api, leaving, shop)
        leaving_holds = [hold(mine, "50", capture="30")["hold_id"], hold(mine, "20")["hold_id"]]
        theirs = Shop(api, staying, other, amount="500.00")
        hold(theirs, "100", capture="100")
        hold(theirs, "10")
        kept = hold(Shop(api, staying, shop, amount=None), "5")

        assert svc.scalar("delete_test_member", p_member_id=leaving["id"]) is True
        with admin_connect(cleanup_db) as conn:
            assert count(conn, "card_holds where card_id = %s", mine.card) == 0
            assert count(conn, "audit.event_log where object_id = any(%s)", leaving_holds) == 0
            assert conn.execute("select * from verify_ledger()").fetchall() == []
        assert svc.scalar("delete_test_merchant", p_merchant_id=other["id"]) is True
        with admin_connect(cleanup_db) as conn:
            assert count(conn, "card_holds where merchant_id = %s", other["id"]) == 0
            assert [r["hold_no"] for r in conn.execute("select hold_no from card_holds").fetchall()] == \
                [kept["hold_no"]]
            assert conn.execute("select balance from member_cards where id = %s",
                                (theirs.card,)).fetchone()["balance"] == Decimal("400.00")
            assert conn.execute("select * from verify_ledger()").fetchall() == []
    finally:
        api.close()
