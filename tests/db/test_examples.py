"""The README's client examples run: psql, psycopg, and postgrest-py (supabase-py's RPC
client) through a PostgREST endpoint."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

from mps import admin_connect, drop_database, dsn, recreate_database
from postgrest_http import Server, key_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_database():
    name = "mps_examples"
    recreate_database(name)
    yield name
    drop_database(name)


def test_psql_example(fresh_database):
    out = subprocess.run(["psql", "-X", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-d", fresh_database, "-f",
                          str(ROOT / "examples/psql.sql")], capture_output=True, text=True, check=True).stdout
    assert "120.50" in out and "379.50" in out  # charged, then the balance 500 − 120.50
    assert out.split("ledger_violations")[1].split()[1] == "0"


def test_psycopg_pos_example(fresh_database):
    with admin_connect(fresh_database) as conn:
        conn.execute("select public.create_merchant('POS1', 'Pos', null, 'pos-password')")
        member = conn.execute("select public.create_member_profile('Fay', '0933', null, 'fay-password') as id") \
            .fetchone()["id"]
        card = conn.execute("select id from public.get_member_cards(%s)", (member,)).fetchone()["id"]
        conn.execute("select * from public.user_recharge_card(%s, 100)", (card,))
        qr = conn.execute("select qr_plain from public.rotate_card_qr(%s)", (card,)).fetchone()["qr_plain"]
        conn.commit()
    env = dict(os.environ, MPS_DSN=dsn(fresh_database, "mps_pos"))
    out = subprocess.run([sys.executable, str(ROOT / "examples/pos_psycopg.py"), "POS1", "pos-password", qr],
                         capture_output=True, text=True, check=True, env=env).stdout.splitlines()
    assert out[0].startswith("charged PAY") and out[0].endswith(" 42.00")
    assert out[1].endswith("(same transaction)")
    assert out[2].startswith("refunded REF") and out[2].endswith(" 2.00")
    assert out[3].startswith("refused REFUND_EXCEEDS_REMAINING")


def test_pos_hold_example(fresh_database):
    with admin_connect(fresh_database) as conn:
        conn.execute("select public.create_merchant('POS2', 'Bistro', null, 'pos-password')")
        member = conn.execute("select public.create_member_profile('Gil', '0944', null, 'gil-password') as id") \
            .fetchone()["id"]
        card = conn.execute("select id from public.get_member_cards(%s)", (member,)).fetchone()["id"]
        conn.execute("select * from public.user_recharge_card(%s, 100)", (card,))
        qr = conn.execute("select qr_plain from public.rotate_card_qr(%s)", (card,)).fetchone()["qr_plain"]
        conn.commit()
    env = dict(os.environ, MPS_DSN=dsn(fresh_database, "mps_pos"))
    out = subprocess.run([sys.executable, str(ROOT / "examples/pos_hold.py"), "POS2", "pos-password", qr],
                         capture_output=True, text=True, check=True, env=env).stdout.splitlines()
    assert out[0].startswith("held HLD") and out[0].endswith(" 60.00")
    assert out[1].startswith("captured PAY") and out[1].endswith(" 55.00")
    assert out[2].startswith("voided HLD") and out[2].endswith(" True")
    assert out[3].startswith("refused HOLD_NOT_ACTIVE")
    with admin_connect(fresh_database) as conn:
        row = conn.execute("select * from public.get_card_balance(%s)", (card,)).fetchone()
    assert row == {"balance": 45, "held": 0, "available": 45}


def test_supabase_py_example(fresh_database):
    server = Server(fresh_database)
    try:
        env = dict(os.environ, MPS_POSTGREST_URL=server.url, MPS_ANON_KEY=key_for("anon"),
                   MPS_SERVICE_KEY=key_for("service_role"))
        out = subprocess.run([sys.executable, str(ROOT / "examples/supabase_py.py")], capture_output=True,
                             text=True, check=True, env=env).stdout.splitlines()
    finally:
        server.close()
    assert out[0].startswith("charged PAY") and out[0].endswith(" 88.8 discount 1.0")
    assert out[1] == "refused P0001 INSUFFICIENT_BALANCE"


@pytest.mark.parametrize("role", ["service_role", "authenticated", "authenticator", "postgres"])
def test_pos_login_cannot_become_another_role(fresh_database, role):
    """mps_pos, the examples' POS login, is a member of anon only: it cannot switch to any
    role that could act as a super admin or as a JWT user."""
    with psycopg.connect(dsn(fresh_database, "mps_pos")) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as e:
            conn.execute(f"set role {role}")
        assert e.value.diag.message_primary == f'permission denied to set role "{role}"'
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select set_config('role', %s, true)", (role,))


@pytest.mark.parametrize("claims", [None, {"role": "anon"}, {"role": "service_role"}, "admin-sub"])
def test_pos_login_cannot_call_admin_rpcs(fresh_database, claims):
    """Whatever claims it sets, mps_pos as anon is refused the admin-only RPCs (no EXECUTE)
    and is anonymous inside the ones it may call: claiming a super admin's `sub` names nobody."""
    admin_user = uuid.uuid4()
    with admin_connect(fresh_database) as conn:
        conn.execute("insert into public.admin_users (auth_user_id, name) values (%s, 'Root')", (admin_user,))
        conn.commit()
    if claims == "admin-sub":
        claims = {"role": "anon", "sub": str(admin_user)}
    with psycopg.connect(dsn(fresh_database, "mps_pos"), autocommit=True) as conn:
        def as_anon(statement):
            with conn.transaction():
                conn.execute("select set_config('role', 'anon', true), set_config('request.jwt.claims', %s, true)",
                             (json.dumps(claims) if claims else "",))
                return conn.execute(statement).fetchone()

        for statement in ["select public.create_merchant('EVIL', 'Evil', null, 'evil-password')",
                          "select * from public.get_all_members()",
                          "select public.admin_suspend_merchant(gen_random_uuid())",
                          "select * from public.verify_ledger()"]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege) as e:
                as_anon(statement)
            assert e.value.diag.message_primary.startswith("permission denied for function "), statement
        assert as_anon("select public.get_user_role() as r")[0] is None
        assert as_anon("select public.is_admin() as a")[0] is False


