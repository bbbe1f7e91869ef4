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
