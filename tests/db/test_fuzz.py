"""Hostile input, property-based: hypothesis draws an RPC and values for its arguments by
type (NULLs, negatives, zero, 10^13 and 3-decimal amounts, NaN/Infinity, huge and unicode
strings, malformed uuids, timestamps and JSON, out-of-range TTLs, wrong enum values,
foreign ids) and calls it through PostgREST as anon, as a member session and as
service_role. Only contract tokens (P0001/42501) or type-cast data exceptions (class 22)
may come back: never 5xx, never XX000, never a Rust panic or backtrace. The books stay
balanced (checked on the fuzz database when it ends)."""

import re
import uuid
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import login_member, make_member
from mps import ANON, SERVICE, Api, admin_connect, drop_database, recreate_database
from postgrest import PostgREST

FUZZ_DB = "mps_fuzz"
TOKEN = re.compile(r"^[A-Z][A-Z_]+(: |$)")

amounts = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True, places=None),
    st.decimals(min_value=-10**13, max_value=10**13, places=3),
    st.sampled_from([Decimal("0"), Decimal("-0.01"), Decimal("0.004"), Decimal("0.005"), Decimal("10000000000000"),
                     Decimal("9999999999.99"), Decimal("1e-30")]),
    st.integers(min_value=-10**20, max_value=10**20),
    st.text(max_size=20),
)
texts = st.one_of(st.text(max_size=300), st.text(min_size=3000, max_size=5000, alphabet="xyz漢字🙂"),
                  st.sampled_from(["", " ", "' OR 1=1 --", "%", "_", "\\", "null", "A" * 44, "M00000001",
                                   "STD00000001", "PAY0000000001"]))
uuids = st.one_of(st.uuids().map(str), st.sampled_from(["", "not-a-uuid", "00000000-0000-0000-0000-00000000000g",
                                                        "{" + "0" * 32 + "}"]))
integers = st.one_of(st.integers(min_value=-2**31, max_value=2**31 - 1), st.integers(min_value=-10**12, max_value=10**12),
                     st.sampled_from([0, -1, 59, 60, 86400, 86401, 2**31]), st.text(max_size=5))
timestamps = st.one_of(st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
                       st.sampled_from(["", "yesterday", "infinity", "-infinity", "2026-13-45", "0001-01-01T00:00:00Z",
                                        "294276-12-31T23:59:59Z"]))
jsons = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                     max_leaves=6)
enum_values = st.one_of(st.sampled_from(["standard", "voucher", "corporate", "owner", "admin", "member", "viewer",
                                         "active", "inactive", "suspended", "lost", "pending", "settled", "paid",
                                         "failed", "realtime", "t_plus_1", "monthly", "wechat", "cash", "alipay",
                                         "balance", "frozen", "ADMIN", ""]), st.text(max_size=10))

BY_TYPE = {"text": texts, "uuid": uuids, "numeric": amounts, "integer": integers,
           "timestamp with time zone": timestamps, "jsonb": jsons}


def value_for(sql_type):
    return st.one_of(st.none(), BY_TYPE.get(sql_type, enum_values))


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.data())
def test_hostile_arguments_never_break_an_rpc(data, fuzz_env):
    server, identities = fuzz_env
    fn = data.draw(st.sampled_from(sorted(server.signatures)), label="function")
    sig = server.signatures[fn]
    # p_session_id is the identity's, except where it is the argument itself (load/logout)
    own_session = fn in ("load_session", "logout_session")
    body = {name: data.draw(value_for(t), label=name) for name, t in sig.arguments
            if name != "p_session_id" or own_session}
    claims, extra = data.draw(st.sampled_from(identities), label="identity")
    response = server.rpc(fn, body if own_session else {**body, **extra}, claims)
    text = str(response.body)
    assert "panicked" not in text and "backtrace" not in text.lower() and ".rs:" not in text, (fn, body, text)
    assert response.status < 500, (fn, body, response)
    if response.status != 200:
        code, message = response.body["code"], response.body["message"] or ""
        assert code in ("P0001", "42501") or code.startswith("22"), (fn, body, response.body)
        if code in ("P0001", "42501") and not message.startswith("permission denied for"):
            assert TOKEN.match(message), (fn, body, message)


@pytest.fixture
def fuzz_env():
    """A database of its own, a PostgREST endpoint on it and the identities to call it as
    (built once per test run; hypothesis reuses it for every example). Whatever the fuzz does
    as service_role there (a hundred partitions made ahead, settled periods, suspended
    accounts) never reaches the other tests; its books must balance all the same."""
    recreate_database(FUZZ_DB)
    api = Api(FUZZ_DB)
    sid = login_member(api, make_member(api, uuid.uuid4().hex[:10]))
    server = PostgREST(FUZZ_DB)
    yield server, [(ANON, {}), (ANON, {"p_session_id": sid}), (SERVICE, {})]
    server.close()
    api.close()
    with admin_connect(FUZZ_DB) as conn:
        violations = conn.execute("select * from public.verify_ledger()").fetchall()
    drop_database(FUZZ_DB)
    assert violations == [], violations
