"""The README's client examples run: psql, psycopg, and postgrest-py (supabase-py's RPC
client) through a PostgREST endpoint."""

import os
import subprocess
import sys
from pathlib import Path

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
    env = dict(os.environ, MPS_DSN=dsn(fresh_database, "authenticator"))
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
