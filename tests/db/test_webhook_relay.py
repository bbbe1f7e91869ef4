"""examples/webhook_relay.py (issue 16, item 5): one merchant's events POSTed to a local
endpoint that checks every signature itself; the relay killed mid-stream and restarted loses
nothing and repeats at most the event in flight; another merchant's events never leave."""

import hashlib
import hmac
import http.server
import importlib.util
import json
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb

from conftest import Shop, make_member
from mps import Api, dsn

ROOT = Path(__file__).resolve().parents[2]
RELAY = ROOT / "examples/webhook_relay.py"
SECRET = "whsec-4c1f0e9a"
D = Decimal


def relay_module():
    spec = importlib.util.spec_from_file_location("webhook_relay", RELAY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def expected_signature(timestamp: str, body: bytes) -> str:
    """The documented scheme, computed here rather than with the relay's own code."""
    return "sha256=" + hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


class Receiver:
    """A webhook endpoint on 127.0.0.1, one request at a time. `arrived`: every request it
    accepted (a receiver acts on it), in order, as (event id header, parsed body, signature
    valid, monotonic time); `refused`: (event id, monotonic time) of the requests answered 503 because
    `refuse_next` was still positive. `delay`: seconds it takes before answering 200."""

    def __init__(self):
        self.arrived, self.refused = [], []
        self.refuse_next, self.delay = 0, 0.0
        self.changed = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                event_id, timestamp = self.headers["X-MPS-Event-Id"], self.headers["X-MPS-Timestamp"]
                signed = (hmac.compare_digest(self.headers["X-MPS-Signature"] or "", expected_signature(timestamp, body))
                          and abs(time.time() - int(timestamp)) <= 60)
                with receiver.changed:
                    refuse = receiver.refuse_next > 0
                    if refuse:
                        receiver.refuse_next -= 1
                        receiver.refused.append((event_id, time.monotonic()))
                    else:
                        receiver.arrived.append((event_id, json.loads(body), signed, time.monotonic()))
                    receiver.changed.notify_all()
                if not refuse:
                    time.sleep(receiver.delay)
                try:
                    self.send_response(503 if refuse else 200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except ConnectionError:  # the relay was killed while waiting for this answer
                    pass

            def log_message(self, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: len(self.arrived) >= count, timeout)

    def ids(self) -> list[int]:
        return [int(event_id) for event_id, *_ in self.arrived]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


class RelayProcess:
    def __init__(self, database, user, receiver, cursor_file, log_file, *options):
        self.log_file = log_file
        with open(log_file, "a") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(RELAY), "--dsn", dsn(database, user), "--url", receiver.url, "--secret", SECRET,
                 "--cursor-file", str(cursor_file), *options], stdout=log, stderr=log)

    def log(self) -> str:
        return Path(self.log_file).read_text()

    def wait_for_log(self, text: str, timeout: float = 15) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return True
            time.sleep(0.1)
        return False

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout)

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def other_merchant(api, unique):
    code = f"MO{unique}"
    merchant_id = api.as_service().scalar("create_merchant", p_code=code, p_name=f"Other {unique}",
                                          p_contact="0913", p_password="merchant-pass-2")
    return {"id": merchant_id, "code": code, "password": "merchant-pass-2"}


class Ledger:
    """Charges and refunds at `shop`, and the events they must produce at its merchant:
    (event_type, tx_no, amount, balance_after, payload), amounts as the relay sends them."""

    def __init__(self, shop: Shop, balance: str):
        self.shop, self.balance, self.expected = shop, D(balance), []

    def pay(self, raw: str, order: int) -> str:
        paid = self.shop.charge(D(raw), p_tag=Jsonb({"order": order}))
        assert paid["final_amount"] == D(raw)  # no discount: the expected balances stay simple
        self.balance -= D(raw)
        self.expected.append(("payment", paid["tx_no"], raw, str(self.balance), {"tag": {"order": order}}))
        return paid["tx_no"]

    def elsewhere(self, shop: Shop, raw: str) -> str:
        """A charge of the same card at another merchant: no event of ours, but the balance moves."""
        self.balance -= D(raw)
        return shop.charge(D(raw))["tx_no"]

    def refund(self, tx_no: str, amount: str, order: int) -> None:
        refund = self.shop.refund(tx_no, D(amount), p_tag=Jsonb({"refund": order}))
        assert refund["refunded_amount"] == D(amount)
        self.balance += D(amount)
        self.expected.append(("refund", refund["refund_tx_no"], amount, str(self.balance),
                              {"tag": {"refund": order}, "original_tx_no": tx_no}))


