"""Pooling (issue 12.8): PostgREST-style calls from many clients through pgbouncer in
transaction mode, where a few server connections serve every client one transaction at a time.
Nothing of one client's identity or state may reach another: each answer is the caller's own,
a retried idempotency key moves money once, and a server connection carries no role, claims,
session-level setting, advisory lock, prepared statement or temporary table out of a
transaction."""

import os
import random
import shutil
import signal
import socket
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from clusters import as_postgres
from conftest import phone_for
from mps import Api, admin_connect, fails

PGBOUNCER_PORT = int(os.environ.get("MPS_PGBOUNCER_PORT", "5513"))
POOL_SIZE = 3
CLIENTS = 12
ROUNDS = 8
SCALAR = {"member_login", "merchant_login", "logout_session"}
PERMISSION = "42501"
BUSINESS = "P0001"
# What pgbouncer itself sets with SET when it hands a server connection to a client whose
# startup parameters differ; anything else set for the session would be state left behind.
PGBOUNCER_TRACKED = ("client_encoding", "DateStyle", "TimeZone", "standard_conforming_strings", "application_name")


@pytest.fixture(scope="module")
def pgbouncer(database):
    """pgbouncer 1.18 in transaction mode in front of the test cluster, its files under the
    cluster's directory, at most POOL_SIZE server connections for all clients together."""
    socket_dir = Path(os.environ["PGHOST"])
    home = socket_dir.parent / "pgbouncer"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir()
    (home / "userlist.txt").write_text('"authenticator" ""\n')
    (home / "pgbouncer.ini").write_text(f"""\
[databases]
{database} = host={socket_dir} port={os.environ["PGPORT"]} dbname={database}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {PGBOUNCER_PORT}
unix_socket_dir =
auth_type = trust
auth_file = {home}/userlist.txt
pool_mode = transaction
default_pool_size = {POOL_SIZE}
max_db_connections = {POOL_SIZE}
reserve_pool_size = 0
max_client_conn = 100
server_reset_query =
logfile = {home}/pgbouncer.log
pidfile = {home}/pgbouncer.pid
""")
    for path in (home, *home.iterdir()):
        shutil.chown(path, "postgres", "postgres")
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", PGBOUNCER_PORT)) != 0, f"port {PGBOUNCER_PORT} is taken"
    as_postgres("/usr/sbin/pgbouncer", "-d", str(home / "pgbouncer.ini"))  # refuses to run as root
    pidfile = home / "pgbouncer.pid"
    for _ in range(100):  # the daemon writes it once it listens
        if pidfile.exists() and pidfile.read_text().strip():
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"pgbouncer did not start: {(home / 'pgbouncer.log').read_text()}")
    pid = int(pidfile.read_text())
    try:
        yield PGBOUNCER_PORT
    finally:
        os.kill(pid, signal.SIGTERM)  # immediate shutdown
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", PGBOUNCER_PORT)) != 0:
                    break
            time.sleep(0.05)


def pooled_api(database, port) -> Api:
    """A PostgREST-like client through pgbouncer. pgbouncer < 1.21 cannot keep a prepared
    statement with the server connection it was prepared on, so psycopg must not prepare."""
    api = Api(database, host="127.0.0.1", port=port)
    api.conn.prepare_threshold = None
    return api


# What one transaction could leave on its server connection. The request.* settings are named
# one by one: pg_settings does not list such placeholder settings. Temporary tables are counted
# database-wide, of every server connection.
LEFTOVERS = f"""
select current_user::text as current_user, session_user::text as session_user,
       current_setting('role') as role,
       coalesce(current_setting('request.jwt.claims', true), '') as claims,
       coalesce(current_setting('request.jwt.claim.sub', true), '') as legacy_sub,
       coalesce(current_setting('request.method', true), '') as method,
       array(select name from pg_settings where source = 'session'
              and name not in ({", ".join(f"'{n}'" for n in PGBOUNCER_TRACKED)}) order by name) as session_settings,
       (select count(*) from pg_locks where locktype = 'advisory' and pid = pg_backend_pid())::int as advisory_locks,
       (select count(*) from pg_prepared_statements)::int as prepared,
       (select count(*) from pg_class where relpersistence = 't')::int as temp_tables,
       pg_backend_pid() as pid
"""
CLEAN = {"current_user": "authenticator", "session_user": "authenticator", "role": "none", "claims": "",
         "legacy_sub": "", "method": "", "session_settings": [], "advisory_locks": 0, "prepared": 0, "temp_tables": 0}


