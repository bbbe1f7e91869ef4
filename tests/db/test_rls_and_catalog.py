"""Row Level Security through the table API, privileges and the function catalog."""

import sys
import uuid
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from conftest import Shop, make_member
from mps import ANON, SERVICE, Api, admin_connect, drop_database, dsn, recreate_database, user_claims

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import rpc_matrix  # noqa: E402

PERMISSION = "42501"

TABLES = [
    "member_profiles", "member_external_identities", "membership_levels", "member_cards", "card_bindings",
    "merchants", "admin_users", "merchant_users", "app_sessions", "card_qr_state", "card_qr_history",
    "tx_registry", "idempotency_registry", "merchant_order_registry", "transactions", "point_ledger",
    "settlements", "card_holds",
]

# RPCs anon may execute (logins and what members/merchants call with the anon key + session):
# the manifest's (src/rpc/manifest.tsv).
ANON_EXECUTABLE = {row["function"] for row in rpc_matrix.manifest() if row["grant"] == "anon"}


def test_every_table_has_rls_enabled(admin_sql):
    rows = admin_sql.execute(
        "select c.relname, c.relrowsecurity from pg_class c join pg_depend d on d.objid = c.oid"
        " join pg_extension e on e.oid = d.refobjid and e.extname = 'mps_ext'"
        " where c.relkind in ('r', 'p')").fetchall()
    assert {r["relname"] for r in rows} >= set(TABLES) | {"event_log"}
    assert [r["relname"] for r in rows if not r["relrowsecurity"]] == []


@pytest.mark.parametrize("claims", [ANON, SERVICE, user_claims(uuid.uuid4())], ids=["anon", "service", "user"])
def test_api_roles_cannot_write_any_table(api, admin_sql, claims, member):
    req = api.as_claims(claims)
    card_id = api.as_service().execute("select id from member_cards where owner_member_id = %s", (member["id"],))
    first_column = {r["table_name"]: r["column_name"] for r in admin_sql.execute(
        "select table_name, column_name from information_schema.columns"
        " where table_schema = 'public' and ordinal_position = 1").fetchall()}
    for table in TABLES:
        column = first_column[table]
        for statement in [f"insert into public.{table} default values",
                          f"update public.{table} set {column} = {column}",
                          f"delete from public.{table}"]:
            with pytest.raises(psycopg.Error) as e:
                req.execute(statement)
            assert e.value.sqlstate == PERMISSION, (claims["role"], statement)
    # in particular no one can touch a balance
    with pytest.raises(psycopg.Error) as e:
        req.execute("update public.member_cards set balance = 1000000 where id = %s", (card_id[0]["id"],))
    assert e.value.sqlstate == PERMISSION


@pytest.mark.parametrize("table", TABLES + ["audit.event_log"])
def test_anon_reads_no_table(api, admin_sql, table, merchant, member):
    """anon (the anon key, a POS as mps_pos) reads no row of any table: every SELECT is refused
    with PostgreSQL's own permission error, not answered with an empty set, so no listing of
    merchants (their login codes) or members exists for it."""
    anon = api.as_anon()
    qualified = table if "." in table else f"public.{table}"
    assert admin_sql.execute(f"select count(*) as n from {qualified}").fetchone()["n"] >= 0
    for statement in [f"select count(*) from {qualified}", f"select * from {qualified}"]:
        with pytest.raises(psycopg.Error) as e:
            anon.execute(statement)
        assert e.value.sqlstate == PERMISSION, statement
        assert e.value.diag.message_primary in (f"permission denied for table {table.split('.')[-1]}",
                                                f"permission denied for schema {table.split('.')[0]}"), statement


def test_anon_cannot_list_merchant_codes_or_members(api, merchant, member):
    """Attack 4 of docs/security.md: `SELECT code FROM merchants` as anon."""
    anon = api.as_anon()
    for statement, table in [("select code from public.merchants", "merchants"),
                             ("select member_no, phone from public.member_profiles", "member_profiles")]:
        with pytest.raises(psycopg.Error) as e:
            anon.execute(statement)
        assert (e.value.sqlstate, e.value.diag.message_primary) == (PERMISSION, f"permission denied for table {table}")


