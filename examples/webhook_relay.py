"""A signed webhook relay: pushes one merchant's events (get_events) to an HTTPS endpoint of
its own, without new server software.

    MPS_DSN="host=... dbname=... user=mps_pos password=..." MPS_WEBHOOK_SECRET=... \\
    MPS_MERCHANT_PASSWORD=... python examples/webhook_relay.py --merchant-code SHOP1 \\
        --url https://backoffice.example.com/mps-hook --cursor-file /var/lib/mps-relay/SHOP1.cursor

Who it reads as (one merchant):
  --merchant-code CODE [--merchant-password P]   logs in with merchant_login and reads as `anon`
      with that merchant session, as a POS does (log in as `mps_pos`, a member of `anon` only);
      when the session ends (expiry, logout, a password change, a suspension) it logs in again.
  --service-role --merchant-id UUID   reads everything as `service_role` and keeps the events of
      that merchant. service_role is a super admin: only where `authenticator`'s credentials
      already live (the PostgREST host). Prefer the merchant session.

How it works: it LISTENs on `mps_events` and reads with get_events(p_after_id => cursor) on
each notification, and every --poll-interval seconds in any case (a notification may come
before its event is readable, since the feed holds events back behind older transactions
still in flight, and none comes when notifications are off, through a transaction pooler, or
while the relay was away). Each event, in ascending id order, is POSTed as JSON:

    {"id": "...", "occurred_at": "2026-12-01T10:00:00.123456+00:00", "event_type": "payment",
     "card_id": ..., "member_id": ..., "merchant_id": ..., "tx_no": "PAY...", "amount": "12.30",
     "balance_after": "987.70", "payload": {...}}

id, amount and balance_after are strings (a JavaScript number holds neither every bigint nor
every cent exactly); the payload is passed on exactly as stored. Headers: `X-MPS-Event-Id`,
`X-MPS-Timestamp` (unix seconds) and `X-MPS-Signature: sha256=<hex HMAC-SHA256 of
"<timestamp>.<body>" keyed with the secret>`. A 2xx answer acknowledges the event; anything
else (an error status, a redirect, a timeout) makes it retry the same event, waiting 1, 2, 4 …
up to --max-backoff seconds; later events wait behind it, so order is kept.

Delivery is at least once: after each acknowledged event the cursor (its id) is written to
--cursor-file atomically, and a restart continues after it. A crash between the endpoint's
answer and that write sends the event once more, so receivers drop duplicates by event id
(ids only grow: "id <= the largest id already processed" means a duplicate). Receivers check
the signature with verify_signature() below (copy it with signature()), over the raw body
bytes, before parsing them.

SIGTERM or SIGINT stops it after the event in flight (within --poll-interval when idle);
--once delivers what is readable now and exits.
"""

import argparse
import hashlib
import hmac
import http.client
import json
import logging
import os
import signal
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid

import psycopg
from psycopg.rows import dict_row

CHANNEL = "mps_events"
PAGE_SIZE = 100
# amount and balance_after as text: their exact cents; payload as text: the stored JSON as is.
READ_PAGE = ("select id, occurred_at, event_type, card_id, member_id, merchant_id, tx_no,"
             " amount::text as amount, balance_after::text as balance_after, payload::text as payload"
             " from public.get_events(p_after_id => %s, p_limit => %s, p_session_id => %s)")

log = logging.getLogger("webhook_relay")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The X-MPS-Signature value of a body sent at `timestamp` (unix seconds, as sent)."""
    message = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(secret: str, timestamp: str, body: bytes, header: str, max_age: int = 300,
                     now: float | None = None) -> bool:
    """For receivers: whether `header` (X-MPS-Signature) signs the raw `body` with `timestamp`
    (X-MPS-Timestamp) and that timestamp is within `max_age` seconds of now (a replayed old
    request fails). Every retry is signed afresh, so a fresh timestamp is always expected."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - sent) > max_age:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header or "")


def event_body(event: dict) -> bytes:
    """The JSON body of an event read with READ_PAGE."""
    def text(value):
        return None if value is None else str(value)

    head = json.dumps({
        "id": str(event["id"]),
        "occurred_at": event["occurred_at"].isoformat(),
        "event_type": event["event_type"],
        "card_id": text(event["card_id"]),
        "member_id": text(event["member_id"]),
        "merchant_id": text(event["merchant_id"]),
        "tx_no": event["tx_no"],
        "amount": event["amount"],
        "balance_after": event["balance_after"],
    })
    # The payload's own text goes in unparsed: parsing it in Python would turn its decimals into floats.
    return f'{head[:-1]}, "payload": {event["payload"] or "null"}}}'.encode()


