"""The event notifier worker: in a database named in mps.events_notifier_databases, the
transactions that write events send no NOTIFY themselves (each would make committing
transactions take turns); a background worker announces the newest event get_events can
return, within a moment, and never one still held back behind an older transaction."""

import os
import time

import psycopg
import pytest

from clusters import scratch_cluster

PORT = int(os.environ.get("MPS_NOTIFIER_PORT", "5516"))
DB = "mps_notified"
OTHER = "mps_unnotified"
SETTINGS = {"shared_preload_libraries": "mps_ext", "mps.events_notifier_databases": f"'{DB}, no_such_db'"}


def heard(conn, seconds: float) -> list[str]:
    """The payloads of mps_events notifications that arrive within `seconds`."""
    return [n.payload for n in conn.notifies(timeout=seconds)]


def recharge(conn, card, amount) -> int:
    """A recharge as super admin (its event), committed; the event's id."""
    tx_no = conn.execute("select tx_no from user_recharge_card(%s, %s)", (card, amount)).fetchone()["tx_no"]
    return conn.execute("select id from public.events where tx_no = %s", (tx_no,)).fetchone()["id"]


@pytest.fixture(scope="module")
def cluster():
    with scratch_cluster(PORT, SETTINGS) as cluster:
        with cluster.connect() as conn:
            for db in (DB, OTHER):
                conn.execute(f"CREATE DATABASE {db}")
        for db in (DB, OTHER):
            with cluster.connect(db) as conn:
                conn.execute("CREATE EXTENSION mps_ext")
        # the database did not exist when the server started: the worker comes back after 10 s
        with cluster.connect(DB) as conn:
            for _ in range(40):
                if conn.execute("select count(*) as n from pg_stat_activity where datname = %s"
                                " and backend_type = 'mps_ext events notifier'", (DB,)).fetchone()["n"]:
                    break
                time.sleep(0.5)
            else:
                pytest.fail("the notifier worker never connected")
        yield cluster


def card_of(conn, phone) -> str:
    member = conn.execute("select create_member_profile('N', %s, null, 'notified-pass-1') as id",
                          (phone,)).fetchone()["id"]
    return conn.execute("select id from member_cards where owner_member_id = %s", (member,)).fetchone()["id"]


def test_the_worker_announces_the_newest_readable_event(cluster):
    with cluster.connect(DB) as writer, cluster.connect(DB) as listener, cluster.connect(DB) as older:
        card, other_card = card_of(writer, "0933000001"), card_of(writer, "0933000003")
        listener.execute("LISTEN mps_events")
        heard(listener, 0.5)
        # one event: announced by the worker (the writer's own transaction sends nothing)
        first = recharge(writer, card, 10)
        assert heard(listener, 3) == [str(first)]
        # a burst: announced together, up to its newest event
        burst = [recharge(writer, card, 1) for _ in range(5)]
        announced = heard(listener, 3)
        assert announced and announced[-1] == str(burst[-1])
        assert [int(p) for p in announced] == sorted(int(p) for p in announced)
        # an older transaction still in flight holds a later commit back: not announced yet
        older.execute("BEGIN")
        held_back_by = older.execute("select tx_no from user_recharge_card(%s, 2)", (other_card,)).fetchone()["tx_no"]
        later = recharge(writer, card, 3)
        assert heard(listener, 1.5) == []
        older.execute("COMMIT")
        assert heard(listener, 3) == [str(later)]
        ids = [r["id"] for r in writer.execute("select id from get_events(%s)", (burst[-1],))]
        assert len(ids) == 2 and ids[-1] == later, held_back_by
        # the worker shows itself in pg_stat_activity, one for the database that exists
        workers = writer.execute("select datname from pg_stat_activity"
                                 " where backend_type = 'mps_ext events notifier' and datname is not null").fetchall()
        assert workers == [{"datname": DB}]


def test_a_database_without_a_worker_notifies_from_each_commit(cluster):
    with cluster.connect(OTHER) as writer, cluster.connect(OTHER) as listener:
        card = card_of(writer, "0933000002")
        listener.execute("LISTEN mps_events")
        heard(listener, 0.5)
        event = recharge(writer, card, 10)
        assert heard(listener, 3) == [str(event)]