def test_signed_in_users_read_levels_and_only_their_own_merchant(api, admin_sql, merchant, member, unique):
    staff_user = uuid.uuid4()
    admin_sql.execute("insert into merchant_users (merchant_id, auth_user_id) values (%s, %s)",
                      (merchant["id"], staff_user))
    member_user = uuid.uuid4()
    admin_sql.execute("update member_profiles set auth_user_id = %s where id = %s", (member_user, member["id"]))
    for sub in (staff_user, member_user):
        levels = api.as_user(sub).execute(
            "select level, min_points, discount::text from public.membership_levels order by level")
        assert [(r["level"], r["min_points"], r["discount"]) for r in levels] == \
            [(0, 0, "1.000"), (1, 1000, "0.950"), (2, 5000, "0.900"), (3, 10000, "0.850")]
    assert api.as_user(staff_user).execute("select code from public.merchants") == [{"code": merchant["code"]}]
    assert api.as_user(member_user).execute("select code from public.merchants") == []


# What the table API serves (`select=*`) to signed-in callers, RLS filtering the rows; the
# session table and the registries are the RPCs' own and no API role reads them.
READABLE = [t for t in TABLES if t not in {"app_sessions", "tx_registry", "idempotency_registry",
                                           "merchant_order_registry"}]
SECRET = ("password", "hash", "token", "session_id")


def test_no_public_table_holds_a_secret(admin_sql):
    columns = admin_sql.execute(
        "select table_name || '.' || column_name as c from information_schema.columns"
        " where table_schema = 'public' and table_name = any(%s)", (READABLE,)).fetchall()
    assert [c["c"] for c in columns if any(word in c["c"].split(".")[1] for word in SECRET)] == []


def test_select_star_works_on_every_readable_table_for_every_signed_in_caller(api, admin_sql, unique):
    """Issue 18: the original's client reads `member_cards?select=*` and `member_profiles?select=*`
    (a super admin's token); every signed-in kind of caller may `select *` every table it may
    read, rows filtered by RLS, and never meets a password hash, token or session digest."""
    member_sub, staff_sub, admin_sub = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    member = make_member(api, unique, p_binding_user_org="supabase", p_binding_org_id=str(member_sub))
    code = f"SEL{unique}"
    merchant_id = api.as_service().scalar("create_merchant", p_code=code, p_name="Select Shop", p_contact="0912",
                                          p_password="merchant-pass-1")
    shop = Shop(api, member, {"id": merchant_id, "code": code, "password": "merchant-pass-1"})
    shop.charge("10.00")
    corporate = api.as_service().scalar("create_corporate_card", p_owner_member_id=member["id"])
    api.as_service().scalar("set_card_binding_password", p_card_id=corporate, p_password="binding-pass-1")
    admin_sql.execute("insert into merchant_users (merchant_id, auth_user_id) values (%s, %s)",
                      (merchant_id, staff_sub))
    admin_sql.execute("insert into admin_users (auth_user_id, name) values (%s, 'Select Admin')", (admin_sub,))
    callers = {"service_role": SERVICE, "member JWT": user_claims(member_sub), "staff JWT": user_claims(staff_sub),
               "admin JWT": user_claims(admin_sub), "stranger JWT": user_claims(uuid.uuid4())}
    for who, claims in callers.items():
        req = api.as_claims(claims)
        for table in READABLE:
            rows = req.execute(f"select * from public.{table}")  # 42501 here would fail the test
            assert "$2" not in str(rows), (who, table)  # no bcrypt hash under another name
        # each sees its own: the member their card at its balance, staff their merchant
        cards = {r["id"]: r["balance"] for r in req.execute("select * from public.member_cards")}
        if who in ("service_role", "member JWT", "admin JWT"):
            assert cards[shop.card] == Decimal("990.00"), who
        else:
            assert shop.card not in cards, who
        merchants = [r["id"] for r in req.execute("select * from public.merchants where id = %s", (merchant_id,))]
        assert merchants == ([] if who in ("member JWT", "stranger JWT") else [merchant_id]), who
    # anon reads no table at all (docs/security.md), and the RPCs' own tables stay closed
    for table in TABLES:
        with pytest.raises(psycopg.Error) as e:
            api.as_anon().execute(f"select * from public.{table}")
        assert e.value.sqlstate == PERMISSION, table
    for table in set(TABLES) - set(READABLE):
        with pytest.raises(psycopg.Error) as e:
            api.as_service().execute(f"select * from public.{table}")
        assert e.value.sqlstate == PERMISSION, table


