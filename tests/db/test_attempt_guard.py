"""The attempt guard (docs/security.md, "The attempt guard"; attacks 3, 4 and 7 there): every
password attempt is counted before the password is checked, attempts on one subject are
serialized, so no concurrency checks more than five wrong passwords per window; unknown
identifiers are counted and locked exactly like accounts; corporate-card binding passwords
are counted per card. The counts live in shared memory, so the failing call's rollback
cannot undo them and no worker is needed."""

import statistics
import threading
import time
import uuid

import psycopg
import pytest

from conftest import login_member, make_member
from clusters import scratch_cluster
from mps import Api, admin_connect, drop_database, fails, recreate_database
from test_money import run_concurrently

BUSINESS = "P0001"
PERMISSION = "42501"


def login(api, identifier, password):
    return api.as_anon().scalar("member_login", p_identifier=identifier, p_password=password)


def answer(call, *args, **kwargs) -> tuple[str, str, str]:
    """(SQLSTATE, token, DETAIL) of a call that must fail."""
    with pytest.raises(psycopg.Error) as e:
        call(*args, **kwargs)
    d = e.value.diag
    return e.value.sqlstate, d.message_primary, d.message_detail


LOCKED_DETAIL = "too many failed password attempts; try again in 15 minutes"


def test_five_failures_lock_even_the_right_password_and_survive_rollback(api, member):
    for _ in range(5):
        assert fails(login, api, member["phone"], "bad-password") == (BUSINESS, "INVALID_PASSWORD")
    # every failing call rolled back, yet each failure was counted
    assert answer(login, api, member["phone"], member["password"]) == (BUSINESS, "ACCOUNT_LOCKED", LOCKED_DETAIL)


def test_unknown_identifiers_are_counted_and_locked_like_accounts(api, member, unique):
    unknown = f"07{int(unique, 16) % 10**8:08d}"
    for identifier in (member["phone"], unknown):
        for _ in range(5):
            assert fails(login, api, identifier, "bad-password") == (BUSINESS, "INVALID_PASSWORD")
    known_locked = answer(login, api, member["phone"], "bad-password")
    unknown_locked = answer(login, api, unknown, "bad-password")
    assert known_locked == unknown_locked == (BUSINESS, "ACCOUNT_LOCKED", LOCKED_DETAIL)


def test_unknown_merchant_codes_lock_like_merchants(api, merchant):
    anon = api.as_anon()
    for code in (merchant["code"], f"NO-{merchant['code']}"):
        for _ in range(5):
            assert fails(anon.scalar, "merchant_login", p_merchant_code=code, p_password="nope-nope-nope") == \
                (BUSINESS, "INVALID_PASSWORD")
        assert answer(anon.scalar, "merchant_login", p_merchant_code=code, p_password=merchant["password"]) == \
            (BUSINESS, "ACCOUNT_LOCKED", LOCKED_DETAIL)


def test_an_account_has_five_guesses_across_its_identifiers(api, member):
    member_no = login(api, member["phone"], member["password"])["member_no"]
    for identifier in [member["phone"]] * 3 + [member_no] * 2:
        assert fails(login, api, identifier, "bad-password") == (BUSINESS, "INVALID_PASSWORD")
    for identifier in (member["phone"], member_no):
        assert fails(login, api, identifier, member["password"]) == (BUSINESS, "ACCOUNT_LOCKED")


def test_a_right_password_clears_the_failures(api, member):
    for _ in range(4):
        fails(login, api, member["phone"], "bad-password")
    assert login(api, member["phone"], member["password"])["success"] is True
    for _ in range(4):
        assert fails(login, api, member["phone"], "bad-password") == (BUSINESS, "INVALID_PASSWORD")
    assert login(api, member["phone"], member["password"])["success"] is True


