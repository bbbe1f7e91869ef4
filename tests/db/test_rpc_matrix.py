"""One policy (issue 13): the RPC manifest (src/rpc/manifest.tsv) says who may call what.
Every public function is called as each of the nine kinds of caller, with valid arguments
naming one member M's objects at one merchant S, and the callers let through must be exactly
the manifest's `allowed`. The manifest also lists exactly the installed public functions,
and README's table is the one scripts/rpc_matrix.py generates from it."""

import sys
import uuid
from pathlib import Path

import psycopg
import pytest

from conftest import Shop, login_member, login_merchant, make_member
from mps import Api, Request, admin_connect
from rpc_calls import RPCS, Caller, Objects

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import rpc_matrix  # noqa: E402

MANIFEST = {row["function"]: row for row in rpc_matrix.manifest()}
CALLER_KINDS = list(rpc_matrix.CALLER_KINDS)

# How a refusal looks. Permission errors are SQLSTATE 42501: PostgreSQL's "permission denied
# for function" (no EXECUTE grant), NOT_AUTHENTICATED, PERMISSION_DENIED…,
# NOT_AUTHORIZED_FOR_THIS_MERCHANT. A signed-in caller asking for an object it may not see gets
# the answer for a missing one (README, "What errors reveal"); the calls name objects that
# exist, so these tokens are refusals too. `get_member_by_auth_user` / `get_merchant_by_auth_user`
# answer MEMBER_NOT_FOUND / MERCHANT_NOT_FOUND to a caller who is no member / merchant.
PERMISSION = "42501"
PERMISSION_TOKENS = {"NOT_AUTHENTICATED", "PERMISSION_DENIED", "NOT_AUTHORIZED_FOR_THIS_MERCHANT"}
REFUSED_AS_MISSING = {"CARD_NOT_FOUND", "CARD_NOT_FOUND_OR_INACTIVE", "TX_NOT_FOUND", "SETTLEMENT_NOT_FOUND",
                      "MEMBER_NOT_FOUND", "MERCHANT_NOT_FOUND"}


def token(message: str) -> str:
    return message.split(":")[0]


def outcome(caller: Caller, rpc, objects: Objects) -> str:
    """The call's answer, in a transaction rolled back afterwards: "ok", or the error's token
    (PostgreSQL's own permission error as "permission denied")."""
    args = rpc.args(objects)  # committed first: a fresh QR code is rotated on the fixture's connection
    conn = caller.client.api.conn
    try:
        with conn.transaction(force_rollback=True):
            caller.call(rpc, args)
        return "ok"
    except psycopg.Error as e:
        message = e.diag.message_primary or ""
        if message.startswith("permission denied for function"):
            return "permission denied"
        assert e.sqlstate in (PERMISSION, "P0001"), (rpc.name, e.sqlstate, message)
        assert token(message) != "SESSION_INVALID", "the callers' sessions are live"
        return token(message)


def refused(answer: str) -> bool:
    return answer == "permission denied" or answer in PERMISSION_TOKENS or answer in REFUSED_AS_MISSING


# Callers let through whose valid call still meets a business rule, by function: the test
# database has no pg_cron and no test clean-up, and the corporate card is not frozen.
BUSINESS_ANSWERS = {
    "schedule_maintenance": "PG_CRON_NOT_INSTALLED",
    "delete_test_member": "TEST_CLEANUP_DISABLED",
    "delete_test_merchant": "TEST_CLEANUP_DISABLED",
    "unfreeze_card": "CARD_NOT_FROZEN",
}


@pytest.fixture(scope="module")
def callers(database):
    """M's objects and the nine callers: M's and another member's sessions, S's and another
    merchant's sessions, M's JWT (auth_user_id), a JWT of S's staff (merchant_users),
    service_role, the anon key alone, and a psql superuser without claims."""
    api, superuser = Api(database), Api(database, user="postgres")
    member, other_member = (make_member(api, uuid.uuid4().hex[:10]) for _ in range(2))
    merchant, other_merchant = ({"code": f"MX{uuid.uuid4().hex[:10]}", "password": "merchant-pass-1"}
                                for _ in range(2))
    for m in (merchant, other_merchant):
        m["id"] = api.as_service().scalar("create_merchant", p_code=m["code"], p_name=f"Shop {m['code']}",
                                          p_password=m["password"])
    objects = Objects(api, Shop(api, member, merchant), uuid.uuid4().hex[:10])
    member_sub, staff_sub = uuid.uuid4(), uuid.uuid4()
    with admin_connect(database) as conn:
        conn.execute("update member_profiles set auth_user_id = %s where id = %s", (member_sub, member["id"]))
        conn.execute("insert into merchant_users (merchant_id, auth_user_id, role) values (%s, %s, 'staff')",
                     (merchant["id"], staff_sub))
    sessions = {"member": login_member(api, member), "other_member": login_member(api, other_member),
                "merchant": login_merchant(api, merchant), "other_merchant": login_merchant(api, other_merchant)}
    kinds = {
        "anon": Caller(api.as_anon()),
        **{kind: Caller(api.as_anon(), lambda s=s: s) for kind, s in sessions.items()},
        "jwt_member": Caller(api.as_user(member_sub)),
        "jwt_staff": Caller(api.as_user(staff_sub)),
        "service_role": Caller(api.as_service()),
        "superuser": Caller(Request(superuser, None)),
    }
    yield objects, kinds
    api.close()
    superuser.close()