def test_rpcs_never_return_password_hashes(api, member, merchant):
    sid = api.as_anon().scalar("member_login", p_identifier=member["phone"], p_password=member["password"])["session_id"]
    msid = api.as_anon().scalar("merchant_login", p_merchant_code=merchant["code"],
                                p_password=merchant["password"])["session_id"]
    for s in [sid, msid]:
        text = str(api.as_anon().scalar("get_user_profile", p_session_id=s))
        assert "$2" not in text and "password" not in text


def test_member_sees_exactly_own_rows(api, admin_sql, unique):
    sub, other_sub = uuid.uuid4(), uuid.uuid4()
    me = make_member(api, unique, p_binding_user_org="supabase", p_binding_org_id=str(sub))
    other = make_member(api, unique[::-1], p_binding_user_org="supabase", p_binding_org_id=str(other_sub))
    req = api.as_user(sub)
    assert [r["id"] for r in req.execute("select id from public.member_profiles")] == [me["id"]]
    cards = req.execute("select owner_member_id from public.member_cards")
    assert [c["owner_member_id"] for c in cards] == [me["id"]]
    assert [b["member_id"] for b in req.execute("select member_id from public.card_bindings")] == [me["id"]]
    assert req.execute("select * from public.transactions") == []
    assert req.execute("select * from public.admin_users") == []
    assert req.execute("select * from public.settlements") == []
    ext = req.execute("select external_id from public.member_external_identities")
    assert ext == [{"external_id": str(sub)}]
    # the other member sees their own, not mine
    assert [r["id"] for r in api.as_user(other_sub).execute("select id from public.member_profiles")] == [other["id"]]


def test_merchant_staff_and_admin_visibility(api, admin_sql, merchant, member, unique):
    staff = uuid.uuid4()
    admin_sql.execute("insert into merchant_users (merchant_id, auth_user_id) values (%s, %s)", (merchant["id"], staff))
    other_merchant = api.as_service().scalar("create_merchant", p_code=f"OM{unique}", p_name="Other")
    admin_sql.execute("insert into merchant_users (merchant_id, auth_user_id) values (%s, %s)",
                      (other_merchant, uuid.uuid4()))
    rows = api.as_user(staff).execute("select merchant_id from public.merchant_users")
    assert [r["merchant_id"] for r in rows] == [merchant["id"]]
    assert api.as_user(staff).execute("select id from public.member_profiles") == []

    admin = uuid.uuid4()
    admin_sql.execute("insert into admin_users (auth_user_id, name) values (%s, 'Admin')", (admin,))
    total = admin_sql.execute("select count(*) as n from member_profiles").fetchone()["n"]
    seen = api.as_user(admin).execute("select count(*) as n from public.member_profiles")[0]["n"]
    assert seen == total and total >= 1
    assert len(api.as_user(admin).execute("select id from public.admin_users where auth_user_id = %s",
                                          (admin,))) == 1


def test_policies_resolve_the_caller_once_per_statement(admin_sql):
    rows = admin_sql.execute(
        "select tablename, qual from pg_policies where schemaname = 'public' and qual like '%mps_auth.%'").fetchall()
    assert rows, "policies use mps_auth caller resolution"
    for r in rows:
        # every call is wrapped as (SELECT mps_auth.f()) so the planner makes it an InitPlan
        import re
        calls = re.findall(r"(\(?\s*SELECT\s+mps_auth\.\w+\(\)|mps_auth\.\w+\(\))", r["qual"])
        bare = [c for c in calls if not c.lstrip("( ").upper().startswith("SELECT")]
        assert bare == [], (r["tablename"], r["qual"])