def test_sixty_concurrent_guesses_check_at_most_five_passwords(database, api, unique):
    """Attack 3 of docs/security.md: 59 wrong passwords and the right one at once, each on its
    own connection. At most five are checked; all others are ACCOUNT_LOCKED; none is refused
    for want of a resource."""
    victim = make_member(api, unique)
    passwords = ["wrong-guess-%02d" % i for i in range(59)] + [victim["password"]]
    results = run_concurrently(database, 60, lambda c, i: login(c, victim["phone"], passwords[i]))
    answers = ["SUCCESS" if kind == "ok" else error[1] for kind, error in results]
    checked = [a for a in answers if a in ("SUCCESS", "INVALID_PASSWORD")]
    assert 1 <= len(checked) <= 5, answers
    assert answers.count("ACCOUNT_LOCKED") == 60 - len(checked), answers
    # After the burst the account is locked unless the right password was among the checked
    # ones (a right password clears the count and its own lock).
    expected = "SUCCESS" if "SUCCESS" in answers else "ACCOUNT_LOCKED"
    try:
        after = "SUCCESS" if login(api, victim["phone"], victim["password"])["success"] else None
    except psycopg.Error as e:
        after = e.diag.message_primary
    assert after == expected, answers


def test_wrong_password_and_unknown_account_take_the_same_time(api, unique):
    """Issue 11.4: the answer's timing does not tell whether an account exists. Interleaved
    medians of known-wrong and unknown attempts (four per subject, so nothing locks)."""
    known = [make_member(api, f"{unique[:8]}{i:02x}") for i in range(3)]
    times = {"known": [], "unknown": []}
    for round_ in range(4):
        for i, m in enumerate(known):
            for kind, identifier in (("known", m["phone"]), ("unknown", f"06{i}{unique[:3]}{round_}")):
                t0 = time.perf_counter()
                fails(login, api, identifier, "bad-password")
                times[kind].append(time.perf_counter() - t0)
    known_t, unknown_t = statistics.median(times["known"]), statistics.median(times["unknown"])
    assert abs(known_t - unknown_t) <= 0.25 * max(known_t, unknown_t), times


def test_clients_cannot_loosen_the_policy(api):
    for role in ("anon", "authenticated", "service_role"):
        with pytest.raises(psycopg.Error) as e:
            api.as_claims({"role": role}).execute("set mps.login_max_failures = 100")
        assert e.value.sqlstate == PERMISSION


@pytest.fixture
def short_lock_database():
    """A database whose operator set a 2-second lock (the settings are superuser-only)."""
    name = "mps_guard_short_lock"
    recreate_database(name)
    with admin_connect(name) as conn:
        conn.autocommit = True
        conn.execute(f"ALTER DATABASE {name} SET mps.login_lock_seconds = 2")
        conn.execute(f"ALTER DATABASE {name} SET mps.login_max_failures = 3")
    yield name
    drop_database(name)


def test_the_lock_ends_and_settings_apply(short_lock_database):
    api = Api(short_lock_database)
    try:
        m = make_member(api, uuid.uuid4().hex[:10])
        for _ in range(3):
            assert fails(login, api, m["phone"], "bad-password") == (BUSINESS, "INVALID_PASSWORD")
        assert answer(login, api, m["phone"], m["password"]) == \
            (BUSINESS, "ACCOUNT_LOCKED", "too many failed password attempts; try again in 1 minute")
        time.sleep(2.2)
        assert login(api, m["phone"], m["password"])["success"] is True
    finally:
        api.close()


def test_databases_are_counted_apart(short_lock_database, api, unique):
    """The same identifier in another database is another subject."""
    identifier = f"05{int(unique, 16) % 10**8:08d}"
    for _ in range(5):
        fails(login, api, identifier, "bad-password")
    assert fails(login, api, identifier, "bad-password") == (BUSINESS, "ACCOUNT_LOCKED")
    other = Api(short_lock_database)
    try:
        assert fails(login, other, identifier, "bad-password") == (BUSINESS, "INVALID_PASSWORD")
    finally:
        other.close()


# --- corporate-card binding passwords (11.7) ---------------------------------------------

@pytest.fixture
def corporate(api, member):
    return api.as_service().scalar("create_corporate_card", p_owner_member_id=member["id"], p_name="ACME")


def self_bind(api, card, member_session, member_id, password):
    return api.as_anon().scalar("bind_member_to_card", p_card_id=card, p_member_id=member_id,
                                p_binding_password=password, p_session_id=member_session)


def test_self_binding_needs_a_binding_password_set(api, corporate, unique):
    employee = make_member(api, unique[::-1])
    sid = login_member(api, employee)
    assert fails(self_bind, api, corporate, sid, employee["id"], None) == (BUSINESS, "BINDING_PASSWORD_REQUIRED")
    assert fails(self_bind, api, corporate, sid, employee["id"], "anything") == (BUSINESS, "BINDING_PASSWORD_REQUIRED")
    # an admin still binds without one
    assert api.as_service().scalar("bind_member_to_card", p_card_id=corporate, p_member_id=employee["id"]) is True