def load_cursor(path: str) -> int:
    """The id of the last acknowledged event; 0 (the oldest retained event on) on the first run."""
    try:
        with open(path) as f:
            return int(f.read())
    except FileNotFoundError:
        return 0


def save_cursor(path: str, event_id: int) -> None:
    """Writes the cursor so that a crash leaves either the old or the new one, never a torn file."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".cursor-")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(f"{event_id}\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    directory_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(directory_fd)  # makes the rename itself durable
    finally:
        os.close(directory_fd)


def call(conn, role: str, query: str, params) -> list[dict]:
    """One transaction as `role`, with the prologue PostgREST sends."""
    with conn.transaction():
        conn.execute("select set_config('role', %s, true), set_config('request.jwt.claims', %s, true)",
                     (role, json.dumps({"role": role})))
        return conn.execute(query, params).fetchall()


class MerchantSession:
    """Reads as `anon` with a merchant session: get_events shows that merchant's events only."""

    def __init__(self, code: str, password: str):
        self.code, self.password = code, password
        self.session_id = None

    def open(self, conn) -> None:
        """Logs in unless a session is still held (as after a reconnect); a refusal propagates."""
        if self.session_id is None:
            (row,) = call(conn, "anon", "select public.merchant_login(%s, %s) as answer", (self.code, self.password))
            self.session_id = row["answer"]["session_id"]
            log.info("logged in as merchant %s", self.code)

    def read(self, conn, after: int) -> list[dict]:
        try:
            return call(conn, "anon", READ_PAGE, (after, PAGE_SIZE, self.session_id))
        except psycopg.errors.InsufficientPrivilege as e:
            if e.diag.message_primary != "SESSION_INVALID":
                raise
        log.info("the merchant session has ended; logging in again")
        self.session_id = None
        try:
            self.open(conn)
        except psycopg.errors.RaiseException as e:  # e.g. the merchant is suspended: again at the next poll
            log.error("merchant_login refused: %s (%s)", e.diag.message_primary, e.diag.message_detail)
            return []
        return call(conn, "anon", READ_PAGE, (after, PAGE_SIZE, self.session_id))

    def wants(self, event: dict) -> bool:
        return True


