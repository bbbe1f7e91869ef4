"""Settlements: one non-overlapping history per merchant across all modes, only periods that
have ended, and no movement ever lands inside a period that is already settled, even when
its transaction began before the settlement ran."""

import threading
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import psycopg

from mps import Api, admin_connect, fails

PERMISSION = "42501"
BUSINESS = "P0001"
D = Decimal
EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)


def at(admin_sql, tx_id, when):
    admin_sql.execute("update transactions set created_at = %s where id = %s", (when, tx_id))


def settle(svc, merchant_id, mode, start, end):
    return svc.scalar("generate_settlement", p_merchant_id=merchant_id, p_mode=mode, p_period_start=start,
                      p_period_end=end)


def settlement(admin_sql, settlement_id):
    return admin_sql.execute("select period_start, period_end, total_amount, total_tx_count from settlements"
                             " where id = %s", (settlement_id,)).fetchone()


def covered(admin_sql, merchant_id, start, end):
    """What the merchant's payments minus refunds in [start, end) add up to, and how many."""
    return admin_sql.execute(
        "select coalesce(sum(case tx_type when 'payment' then final_amount else -final_amount end), 0) as total,"
        "       count(*) as n"
        "  from transactions where merchant_id = %s and created_at >= %s and created_at < %s"
        "   and tx_type in ('payment', 'refund') and status in ('completed', 'refunded')",
        (merchant_id, start, end)).fetchone()


def created_at(admin_sql, tx_id):
    return admin_sql.execute("select created_at from transactions where id = %s", (tx_id,)).fetchone()["created_at"]


def test_one_history_across_modes(api, admin_sql, shop):
    t0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
    paid = shop.charge(D("10"))
    at(admin_sql, paid["tx_id"], t0 + timedelta(hours=1))
    svc, merchant = api.as_service(), shop.merchant["id"]
    first = settle(svc, merchant, "realtime", t0, t0 + timedelta(days=1))
    for mode in ["realtime", "t_plus_1", "monthly"]:
        for start, end in [(t0, t0 + timedelta(days=1)), (t0 + timedelta(hours=12), t0 + timedelta(days=2)),
                           (t0 - timedelta(days=30), t0 + timedelta(days=30))]:
            assert fails(svc.scalar, "generate_settlement", p_merchant_id=merchant, p_mode=mode, p_period_start=start,
                         p_period_end=end) == (BUSINESS, "SETTLEMENT_ALREADY_EXISTS"), (mode, start)
    # a failed settlement is no longer part of the history: its period can be settled again
    assert svc.scalar("update_settlement_status", p_settlement_id=first, p_status="failed") is True
    again = settle(svc, merchant, "t_plus_1", t0, t0 + timedelta(days=1))
    assert (settlement(admin_sql, again)["total_amount"], settlement(admin_sql, again)["total_tx_count"]) == \
        (D("10.00"), 1)


def test_a_period_must_have_ended(api, admin_sql, shop):
    svc, merchant = api.as_service(), shop.merchant["id"]
    shop.charge(D("25"))
    now = datetime.now(timezone.utc)
    assert fails(svc.scalar, "generate_settlement", p_merchant_id=merchant, p_mode="realtime",
                 p_period_start=now - timedelta(hours=1), p_period_end=now + timedelta(hours=1)) == \
        (BUSINESS, "INVALID_PERIOD")
    assert fails(svc.scalar, "generate_daily_settlements", p_day=date.today() + timedelta(days=1)) == \
        (BUSINESS, "INVALID_PERIOD")
    # an ended period settles; what comes after it is stamped after it
    end = datetime.now(timezone.utc)
    sid = settle(svc, merchant, "realtime", EPOCH, end)
    assert (settlement(admin_sql, sid)["total_amount"], settlement(admin_sql, sid)["total_tx_count"]) == (D("25.00"), 1)
    later = shop.charge(D("5"))
    assert created_at(admin_sql, later["tx_id"]) >= end