def test_function_catalog_security(admin_sql):
    rows = admin_sql.execute(
        "select p.oid::regprocedure::text as sig, p.proname, p.prosecdef, p.proconfig,"
        "       exists (select 1 from aclexplode(p.proacl) a where a.grantee = 0) as public_x,"
        "       has_function_privilege('anon', p.oid, 'EXECUTE') as anon_x,"
        "       has_function_privilege('authenticated', p.oid, 'EXECUTE') as auth_x,"
        "       has_function_privilege('service_role', p.oid, 'EXECUTE') as service_x"
        "  from pg_proc p join pg_depend d on d.objid = p.oid and d.classid = 'pg_proc'::regclass"
        "  join pg_extension e on e.oid = d.refobjid and e.extname = 'mps_ext'"
        " where p.pronamespace = 'public'::regnamespace").fetchall()
    assert len(rows) >= 15
    for r in rows:
        assert r["prosecdef"], r["sig"]
        assert r["proconfig"] and any(c.startswith("search_path=") for c in r["proconfig"]), r["sig"]
        assert not r["public_x"], f"{r['sig']} is executable by PUBLIC"
        assert r["anon_x"] == (r["proname"] in ANON_EXECUTABLE), r["sig"]
        assert r["service_x"], r["sig"]
        assert r["auth_x"], r["sig"]
    # internal functions are executable by no API role
    internal = admin_sql.execute(
        "select p.oid::regprocedure::text as sig from pg_proc p where p.pronamespace = 'mps_internal'::regnamespace"
        " and (has_function_privilege('anon', p.oid, 'EXECUTE') or has_function_privilege('authenticated', p.oid, 'EXECUTE')"
        "      or has_function_privilege('service_role', p.oid, 'EXECUTE'))").fetchall()
    assert internal == []
    usage = admin_sql.execute("select has_schema_privilege('anon', 'mps_internal', 'USAGE') as a,"
                              " has_schema_privilege('authenticated', 'audit', 'USAGE') as b").fetchone()
    assert usage == {"a": False, "b": False}


def test_drop_and_recreate_extension(database):
    name = f"{database}_recreate"
    recreate_database(name, extension=False)
    try:
        with admin_connect(name) as conn:
            conn.autocommit = True
            conn.execute("create extension mps_ext")
            conn.execute("select public.create_merchant('R1', 'Recreated')")
            conn.execute("drop extension mps_ext cascade")  # no member, card or movement: no question
            assert conn.execute("select to_regclass('public.merchants') as t").fetchone()["t"] is None
            conn.execute("create extension mps_ext")
            assert conn.execute("select count(*) as n from public.membership_levels").fetchone()["n"] == 4
    finally:
        drop_database(name)


@pytest.mark.parametrize("statement", ["drop extension mps_ext", "DROP EXTENSION IF EXISTS pgcrypto, mps_ext CASCADE",
                                       "drop schema public cascade", "drop owned by postgres"])
def test_drop_is_refused_while_money_data_exists(database, statement):
    """Issue 12.2: a plain DROP would delete every balance. Refused, with the override named;
    the override is deliberate (superuser, same session); CREATE EXTENSION works afterwards."""
    name = f"{database}_guarded"
    recreate_database(name, extension=False)
    try:
        with admin_connect(name) as conn:
            conn.autocommit = True
            conn.execute("create extension mps_ext")
            conn.execute("select public.create_member_profile('Kept', '0933000000', null)")
            with pytest.raises(psycopg.Error) as e:
                conn.execute(statement)
            assert e.value.sqlstate == "2BP01"
            assert e.value.diag.message_primary.startswith("MPS_DATA_EXISTS")
            assert "SET mps.allow_drop_with_data = on" in e.value.diag.message_hint
            assert conn.execute("select count(*) as n from public.member_profiles").fetchone()["n"] == 1
            conn.execute("set mps.allow_drop_with_data = on")
            conn.execute("drop extension mps_ext cascade")
            assert conn.execute("select to_regclass('public.member_profiles') as t").fetchone()["t"] is None
            conn.execute("create extension mps_ext")
            assert conn.execute("select count(*) as n from public.member_profiles").fetchone()["n"] == 0
    finally:
        drop_database(name)