def events_of(admin_sql, merchant_id) -> list[dict]:
    return admin_sql.execute("select * from public.events where merchant_id = %s order by id",
                             (merchant_id,)).fetchall()


def test_verify_signature_accepts_only_the_signed_body_at_a_fresh_timestamp():
    relay = relay_module()
    body, now = b'{"id": "42", "amount": "12.30"}', 1_800_000_000
    header = relay.signature(SECRET, str(now), body)
    assert header == expected_signature(str(now), body)
    assert relay.verify_signature(SECRET, str(now), body, header, now=now + 299)
    assert not relay.verify_signature(SECRET, str(now), body, header, now=now + 301)  # a replay
    assert not relay.verify_signature(SECRET, str(now), body.replace(b"12.30", b"12.31"), header, now=now)
    assert not relay.verify_signature(SECRET, str(now + 1), body, header, now=now)
    assert not relay.verify_signature("another-secret", str(now), body, header, now=now)
    assert not relay.verify_signature(SECRET, str(now), body, header.removeprefix("sha256="), now=now)
    assert not relay.verify_signature(SECRET, "soon", body, header, now=now)
    assert not relay.verify_signature(SECRET, str(now), body, None, now=now)


def test_relay_killed_mid_stream_and_restarted_delivers_every_event_in_order(
        api, admin_sql, database, merchant, member, unique, receiver, tmp_path):
    ledger = Ledger(Shop(api, member, merchant), "1000.00")
    elsewhere = Shop(api, member, other_merchant(api, unique), amount=None)  # the same card, another merchant
    cursor_file, log_file = tmp_path / "relay.cursor", tmp_path / "relay.log"
    session = ["--merchant-code", merchant["code"], "--merchant-password", merchant["password"]]

    # A first run that only a notification can wake (the poll is a minute), answered slowly.
    receiver.delay = 0.5
    first = RelayProcess(database, "mps_pos", receiver, cursor_file, log_file, *session, "--poll-interval", "60")
    try:
        assert first.wait_for_log("listening on mps_events after event 0"), first.log()
        time.sleep(1)  # past its first read
        pay1 = ledger.pay("12.30", 1)
        assert receiver.wait_for(1, timeout=10), first.log()
        # Suspending the merchant ends its sessions: the relay must log in again to read on.
        api.as_service().scalar("admin_suspend_merchant", p_merchant_id=merchant["id"])
        api.as_service().scalar("admin_activate_merchant", p_merchant_id=merchant["id"])
        ledger.pay("45.00", 2)
        pay3 = ledger.pay("7.05", 3)
        other_pay = ledger.elsewhere(elsewhere, "9.99")
        ledger.refund(pay1, "5.00", 4)
        ledger.pay("100.10", 5)
        ledger.refund(pay3, "7.05", 6)
        ledger.pay("0.99", 7)
        # The 4th event is received; while the endpoint takes its time to answer, the relay dies.
        assert receiver.wait_for(4, timeout=20), first.log()
        first.process.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        first.close()
    assert "the merchant session has ended; logging in again" in first.log()
    ids = [e["id"] for e in events_of(admin_sql, merchant["id"])]
    assert receiver.ids() == ids[:4]
    assert cursor_file.read_text() == f"{ids[2]}\n"  # the last acknowledged one, not the one in flight

    # While it is down: more movements, here and elsewhere.
    pay8 = ledger.pay("23.45", 8)
    other_pay2 = ledger.elsewhere(elsewhere, "1.01")
    ledger.refund(pay8, "3.45", 9)

    # The restart: the endpoint fails twice, then answers at once.
    receiver.delay, receiver.refuse_next = 0.0, 2
    second = RelayProcess(database, "mps_pos", receiver, cursor_file, log_file, *session, "--once")
    try:
        assert second.wait(60) == 0, second.log()
    finally:
        second.close()

    events = events_of(admin_sql, merchant["id"])
    ids = [e["id"] for e in events]
    assert [(e["event_type"], e["tx_no"], f"{e['amount']:.2f}", str(e["balance_after"]), e["payload"])
            for e in events] == ledger.expected
    # Every event once, in ascending order, but the one in flight at the kill, which came twice.
    assert receiver.ids() == ids[:4] + ids[3:]
    assert all(signed for _, _, signed, _ in receiver.arrived)
    assert all(header == body["id"] for header, body, *_ in receiver.arrived)
    # The same event was retried (not skipped) after the refusals, waiting 1 s, then 2 s.
    assert [event_id for event_id, _ in receiver.refused] == [str(ids[3])] * 2
    (_, refused1), (_, refused2) = receiver.refused
    accepted = receiver.arrived[4][3]
    assert refused2 - refused1 >= 0.9 and accepted - refused2 >= 1.9
    # Bodies: the event's columns, amounts as exact strings, the time in ISO 8601.
    bodies = [body for _, body, *_ in receiver.arrived]
    assert bodies[3] == bodies[4]
    for body, event in zip(bodies[:4] + bodies[5:], events):
        assert body == {
            "id": str(event["id"]),
            "occurred_at": body["occurred_at"],
            "event_type": event["event_type"],
            "card_id": str(ledger.shop.card),
            "member_id": str(member["id"]),
            "merchant_id": str(merchant["id"]),
            "tx_no": event["tx_no"],
            "amount": f"{event['amount']:.2f}",
            "balance_after": f"{event['balance_after']:.2f}",
            "payload": event["payload"],
        }
        assert datetime.fromisoformat(body["occurred_at"]) == event["occurred_at"]
    assert bodies[-1]["amount"] == "3.45" and bodies[-1]["balance_after"] == "815.61"
    assert not {other_pay, other_pay2} & {body["tx_no"] for body in bodies}
    assert cursor_file.read_text() == f"{ids[-1]}\n"