def test_a_refund_begun_before_a_settlement_is_stamped_after_it(api, admin_sql, database, shop):
    """The refund's transaction starts before the settlement runs and makes the refund after the
    settlement committed: the refund lands after the settled period, not inside it (the original
    stamped it with its transaction's start)."""
    svc, merchant = api.as_service(), shop.merchant["id"]
    paid = shop.charge(D("100"))
    with admin_connect(database) as pos:
        began = pos.execute("select now() as t").fetchone()["t"]  # the transaction starts here
        time.sleep(0.05)
        end = datetime.now(timezone.utc)
        assert end > began
        sid = settle(svc, merchant, "realtime", EPOCH, end)
        refund = pos.execute("select * from public.merchant_refund_tx(%s, %s, 40)",
                             (shop.merchant["code"], paid["tx_no"])).fetchone()
        pos.commit()
    settled = settlement(admin_sql, sid)
    assert (settled["total_amount"], settled["total_tx_count"]) == (D("100.00"), 1)
    assert created_at(admin_sql, refund["refund_tx_id"]) >= settled["period_end"]
    assert covered(admin_sql, merchant, EPOCH, end) == {"total": D("100.00"), "n": 1}
    # the refund belongs to the next period (where it outweighs the payments)
    next_end = datetime.now(timezone.utc)
    assert covered(admin_sql, merchant, end, next_end) == {"total": D("-40.00"), "n": 1}
    assert fails(svc.scalar, "generate_settlement", p_merchant_id=merchant, p_mode="realtime", p_period_start=end,
                 p_period_end=next_end) == (BUSINESS, "NEGATIVE_SETTLEMENT_AMOUNT")


def test_a_settlement_waits_for_a_movement_in_flight_and_counts_it(api, admin_sql, database, shop):
    """A charge made before the settlement started and committed after it: the settlement waits
    for it and counts it, so its totals are exactly the movements of its period."""
    svc, merchant = api.as_service(), shop.merchant["id"]
    shop.charge(D("100"))
    qr = shop.qr()
    with admin_connect(database) as pos:
        charge = pos.execute("select * from public.merchant_charge_by_qr(%s, %s, 30)",
                             (shop.merchant["code"], qr)).fetchone()
        end = datetime.now(timezone.utc)
        done = {}

        def run():
            client = Api(database)
            try:
                done["id"] = settle(client.as_service(), merchant, "realtime", EPOCH, end)
            finally:
                client.close()

        thread = threading.Thread(target=run)
        thread.start()
        time.sleep(0.5)
        assert thread.is_alive(), "the settlement waits for the charge in flight"
        pos.commit()
        thread.join(timeout=10)
    settled = settlement(admin_sql, done["id"])
    assert created_at(admin_sql, charge["tx_id"]) < end
    assert (settled["total_amount"], settled["total_tx_count"]) == (D("130.00"), 2)
    assert covered(admin_sql, merchant, EPOCH, end) == {"total": D("130.00"), "n": 2}


def test_no_movement_is_stamped_inside_a_settled_period(api, admin_sql, shop):
    """If a settlement covers the present anyway (a clock set back), movements are refused."""
    merchant = shop.merchant["id"]
    paid = shop.charge(D("10"))
    admin_sql.execute("insert into settlements (merchant_id, mode, period_start, period_end, total_amount,"
                      " total_tx_count) values (%s, 'realtime', now() - interval '1 hour', now() + interval '1 hour',"
                      " 10, 1)", (merchant,))
    assert fails(shop.charge, D("5")) == (BUSINESS, "MOVEMENT_IN_SETTLED_PERIOD")
    assert fails(shop.refund, paid["tx_no"], D("5")) == (BUSINESS, "MOVEMENT_IN_SETTLED_PERIOD")
    assert admin_sql.execute("select balance from member_cards where id = %s", (shop.card,)).fetchone()["balance"] \
        == D("990.00")


def test_settlements_run_in_read_committed_only(api, database, shop):
    shop.charge(D("10"))
    end = datetime.now(timezone.utc)
    with admin_connect(database) as conn:
        conn.execute("set transaction isolation level repeatable read")
        try:
            conn.execute("select public.generate_settlement(%s, 'realtime', %s, %s)", (shop.merchant["id"], EPOCH, end))
            raise AssertionError("a REPEATABLE READ settlement must be refused")
        except psycopg.Error as e:
            assert (e.sqlstate, e.diag.message_primary) == (BUSINESS, "INVALID_ARGUMENT")
        conn.rollback()
    assert settle(api.as_service(), shop.merchant["id"], "realtime", EPOCH, end)
