"""Failover (issue 12.8): a primary with a synchronous standby is killed with SIGKILL while
charges run; the standby is promoted. Every charge the primary acknowledged is on the promoted
server, every call left in doubt (an error or no answer) retried there with its idempotency key
makes exactly one movement, and the books balance to the cent."""

import os
import random
import signal
import threading
import time
import uuid
from decimal import Decimal

import psycopg
import pytest

from clusters import scratch_cluster

PRIMARY_PORT = int(os.environ.get("MPS_FAILOVER_PRIMARY_PORT", "5514"))
STANDBY_PORT = int(os.environ.get("MPS_FAILOVER_STANDBY_PORT", "5515"))
DB = "mps_failover"
SETTINGS = {"shared_preload_libraries": "mps_ext", "synchronous_commit": "on"}
WORKERS = 4
CARDS = 6
ISSUED = Decimal("10000.00")


class Charge:
    def __init__(self, args):
        self.args = args
        self.answer = None  # the primary's acknowledgement
        self.error = None  # what the client got instead; None and no answer: the call never returned


def charges(primary, cards, sent, stop, seed):
    """Charges with fresh idempotency keys over one connection until the server goes (or the
    test gives up waiting for that)."""
    rnd = random.Random(seed)
    try:
        conn = primary.connect(DB)
    except psycopg.Error:
        return
    try:
        while not stop.is_set():
            qr = rnd.choice(cards)["qr"]
            charge = Charge(dict(merchant="FAILOVER-SHOP", qr=qr, amount=Decimal(rnd.randint(100, 5000)) / 100,
                                 key=f"failover-{uuid.uuid4()}"))
            sent.append(charge)
            try:
                charge.answer = charge_on(conn, charge)
            except psycopg.Error as e:
                charge.error = e
                return
    finally:
        conn.close()


def charge_on(conn, charge):
    return conn.execute("select * from public.merchant_charge_by_qr(%(merchant)s, %(qr)s, %(amount)s,"
                        " p_idempotency_key := %(key)s)", charge.args).fetchone()


def wait_for(conn, query, what, timeout=30):
    deadline = time.monotonic() + timeout
    while not conn.execute(query).fetchone()["done"]:
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.fixture
def primary():
    with scratch_cluster(PRIMARY_PORT, SETTINGS) as cluster:
        with cluster.connect() as conn:
            conn.execute(f"CREATE DATABASE {DB}")
        yield cluster


def seed(primary):
    """A merchant, CARDS members' cards with ISSUED each and a live code, one member session."""
    with primary.connect(DB) as conn:
        conn.execute("CREATE EXTENSION mps_ext")
        conn.execute("SET mps.bcrypt_cost = 4")
        conn.execute("SELECT public.create_merchant('FAILOVER-SHOP', 'Failover Shop', NULL, 'shop-password')")
        cards = []
        for i in range(CARDS):
            member = conn.execute("SELECT public.create_member_profile(%s, %s, NULL, 'member-password') AS id",
                                  (f"Failover {i}", f"0944{i:06d}")).fetchone()["id"]
            card = conn.execute("SELECT id FROM public.get_member_cards(%s)", (member,)).fetchone()["id"]
            conn.execute("SELECT * FROM public.user_recharge_card(%s, %s)", (card, ISSUED))
            qr = conn.execute("SELECT qr_plain FROM public.rotate_card_qr(%s, 86400)", (card,)).fetchone()["qr_plain"]
            cards.append({"id": card, "qr": qr})
        session = conn.execute("SELECT public.member_login(%s, 'member-password') AS s",
                               (f"0944{0:06d}",)).fetchone()["s"]
    return cards, session["session_id"]


def test_kill_the_primary_mid_charges_and_promote_the_synchronous_standby(primary):
    started = time.monotonic()
    cards, session = seed(primary)
    with scratch_cluster(STANDBY_PORT, SETTINGS, standby_of=(primary.host, primary.port)) as standby:
        with primary.connect() as conn:
            # synchronous only now: the standby had to be copied first
            conn.execute("ALTER SYSTEM SET synchronous_standby_names = '*'")
            conn.execute("SELECT pg_reload_conf()")
            wait_for(conn, "select count(*) = 1 as done from pg_stat_replication where sync_state = 'sync'",
                     "the standby never became synchronous")

        sent, stop = [], threading.Event()
        workers = [threading.Thread(target=charges, args=(primary, cards, sent, stop, i)) for i in range(WORKERS)]
        for w in workers:
            w.start()
        deadline = time.monotonic() + 20
        while sum(c.answer is not None for c in sent) < 100 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(primary.postmaster_pid, signal.SIGKILL)
        # the orphaned backends may answer a little longer; each client charges until its
        # connection fails, so each ends with one call in doubt
        for w in workers:
            w.join(timeout=30)
        stop.set()
        assert not any(w.is_alive() for w in workers), "a client still waits for the killed primary"

        with standby.connect(DB) as conn:
            assert conn.execute("SELECT pg_promote(true, 30) AS done").fetchone()["done"] is True
            acknowledged = [c for c in sent if c.answer is not None]
            in_doubt = [c for c in sent if c.answer is None]
            assert len(acknowledged) >= 100, "the load did not get going"
            assert len(in_doubt) == WORKERS
            # lost with the server, never refused
            assert all(isinstance(c.error, psycopg.OperationalError) for c in in_doubt), [c.error for c in in_doubt]
            for c in acknowledged:
                row = conn.execute("SELECT tx_no, card_id, final_amount FROM transactions WHERE idempotency_key = %s",
                                   (c.args["key"],)).fetchall()
                assert row == [{k: c.answer[k] for k in ("tx_no", "card_id", "final_amount")}], c.args["key"]
            committed_in_doubt = conn.execute(
                "SELECT count(*)::int AS n FROM transactions WHERE idempotency_key = any(%s)",
                ([c.args["key"] for c in in_doubt],)).fetchone()["n"]
            # each in-doubt call retried with its key, twice: one movement, one answer
            for c in in_doubt:
                c.answer = charge_on(conn, c)
                assert charge_on(conn, c) == c.answer
            moved = conn.execute("SELECT idempotency_key, count(*)::int AS n FROM transactions"
                                 " WHERE tx_type = 'payment' GROUP BY idempotency_key").fetchall()
            assert {m["idempotency_key"]: m["n"] for m in moved} == {c.args["key"]: 1 for c in sent}
            for card in cards:
                paid = sum(c.answer["final_amount"] for c in sent if c.answer["card_id"] == card["id"])
                balance = conn.execute("SELECT balance FROM member_cards WHERE id = %s", (card["id"],)).fetchone()
                assert balance["balance"] == ISSUED - paid
            assert conn.execute("SELECT * FROM public.verify_ledger()").fetchall() == []
            # sessions are rows: one made on the old primary still signs in on the new one
            assert conn.execute("SELECT public.load_session(%s) AS ok", (session,)).fetchone()["ok"] is True
            # and the promoted server takes new charges
            assert charge_on(conn, Charge(dict(merchant="FAILOVER-SHOP", qr=cards[0]["qr"], amount=Decimal("1.00"),
                                               key="after-failover")))["final_amount"] > 0
    elapsed = time.monotonic() - started
    print(f"acknowledged {len(acknowledged)}, in doubt {len(in_doubt)} (committed before the retry:"
          f" {committed_in_doubt}), failover test {elapsed:.1f} s")
    assert elapsed < 60