class ServiceRoleForMerchant:
    """Reads every event as `service_role` and keeps one merchant's."""

    def __init__(self, merchant_id: uuid.UUID):
        self.merchant_id = merchant_id

    def open(self, conn) -> None:
        pass

    def read(self, conn, after: int) -> list[dict]:
        return call(conn, "service_role", READ_PAGE, (after, PAGE_SIZE, None))

    def wants(self, event: dict) -> bool:
        return event["merchant_id"] == self.merchant_id


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is not an acknowledgement (urllib would turn the POST into a GET)."""

    def redirect_request(self, *args, **kwargs):
        return None


class Webhook:
    def __init__(self, url: str, secret: str, timeout: float, max_backoff: float, stop: threading.Event):
        self.url, self.secret, self.timeout, self.max_backoff, self.stop = url, secret, timeout, max_backoff, stop
        self.opener = urllib.request.build_opener(_NoRedirects)

    def post(self, event_id: int, body: bytes) -> str | None:
        """Sends once; None when acknowledged (2xx), else what went wrong."""
        timestamp = str(int(time.time()))
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json",
            "User-Agent": "mps-webhook-relay",
            "X-MPS-Event-Id": str(event_id),
            "X-MPS-Timestamp": timestamp,
            "X-MPS-Signature": signature(self.secret, timestamp, body),
        })
        try:
            with self.opener.open(request, timeout=self.timeout) as answer:  # raises on anything but 2xx
                answer.read()
            return None
        except urllib.error.HTTPError as e:
            return f"HTTP {e.code}"
        except (OSError, http.client.HTTPException) as e:  # refused, reset, timed out, garbled answer
            return repr(e)

    def deliver(self, event: dict) -> bool:
        """Posts the event until it is acknowledged (True) or the relay is told to stop (False)."""
        body = event_body(event)
        backoff = 1.0
        while (problem := self.post(event["id"], body)) is not None:
            log.warning("event %s not acknowledged (%s); again in %g s", event["id"], problem, backoff)
            if self.stop.wait(backoff):
                return False
            backoff = min(backoff * 2, self.max_backoff)
        log.info("delivered event %s (%s %s)", event["id"], event["event_type"], event["tx_no"] or "")
        return True


class Relay:
    def __init__(self, args, reader, webhook: Webhook, stop: threading.Event):
        self.args, self.reader, self.webhook, self.stop = args, reader, webhook, stop
        self.cursor = load_cursor(args.cursor_file)
        self.connected = False  # since the last connection failure

    def run(self) -> None:
        """Until stopped (or, with --once, caught up). Database errors propagate."""
        with psycopg.connect(self.args.dsn, autocommit=True, row_factory=dict_row) as conn:
            conn.execute(f"LISTEN {CHANNEL}")  # before the first read: nothing committed after it is missed
            self.reader.open(conn)
            self.connected = True
            log.info("listening on %s after event %s", CHANNEL, self.cursor)
            while not self.stop.is_set():
                page = self.reader.read(conn, self.cursor)
                if not self.deliver(page):
                    return
                if len(page) == PAGE_SIZE:
                    continue  # more is readable now
                if self.args.once:
                    return
                # Wakes on the first notification (or one that came while reading) or after the poll interval.
                for _ in conn.notifies(timeout=self.args.poll_interval, stop_after=1):
                    pass

    def deliver(self, page: list[dict]) -> bool:
        """Delivers a page in order; False when stopped before its end. The cursor is saved after
        each delivery, and once at the end for events skipped (another merchant's) since."""
        skipped = False
        try:
            for event in page:
                if self.stop.is_set():
                    return False
                if self.reader.wants(event):
                    if not self.webhook.deliver(event):
                        return False
                    self.cursor, skipped = event["id"], False
                    save_cursor(self.args.cursor_file, self.cursor)
                else:
                    self.cursor, skipped = event["id"], True
            return True
        finally:
            if skipped:
                save_cursor(self.args.cursor_file, self.cursor)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dsn", default=os.environ.get("MPS_DSN"), help="libpq connection string (default $MPS_DSN)")
    p.add_argument("--url", required=True, help="the endpoint events are POSTed to")
    p.add_argument("--secret", default=os.environ.get("MPS_WEBHOOK_SECRET"),
                   help="the HMAC key shared with the receiver (default $MPS_WEBHOOK_SECRET)")
    p.add_argument("--cursor-file", required=True, help="where the last acknowledged event id is kept")
    p.add_argument("--merchant-code", help="read with this merchant's session")
    p.add_argument("--merchant-password", default=os.environ.get("MPS_MERCHANT_PASSWORD"),
                   help="(default $MPS_MERCHANT_PASSWORD)")
    p.add_argument("--service-role", action="store_true", help="read as service_role, keeping --merchant-id's")
    p.add_argument("--merchant-id", type=uuid.UUID)
    p.add_argument("--poll-interval", type=float, default=5.0, help="seconds between reads without notification")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the endpoint's answer")
    p.add_argument("--max-backoff", type=float, default=30.0, help="longest wait between retries, in seconds")
    p.add_argument("--once", action="store_true", help="deliver what is readable now, then exit")
    args = p.parse_args(argv)
    if not args.dsn or not args.secret:
        p.error("--dsn and --secret (or $MPS_DSN and $MPS_WEBHOOK_SECRET) are required")
    if bool(args.merchant_code) == args.service_role:
        p.error("give either --merchant-code or --service-role")
    if args.merchant_code and not args.merchant_password:
        p.error("--merchant-code needs --merchant-password (or $MPS_MERCHANT_PASSWORD)")
    if args.service_role and not args.merchant_id:
        p.error("--service-role needs --merchant-id")
    return args


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    args = parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    reader = (ServiceRoleForMerchant(args.merchant_id) if args.service_role
              else MerchantSession(args.merchant_code, args.merchant_password))
    relay = Relay(args, reader, Webhook(args.url, args.secret, args.timeout, args.max_backoff, stop), stop)
    backoff = 1.0
    while True:
        try:
            relay.run()
            break
        except psycopg.OperationalError as e:  # the server went away: reconnect and read on from the cursor
            if relay.connected:
                relay.connected, backoff = False, 1.0
            log.warning("database connection lost (%s); reconnecting in %g s", e, backoff)
            if stop.wait(backoff):
                break
            backoff = min(backoff * 2, args.max_backoff)
        except psycopg.Error as e:  # refused: a wrong password, a missing grant, ...
            log.error("%s: %s (%s)", e.sqlstate, e.diag.message_primary, e.diag.message_detail)
            return 1
    log.info("stopped after event %s", relay.cursor)
    return 0


if __name__ == "__main__":
    sys.exit(main())