@pytest.mark.parametrize("rpc", RPCS, ids=[rpc.name for rpc in RPCS])
def test_callers_let_through_are_the_manifests(callers, rpc):
    objects, kinds = callers
    answers = {kind: outcome(kinds[kind], rpc, objects) for kind in CALLER_KINDS}
    let_through = [kind for kind in CALLER_KINDS if not refused(answers[kind])]
    assert let_through == MANIFEST[rpc.name]["allowed"], answers
    expected = BUSINESS_ANSWERS.get(rpc.name, "ok")
    assert {kind: answers[kind] for kind in let_through} == {kind: expected for kind in let_through}, answers


def test_every_manifest_function_has_a_valid_call():
    assert [rpc.name for rpc in RPCS if rpc.name in MANIFEST] == [rpc.name for rpc in RPCS]
    assert {rpc.name for rpc in RPCS} == set(MANIFEST)


def test_manifest_lists_exactly_the_installed_public_functions(admin_sql):
    admin_sql.execute("set search_path = public")
    installed = admin_sql.execute(
        "select p.proname as function,"
        "       array_to_string(array(select format_type(t, null) from unnest(p.proargtypes) t), ', ') as arguments"
        "  from pg_proc p join pg_depend d on d.objid = p.oid and d.classid = 'pg_proc'::regclass and d.deptype = 'e'"
        " where d.refobjid = (select oid from pg_extension where extname = 'mps_ext')"
        "   and p.pronamespace = 'public'::regnamespace").fetchall()
    assert sorted((r["function"], r["arguments"]) for r in installed) == \
        sorted((m["function"], m["arguments"]) for m in MANIFEST.values())


def test_rpc_manifest_serves_the_manifest_file(admin_sql):
    served = admin_sql.execute('select function, arguments, "grant", allowed from mps_internal.rpc_manifest()')
    assert served.fetchall() == list(MANIFEST.values())


def test_readme_table_is_generated_from_the_manifest():
    readme = (ROOT / "README.md").read_text()
    assert rpc_matrix.block(readme) == rpc_matrix.table(rpc_matrix.manifest()), \
        "run python3 scripts/rpc_matrix.py --write"


def grants_block() -> str:
    """sql/90_grants.sql's DO block that grants EXECUTE from the manifest."""
    text = (ROOT / "sql" / "90_grants.sql").read_text()
    start = text.index("DO $rpc_grants$")
    return text[start:text.index("$rpc_grants$;", start) + len("$rpc_grants$;")]


def run_grants_with(admin_sql, doctored: str) -> None:
    """The grants block of sql/90_grants.sql with `doctored` (a query) as the manifest."""
    admin_sql.execute("create function pg_temp.doctored_manifest()"
                      ' returns table (function text, arguments text, "grant" text, allowed text[])'
                      f" language sql as $$ {doctored} $$")
    admin_sql.execute(grants_block().replace("mps_internal.rpc_manifest()", "pg_temp.doctored_manifest()"))


@pytest.mark.parametrize("doctored, error", [
    ("select * from mps_internal.rpc_manifest() where function <> 'verify_ledger'",
     "public functions missing from the rpc manifest: verify_ledger(text)"),
    ("select function, case function when 'is_admin' then 'uuid' else arguments end, \"grant\", allowed"
     "  from mps_internal.rpc_manifest()",
     "public functions missing from the rpc manifest: is_admin(text)"),
], ids=["function-missing", "wrong-arguments"])
def test_the_grants_refuse_a_manifest_that_differs_from_the_functions(admin_sql, doctored, error):
    with pytest.raises(psycopg.errors.RaiseException) as e, admin_sql.transaction(force_rollback=True):
        run_grants_with(admin_sql, doctored)
    assert e.value.diag.message_primary == error


def test_the_grants_skip_a_manifest_row_a_later_version_adds(admin_sql):
    """The manifest is the library's: installing an earlier version's script (or an upgrade
    step) with a newer library meets rows for functions a later script creates. They are
    skipped; tests/pgtap/01_catalog.sql checks that a current install grants every row."""
    with admin_sql.transaction(force_rollback=True):
        run_grants_with(admin_sql, "select * from mps_internal.rpc_manifest()"
                                   " union all select 'no_such_rpc', 'text', 'anon', '{}'")
        assert admin_sql.execute("select has_function_privilege('anon', 'public.member_login(text, text, text)',"
                                 " 'EXECUTE') as granted").fetchone()["granted"] is True