SUPABASE_ROLES = """
do $$ begin
  if not exists (select from pg_roles where rolname = 'supabase_admin') then
    create role supabase_admin superuser createdb createrole replication bypassrls;
  end if;
  -- Supabase demotes postgres: no superuser, but BYPASSRLS
  if not exists (select from pg_roles where rolname = 'supa_postgres') then
    create role supa_postgres login nosuperuser createdb createrole bypassrls;
  end if;
end $$;
"""

SUPABASE_LIKE = """
set role supabase_admin;
create schema auth;
create table auth.users (id uuid primary key);
create function auth.uid() returns uuid language sql stable as
  $$ select (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')::uuid $$;
alter default privileges for role supabase_admin in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public grant all on functions to anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public grant all on sequences to anon, authenticated, service_role;
create extension mps_ext;
reset role;
"""


def test_supabase_like_database(database, api):
    """Supabase's shape: roles and the auth schema exist beforehand, `postgres` is not a
    superuser, the extension is created by supabase_admin, and default privileges grant
    every new public function and table to anon and authenticated."""
    name = f"{database}_supabase"
    with admin_connect("postgres") as conn:
        conn.autocommit = True
        conn.execute(SUPABASE_ROLES)
    recreate_database(name, extension=False)
    try:
        with admin_connect(name) as conn:
            conn.autocommit = True
            conn.execute(SUPABASE_LIKE)
            owner = conn.execute("select extowner::regrole::text as o from pg_extension where extname = 'mps_ext'")
            assert owner.fetchone()["o"] == "supabase_admin"
            fks = conn.execute("select distinct conname from pg_constraint"
                               " where confrelid = 'auth.users'::regclass order by conname").fetchall()
            assert [f["conname"] for f in fks] == [
                "admin_users_auth_user_id_fkey", "member_profiles_auth_user_id_fkey",
                "merchant_users_auth_user_id_fkey", "transactions_processed_by_user_id_fkey"]
            # default privileges did not survive our revokes
            leaked = conn.execute(
                "select p.proname from pg_proc p where p.pronamespace = 'public'::regnamespace"
                " and p.proname in ('create_merchant', 'create_member_profile', 'cleanup_expired_sessions',"
                "                   'verify_ledger', 'get_all_members')"
                " and has_function_privilege('anon', p.oid, 'EXECUTE')").fetchall()
            assert leaked == []
            for privilege in ["INSERT", "UPDATE", "DELETE"]:
                assert conn.execute("select has_table_privilege('anon', 'public.member_cards', %s) as p",
                                    (privilege,)).fetchone()["p"] is False
            assert conn.execute("select has_table_privilege('authenticated', 'mps_internal.merchant_passwords',"
                                " 'SELECT') as p").fetchone()["p"] is False
            sub = uuid.uuid4()
            conn.execute("insert into auth.users values (%s)", (sub,))
            conn.execute("set role supabase_admin")
            conn.execute("select public.create_member_profile('S', '0900', null, 'long-password',"
                         " 'supabase', %s)", (str(sub),))
            conn.execute("reset role")
        # the demoted postgres may call nothing until it is made an mps_admin
        with psycopg.connect(dsn(name, "supa_postgres"), autocommit=True) as demoted:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                demoted.execute("select public.get_user_role()")
        with admin_connect(name) as conn:
            conn.autocommit = True
            conn.execute("grant mps_admin to supa_postgres")
        with psycopg.connect(dsn(name, "supa_postgres"), autocommit=True) as demoted:
            assert demoted.execute("select public.get_user_role()").fetchone()[0] == "super_admin"
            assert demoted.execute("select count(*) from public.get_all_members()").fetchone()[0] == 1
        client = Api(name)
        try:
            assert client.as_user(sub).scalar("get_user_role") == "member"
            with pytest.raises(psycopg.Error) as e:  # a supabase link must name an existing auth user
                client.as_service().scalar("create_member_profile", p_name="T", p_phone="0901", p_email=None,
                                           p_binding_user_org="supabase", p_binding_org_id=str(uuid.uuid4()))
            assert e.value.diag.message_primary == "INVALID_ARGUMENT"
        finally:
            client.close()
    finally:
        drop_database(name)
        with admin_connect("postgres") as conn:
            conn.autocommit = True
            conn.execute("revoke mps_admin from supa_postgres")