def test_wrong_binding_passwords_lock_the_card(api, corporate, unique):
    api.as_service().scalar("set_card_binding_password", p_card_id=corporate, p_password="bind-secret")
    employee = make_member(api, unique[::-1])
    sid = login_member(api, employee)
    for _ in range(5):
        assert fails(self_bind, api, corporate, sid, employee["id"], "guess") == (BUSINESS, "INVALID_BINDING_PASSWORD")
    assert answer(self_bind, api, corporate, sid, employee["id"], "bind-secret") == \
        (BUSINESS, "BINDING_PASSWORD_LOCKED", "too many failed binding password attempts; try again in 15 minutes")
    # counted per card: another member is locked out of this card too
    other = make_member(api, uuid.uuid4().hex[:10])
    assert fails(self_bind, api, corporate, login_member(api, other), other["id"], "bind-secret") == \
        (BUSINESS, "BINDING_PASSWORD_LOCKED")
    bound = api.as_service().execute("select count(*) as n from public.card_bindings where card_id = %s", (corporate,))
    assert bound[0]["n"] == 1  # the owner only


# --- a server without the guard -----------------------------------------------------------

def test_without_the_preloaded_guard_no_password_is_checked():
    """Without shared_preload_libraries = 'mps_ext' there is nowhere to count attempts, so every
    password check is refused before the password is looked at: even the right one."""
    with scratch_cluster(5496, {"shared_preload_libraries": "''"}) as cluster:
        with cluster.connect() as conn:
            conn.execute("CREATE EXTENSION mps_ext")
            conn.execute("SELECT create_member_profile('Guardless', '0977000000', NULL, 'right-password')")
            for password in ("right-password", "wrong-password"):
                with pytest.raises(psycopg.Error) as e:
                    conn.execute("SELECT member_login('0977000000', %s)", (password,))
                assert (e.value.sqlstate, e.value.diag.message_primary) == (BUSINESS, "LOGIN_TEMPORARILY_UNAVAILABLE")
                assert "shared_preload_libraries" in e.value.diag.message_hint
            # everything that checks no password still works
            assert conn.execute("SELECT count(*) AS n FROM verify_ledger()").fetchone()["n"] == 0


def test_a_burst_of_failed_logins_takes_no_worker_slot():
    """Issue 12.4: on a server with max_worker_processes = 8, 40 concurrent wrong-password logins
    are all answered INVALID_PASSWORD, and a parallel query during the burst still gets its
    workers: counting holds no worker slot."""
    with scratch_cluster(5498, {"shared_preload_libraries": "mps_ext", "max_worker_processes": "8",
                                "max_parallel_workers_per_gather": "2"}) as cluster:
        with cluster.connect() as conn:
            conn.execute("CREATE EXTENSION mps_ext")
            conn.execute("SET mps.bcrypt_cost = 4")  # the members' hashes only; logins pay what they pay
            phones = [f"0988{i:06d}" for i in range(40)]
            for phone in phones:
                conn.execute("SELECT create_member_profile('Burst', %s, NULL, 'right-password')", (phone,))
            conn.execute("CREATE TABLE big AS SELECT g FROM generate_series(1, 2000000) g")
            conn.execute("ANALYZE big")
        start = threading.Barrier(len(phones) + 1)
        answers = []

        def attempt(phone):
            with cluster.connect() as c:
                start.wait()
                try:
                    c.execute("SELECT member_login(%s, 'wrong-password')", (phone,))
                    answers.append("SUCCESS")
                except psycopg.Error as e:
                    answers.append(e.diag.message_primary)

        threads = [threading.Thread(target=attempt, args=(p,)) for p in phones]
        for t in threads:
            t.start()
        with cluster.connect() as c:
            c.execute("SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0")
            start.wait()
            plan = "\n".join(r["QUERY PLAN"] for r in c.execute("EXPLAIN ANALYZE SELECT count(*) FROM big").fetchall())
            workers = c.execute("SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type LIKE '%mps_ext%'"
                                ).fetchone()["n"]
        for t in threads:
            t.join()
        assert answers == ["INVALID_PASSWORD"] * 40
        assert "Workers Launched: 2" in plan, plan
        assert workers == 0
