"""Reads never write (README, "Operations: backups, read replicas, dropping, logs"): no
read-only RPC or RLS policy helper assigns a transaction id, so a hot standby (a Supabase
read replica) serves every read; writes there fail with SQLSTATE 25006, never XX000."""

import os
import time
from decimal import Decimal

import psycopg
import pytest

from clusters import scratch_cluster
from conftest import Shop, login_member, login_merchant, make_member
from mps import ANON, SERVICE, Api, Request, admin_connect, user_claims
from rpc_calls import valid_calls

READ_ONLY = "25006"


def stable_functions(admin_sql) -> set[str]:
    return {r["proname"] for r in admin_sql.execute(
        "select proname from pg_proc where pronamespace = 'public'::regnamespace and provolatile in ('s', 'i')"
        "   and prokind = 'f' and prorettype <> 'trigger'::regtype").fetchall()}


def test_no_stable_function_assigns_a_transaction_id(api, admin_sql, member, merchant, unique):
    xids = {}
    svc, anon = Request(api, SERVICE, xids), Request(api, ANON, xids)
    shop = Shop(api, member, merchant)
    for _, call in valid_calls(api, shop, unique, svc, anon):
        call()
    svc.rows("verify_ledger")
    stable = stable_functions(admin_sql)
    assert stable - set(xids) == set(), "every STABLE function is called"
    assert {f: x for f, x in xids.items() if f in stable and x is not None} == {}
    # the write RPCs do get one: the check can tell
    assert xids["merchant_charge_by_qr"] is not None and xids["member_login"] is not None


@pytest.mark.parametrize("claims", ["anon", "member_jwt", "service_role"])
def test_rls_policy_helpers_assign_no_transaction_id(api, admin_sql, member, claims, unique):
    auth_user = admin_sql.execute("select gen_random_uuid() as id").fetchone()["id"]
    admin_sql.execute("update member_profiles set auth_user_id = %s where id = %s", (auth_user, member["id"]))
    who = {"anon": ANON, "member_jwt": user_claims(auth_user), "service_role": SERVICE}[claims]
    req = api.as_claims(who)
    table = "membership_levels" if claims == "anon" else "member_cards"
    try:
        rows = req.execute(f"select count(*) as n, txid_current_if_assigned() as xid from public.{table}")
        assert rows[0]["xid"] is None
    except psycopg.Error as e:  # anon may read no table at all
        assert claims == "anon" and e.sqlstate == "42501"


# --- a real hot standby ------------------------------------------------------------------

STANDBY_PORT = 5499


@pytest.fixture(scope="module")
def standby(database):
    """A streaming hot standby of the test cluster, on its own port."""
    with scratch_cluster(STANDBY_PORT, {}, standby_of=(os.environ["PGHOST"], os.environ["PGPORT"])) as cluster:
        yield cluster


def caught_up(database, standby):
    with admin_connect(database) as primary:
        lsn = primary.execute("select pg_current_wal_lsn() as l").fetchone()["l"]
    with standby.connect(database) as s:
        for _ in range(200):
            if s.execute("select pg_last_wal_replay_lsn() >= %s::pg_lsn as done", (lsn,)).fetchone()["done"]:
                return
            time.sleep(0.05)
    raise AssertionError("the standby did not catch up")


def test_a_hot_standby_serves_every_read_and_refuses_writes_with_25006(database, api, admin_sql, standby, unique):
    shop = Shop(api, make_member(api, unique), {**_merchant(api, unique)})
    paid = shop.charge(Decimal("25"))
    member_session, merchant_session = login_member(api, shop.member), login_merchant(api, shop.merchant)
    auth_user = admin_sql.execute("select gen_random_uuid() as id").fetchone()["id"]
    admin_sql.execute("update member_profiles set auth_user_id = %s where id = %s", (auth_user, shop.member["id"]))
    caught_up(database, standby)

    replica = Api(database, host=standby.host, port=standby.port)
    try:
        def reads(client):
            anon, svc, jwt = client.as_anon(), client.as_service(), client.as_user(auth_user)
            return {
                "member session cards": anon.rows("get_member_cards", p_member_id=shop.member["id"],
                                                  p_session_id=member_session),
                "member session history": anon.rows("get_member_transactions", p_member_id=shop.member["id"],
                                                    p_session_id=member_session),
                "merchant session history": anon.rows("get_merchant_transactions", p_merchant_id=shop.merchant["id"],
                                                      p_session_id=merchant_session),
                "merchant session tx": anon.rows("get_transaction_detail", p_tx_no=paid["tx_no"],
                                                 p_session_id=merchant_session),
                "jwt member cards": jwt.rows("get_member_cards", p_member_id=shop.member["id"]),
                "jwt member profile": jwt.scalar("get_user_profile"),
                "service ledger": svc.rows("get_point_ledger", p_card_id=shop.card),
                "service verify": svc.rows("verify_ledger"),
                "anon levels": anon.scalar("compute_level", p_points=5000),
            }
        on_primary, on_standby = reads(api), reads(replica)
        assert on_standby == on_primary
        assert on_standby["member session cards"][0]["balance"] == Decimal("975.00")

        anon = replica.as_anon()
        for call in (
            lambda: anon.scalar("member_login", p_identifier=shop.member["phone"], p_password=shop.member["password"]),
            lambda: anon.scalar("member_login", p_identifier=shop.member["phone"], p_password="wrong-password"),
            lambda: anon.rows("merchant_charge_by_qr", p_merchant_code=shop.merchant["code"], p_qr_plain=shop.qr(),
                              p_raw_amount=Decimal("5"), p_session_id=merchant_session),
            lambda: replica.as_service().rows("user_recharge_card", p_card_id=shop.card, p_amount=Decimal("5")),
        ):
            with pytest.raises(psycopg.Error) as e:
                call()
            assert e.value.sqlstate == READ_ONLY, e.value
    finally:
        replica.close()


def _merchant(api, unique):
    code = f"SB{unique}"
    merchant_id = api.as_service().scalar("create_merchant", p_code=code, p_name="Standby Shop",
                                          p_contact="0912", p_password="merchant-pass-1")
    return {"id": merchant_id, "code": code, "password": "merchant-pass-1"}