def test_the_original_clients_table_reads_with_supabase_auth_tokens(fresh_database):
    """Issue 18: the original client reads `member_cards?select=*&id=eq.…` and
    `member_profiles?select=*&id=eq.…` with a super admin's token, and Supabase Auth tokens
    carry `aud`, `email` and `exp`: whole rows come back, and no secret among them."""
    import time
    import urllib.error
    import urllib.request

    import jwt

    from postgrest_http import JWT_SECRET

    admin_sub, member_sub = uuid.uuid4(), uuid.uuid4()
    with admin_connect(fresh_database) as conn:
        conn.execute("insert into admin_users (auth_user_id, name) values (%s, 'Ops')", (admin_sub,))
        member = conn.execute("select public.create_member_profile('Gil', '0944555666', 'gil@example.com',"
                              " 'gil-password', 'supabase', %s) as id", (str(member_sub),)).fetchone()["id"]
        card = conn.execute("select id from public.get_member_cards(%s)", (member,)).fetchone()["id"]
        conn.execute("select * from public.user_recharge_card(%s, 75.50)", (card,))
        conn.commit()

    def supabase_auth_token(sub, exp_in=3600):
        return jwt.encode({"aud": "authenticated", "role": "authenticated", "sub": str(sub),
                           "email": f"{sub}@example.com", "exp": int(time.time()) + exp_in}, JWT_SECRET,
                          algorithm="HS256")

    def request(token, path, body=None):
        """What supabase-py's table and rpc calls send (postgrest-py: GET with select=…, POST /rpc)."""
        req = urllib.request.Request(server.url + path, data=None if body is None else json.dumps(body).encode(),
                                     headers={"apikey": key_for("anon"), "Authorization": f"Bearer {token}",
                                              "content-type": "application/json"})
        with urllib.request.urlopen(req) as answer:
            return json.loads(answer.read())

    server = Server(fresh_database)
    try:
        admin = supabase_auth_token(admin_sub)
        cards = request(admin, f"/member_cards?select=*&id=eq.{card}")
        assert [(c["id"], c["balance"], c["points"]) for c in cards] == [(str(card), 75.5, 0)]
        assert not any("hash" in k or "password" in k for k in cards[0])
        profiles = request(admin, f"/member_profiles?select=*&id=eq.{member}")
        assert [(p["name"], p["phone"]) for p in profiles] == [("Gil", "0944555666")]
        assert not any("hash" in k or "password" in k for k in profiles[0])
        # the member's own token: own rows through the table API and the RPCs
        mine = supabase_auth_token(member_sub)
        assert [c["id"] for c in request(mine, "/member_cards?select=*")] == [str(card)]
        assert [c["id"] for c in request(mine, "/rpc/get_member_cards", {})] == [str(card)]
        # an expired token is refused as PostgREST refuses it
        with pytest.raises(urllib.error.HTTPError) as e:
            request(supabase_auth_token(member_sub, exp_in=-60), "/rpc/get_member_cards", {})
        assert e.value.code == 401 and json.loads(e.value.read())["code"] == "PGRST301"
    finally:
        server.close()