class Client:
    """One member and one merchant, each with their own PostgREST-like connection (a second one
    for retries), and what their answers must be."""

    def __init__(self, database, port, admin, n):
        suffix = uuid.uuid4().hex[:10]
        self.phone, self.password, self.auth_user = phone_for(suffix), f"pool-pass-{n}", uuid.uuid4()
        self.member_id = admin.execute(
            "select public.create_member_profile(%s, %s, %s, %s, p_binding_user_org := 'supabase',"
            " p_binding_org_id := %s) as id",
            (f"Pooled {n}", self.phone, f"{suffix}@example.com", self.password, str(self.auth_user))).fetchone()["id"]
        self.card = admin.execute("select id from public.get_member_cards(%s)", (self.member_id,)).fetchone()["id"]
        self.balance = Decimal("500.00") + n  # every client's balance differs
        self.seed_tx_no = admin.execute("select tx_no from public.user_recharge_card(%s, %s)",
                                        (self.card, self.balance)).fetchone()["tx_no"]
        self.merchant_code, self.merchant_password = f"POOL{suffix}", f"pool-shop-{n}"
        self.merchant_id = admin.execute(
            "select public.create_merchant(%s, %s, NULL, %s) as id",
            (self.merchant_code, f"Pool shop {n}", self.merchant_password)).fetchone()["id"]
        self.n, self.rnd = n, random.Random(n)
        self.api, self.retry_api = pooled_api(database, port), pooled_api(database, port)
        self.charges: dict[str, dict] = {}  # idempotency key -> the answer
        self.pids: set[int] = set()

    def close(self):
        self.api.close()
        self.retry_api.close()

    def call(self, api, who, fn, **args):
        """One PostgREST request, then a look at what the transaction left on whichever server
        connection pgbouncer gives this client next."""
        try:
            return getattr(who(api), "scalar" if fn in SCALAR else "rows")(fn, **args)
        finally:
            self.check_no_leftovers(api)

    def check_no_leftovers(self, api):
        with api.conn.transaction():
            left = api.conn.execute(LEFTOVERS).fetchone()
        self.pids.add(left.pop("pid"))
        assert left == CLEAN, f"client {self.n}: a pooled server connection kept {left}"

    def run(self):
        anon = Api.as_anon
        member_jwt = lambda api: api.as_user(self.auth_user)  # noqa: E731
        merchant_sid = self.call(self.api, anon, "merchant_login", p_merchant_code=self.merchant_code,
                                 p_password=self.merchant_password)["session_id"]
        previous = None
        for round_no in range(ROUNDS):
            login = self.call(self.api, anon, "member_login", p_identifier=self.phone, p_password=self.password)
            assert (login["member_id"], login["phone"]) == (str(self.member_id), self.phone)
            sid = login["session_id"]
            mine = [{"id": self.card, "balance": self.balance}]
            cards = self.call(self.api, anon, "get_member_cards", p_session_id=sid)
            assert [{"id": c["id"], "balance": c["balance"]} for c in cards] == mine
            cards = self.call(self.api, member_jwt, "get_member_cards")
            assert [{"id": c["id"], "balance": c["balance"]} for c in cards] == mine
            history = self.call(self.api, member_jwt, "get_member_transactions", p_member_id=None)
            assert {t["tx_no"] for t in history} == {self.seed_tx_no} | {c["tx_no"] for c in self.charges.values()}
            # without its session or token the same request is anonymous, whatever ran before it
            assert fails(self.call, self.api, anon, "get_member_cards") == (PERMISSION, "NOT_AUTHENTICATED")

            qr = self.call(self.api, anon, "rotate_card_qr", p_card_id=self.card, p_session_id=sid)[0]["qr_plain"]
            key = f"pool-{self.n}-{round_no}-{uuid.uuid4().hex[:8]}"
            charge = dict(p_merchant_code=self.merchant_code, p_qr_plain=qr, p_session_id=merchant_sid,
                          p_raw_amount=Decimal(self.rnd.randint(100, 2000)) / 100, p_idempotency_key=key)
            if round_no % 2:  # the retry overtakes the first call: both in flight at once
                answers = [None, None]

                def send(i, api):
                    try:
                        answers[i] = self.call(api, anon, "merchant_charge_by_qr", **charge)[0]
                    except Exception as e:  # noqa: BLE001 - raised again below, in the client's thread
                        answers[i] = e

                retry = threading.Thread(target=send, args=(1, self.retry_api))
                retry.start()
                send(0, self.api)
                retry.join()
                for answer in answers:
                    if isinstance(answer, Exception):
                        raise answer
                first, again = answers
            else:  # a retry after the answer was lost
                first = self.call(self.api, anon, "merchant_charge_by_qr", **charge)[0]
                again = self.call(self.retry_api, anon, "merchant_charge_by_qr", **charge)[0]
            assert again == first and first["card_id"] == self.card
            self.charges[key] = {**charge, **first}
            self.balance -= first["final_amount"]
            if previous:  # an older key retried after the code it paid with was rotated away
                replay = self.call(self.retry_api, anon, "merchant_charge_by_qr",
                                   **{k: v for k, v in previous.items() if k.startswith("p_")})[0]
                assert replay["tx_no"] == previous["tx_no"]
            previous = self.charges[key]

            sales = self.call(self.api, anon, "get_merchant_transactions", p_merchant_id=self.merchant_id,
                              p_session_id=merchant_sid)
            assert sorted((t["tx_no"], t["card_id"], t["final_amount"]) for t in sales) == \
                sorted((c["tx_no"], self.card, c["final_amount"]) for c in self.charges.values())

            assert self.call(self.api, anon, "logout_session", p_session_id=sid) is True
            assert fails(self.call, self.retry_api, anon, "get_member_cards", p_session_id=sid) == \
                (PERMISSION, "SESSION_INVALID")