def test_relay_as_service_role_polls_and_waits_for_an_older_transaction(
        admin_sql, database, merchant, unique, receiver, tmp_path):
    """With notifications off the relay still delivers (its poll), and a charge that commits
    while an earlier one is still open reaches the endpoint only after it, in id order."""
    admin_sql.execute(f"alter database {database} set mps.events_notify = off")
    writer = Api(database)  # opened after the change: its commits notify nobody
    listener = psycopg.connect(dsn(database, "postgres"), autocommit=True)
    listener.execute("listen mps_events")
    relay = None
    try:
        first_member, second_member = (make_member(writer, unique[:-1] + c) for c in "ab")
        first_shop, second_shop = Shop(writer, first_member, merchant), Shop(writer, second_member, merchant)
        elsewhere = Shop(writer, second_member, other_merchant(writer, unique), amount=None)
        cursor_file = tmp_path / "relay.cursor"
        relay = RelayProcess(database, "authenticator", receiver, cursor_file, tmp_path / "relay.log",
                             "--service-role", "--merchant-id", str(merchant["id"]), "--poll-interval", "1")
        assert relay.wait_for_log("listening on mps_events"), relay.log()
        first_qr = first_shop.qr()
        with psycopg.connect(dsn(database, "authenticator")) as open_tx:  # the earlier charge, left open
            open_tx.execute("select set_config('role', 'service_role', true),"
                            " set_config('request.jwt.claims', '{\"role\":\"service_role\"}', true)")
            earlier = open_tx.execute("select tx_no from public.merchant_charge_by_qr(p_merchant_code => %s,"
                                      " p_qr_plain => %s, p_raw_amount => 20.00)",
                                      (merchant["code"], first_qr)).fetchone()[0]
            later = second_shop.charge(D("30.00"))["tx_no"]
            elsewhere.charge(D("4.00"))
            time.sleep(3)  # three polls
            assert receiver.arrived == [], relay.log()
            open_tx.commit()
        assert receiver.wait_for(2, timeout=10), relay.log()
        time.sleep(1.5)  # a poll more: nothing else comes
        assert list(listener.notifies(timeout=0)) == []  # it was the poll, not a notification
        relay.process.send_signal(signal.SIGTERM)
        assert relay.wait(10) == 0, relay.log()
    finally:
        if relay:
            relay.close()
        listener.close()
        writer.close()
        admin_sql.execute(f"alter database {database} reset mps.events_notify")
    events = events_of(admin_sql, merchant["id"])
    assert [e["tx_no"] for e in events] == [earlier, later]
    assert receiver.ids() == [e["id"] for e in events]
    assert [body["tx_no"] for _, body, *_ in receiver.arrived] == [earlier, later]
    assert all(signed for _, _, signed, _ in receiver.arrived)
    # Its cursor passed the other merchant's later event too, which it skipped.
    newest = admin_sql.execute("select max(id) as id from public.events").fetchone()["id"]
    assert cursor_file.read_text() == f"{newest}\n"
    assert f"stopped after event {newest}" in relay.log()