def test_concurrent_clients_through_pgbouncer_share_no_identity_or_state(database, pgbouncer):
    with admin_connect(database) as admin:
        admin.autocommit = True
        admin.execute("SET mps.bcrypt_cost = 4")  # these hashes only: logins stay cheap
        clients = [Client(database, pgbouncer, admin, n) for n in range(CLIENTS)]
    errors = []

    def run(client):
        try:
            client.run()
        except BaseException as e:  # noqa: BLE001 - reported below, with the client's number
            errors.append((client.n, e))

    started = time.monotonic()
    threads = [threading.Thread(target=run, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    for c in clients:
        c.close()
    if errors:
        raise errors[0][1]

    # the clients really shared a few server connections
    pids = set().union(*(c.pids for c in clients))
    assert len(pids) <= POOL_SIZE
    assert all(sum(pid in c.pids for c in clients) > 1 for pid in pids)
    with admin_connect(database) as admin:
        for c in clients:
            balance = admin.execute("select balance from member_cards where id = %s", (c.card,)).fetchone()["balance"]
            assert balance == c.balance, f"client {c.n}"
            moved = admin.execute(
                "select idempotency_key, count(*)::int as n, sum(final_amount) as amount from transactions"
                " where card_id = %s and tx_type = 'payment' group by idempotency_key", (c.card,)).fetchall()
            assert {m["idempotency_key"]: (m["n"], m["amount"]) for m in moved} == \
                {k: (1, v["final_amount"]) for k, v in c.charges.items()}
        issued = sum(Decimal("500.00") + c.n for c in clients)
        charged = sum(v["final_amount"] for c in clients for v in c.charges.values())
        total = admin.execute("select sum(balance) as s from member_cards where id = any(%s)",
                              ([c.card for c in clients],)).fetchone()["s"]
        assert total == issued - charged
        assert admin.execute("select * from public.verify_ledger()").fetchall() == []
    print(f"{CLIENTS} clients, {len(pids)} server connections, {ROUNDS * CLIENTS} charges in {elapsed:.1f} s")


def test_failed_logins_count_across_pooled_connections(database, pgbouncer, admin_sql):
    """The attempt guard counts per server, not per connection: five wrong passwords sent over
    five client connections, three of them at once on three server connections, lock the account."""
    admin_sql.execute("SET mps.bcrypt_cost = 4")
    phone = phone_for(uuid.uuid4().hex[:10])
    admin_sql.execute("select public.create_member_profile('Pooled guesser', %s, NULL, 'right-password')", (phone,))
    apis = [pooled_api(database, pgbouncer) for _ in range(5)]

    def wrong_login(api):
        assert fails(api.as_anon().scalar, "member_login", p_identifier=phone, p_password="wrong-password") == \
            (BUSINESS, "INVALID_PASSWORD")

    try:
        # an open transaction keeps its server connection: the next client gets another one
        pids = {api.conn.execute("select pg_backend_pid() as pid").fetchone()["pid"] for api in apis[:POOL_SIZE]}
        assert len(pids) == POOL_SIZE
        for api in apis[:POOL_SIZE]:
            wrong_login(api)  # in the open transaction: a savepoint, rolled back
            api.conn.commit()
        for api in apis[POOL_SIZE:]:
            wrong_login(api)
        assert fails(apis[0].as_anon().scalar, "member_login", p_identifier=phone, p_password="right-password") == \
            (BUSINESS, "ACCOUNT_LOCKED")
    finally:
        for api in apis:
            api.close()
