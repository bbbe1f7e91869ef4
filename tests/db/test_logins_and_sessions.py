"""Logins, sessions, lockout and identity isolation, through the PostgREST call path."""

import psycopg
import pytest

from conftest import make_member
from mps import error_of

PERMISSION = "42501"
BUSINESS = "P0001"


def test_member_login_by_phone_and_by_member_no(api, member, admin_sql):
    anon = api.as_anon()
    by_phone = anon.scalar("member_login", p_identifier=member["phone"], p_password=member["password"])
    assert by_phone["success"] is True
    assert by_phone["role"] == "member"
    assert by_phone["member_id"] == str(member["id"])
    assert by_phone["phone"] == member["phone"]
    assert by_phone["member_no"].startswith("M") and len(by_phone["member_no"]) == 9
    assert len(by_phone["session_id"]) == 44 and by_phone["session_id"].endswith("=")
    by_no = anon.scalar("member_login", p_identifier=by_phone["member_no"], p_password=member["password"])
    assert by_no["member_id"] == str(member["id"])
    assert by_no["session_id"] != by_phone["session_id"]
    # 24 h lifetime, and only a SHA-256 digest of the id is stored.
    rows = admin_sql.execute(
        "select session_id, extract(epoch from expires_at - created_at)::int as ttl from app_sessions"
        " where member_id = %s", (member["id"],)).fetchall()
    assert len(rows) == 2
    assert all(r["ttl"] == 86400 for r in rows)
    assert all(len(r["session_id"]) == 64 for r in rows)
    assert by_phone["session_id"] not in {r["session_id"] for r in rows}


def test_merchant_login_session_carries_the_merchant(api, merchant):
    login = api.as_anon().scalar("merchant_login", p_merchant_code=merchant["code"], p_password=merchant["password"])
    assert login["success"] is True and login["role"] == "merchant"
    assert login["merchant_id"] == str(merchant["id"])
    assert login["merchant_code"] == merchant["code"]
    profile = api.as_anon().scalar("get_user_profile", p_session_id=login["session_id"])
    assert profile["role"] == "merchant"
    assert profile["merchant_id"] == str(merchant["id"])
    assert profile["user_role"] == "owner"


@pytest.mark.parametrize("identifier_key,password", [
    ("phone", "wrong-password"),   # wrong password
    ("unknown", "member-pass-1"),  # unknown account
])
def test_login_failures_do_not_reveal_accounts(api, member, identifier_key, password):
    identifier = member["phone"] if identifier_key == "phone" else "0000000000"
    with pytest.raises(psycopg.Error) as e:
        api.as_anon().scalar("member_login", p_identifier=identifier, p_password=password)
    assert error_of(e) == (BUSINESS, "INVALID_PASSWORD")


def test_account_without_password_is_invalid_password(api, unique):
    m = make_member(api, unique, password=None)
    with pytest.raises(psycopg.Error) as e:
        api.as_anon().scalar("member_login", p_identifier=m["phone"], p_password="anything-at-all")
    assert error_of(e) == (BUSINESS, "INVALID_PASSWORD")


def test_merchant_wrong_password_and_unknown_code(api, merchant):
    for code, pw in [(merchant["code"], "nope-nope-nope"), ("NO-SUCH-CODE", merchant["password"])]:
        with pytest.raises(psycopg.Error) as e:
            api.as_anon().scalar("merchant_login", p_merchant_code=code, p_password=pw)
        assert error_of(e) == (BUSINESS, "INVALID_PASSWORD")


def test_suspended_member_cannot_log_in_and_loses_sessions(api, member, admin_sql):
    sid = api.as_anon().scalar("member_login", p_identifier=member["phone"], p_password=member["password"])["session_id"]
    admin_sql.execute("update member_profiles set status = 'suspended' where id = %s", (member["id"],))
    with pytest.raises(psycopg.Error) as e:
        api.as_anon().scalar("member_login", p_identifier=member["phone"], p_password=member["password"])
    assert error_of(e) == (BUSINESS, "INVALID_PASSWORD")
    with pytest.raises(psycopg.Error) as e:
        api.as_anon().scalar("get_user_role", p_session_id=sid)
    assert error_of(e) == (PERMISSION, "SESSION_INVALID")


def test_session_use_expiry_logout_and_garbage(api, member, admin_sql):
    anon = api.as_anon()
    sid = anon.scalar("member_login", p_identifier=member["phone"], p_password=member["password"])["session_id"]
    assert anon.scalar("get_user_role", p_session_id=sid) == "member"
    assert anon.scalar("load_session", p_session_id=sid) is True
    profile = anon.scalar("get_user_profile", p_session_id=sid)
    assert profile["role"] == "member" and profile["member_id"] == str(member["id"])

    assert anon.scalar("logout_session", p_session_id=sid) is True
    assert anon.scalar("logout_session", p_session_id=sid) is False
    assert anon.scalar("load_session", p_session_id=sid) is False
    with pytest.raises(psycopg.Error) as e:
        anon.scalar("get_user_role", p_session_id=sid)
    assert error_of(e) == (PERMISSION, "SESSION_INVALID")

    sid2 = anon.scalar("member_login", p_identifier=member["phone"], p_password=member["password"])["session_id"]
    admin_sql.execute("update app_sessions set expires_at = now() - interval '1 second' where member_id = %s",
                      (member["id"],))
    for bad in [sid2, "A" * 44, "not-a-session", "x" * 1000]:
        with pytest.raises(psycopg.Error) as e:
            anon.scalar("get_user_role", p_session_id=bad)
        assert error_of(e) == (PERMISSION, "SESSION_INVALID"), bad
    assert anon.scalar("load_session", p_session_id=sid2) is False


def test_cleanup_expired_sessions_is_admin_only(api, member, admin_sql):
    anon = api.as_anon()
    anon.scalar("member_login", p_identifier=member["phone"], p_password=member["password"])
    admin_sql.execute("update app_sessions set expires_at = now() - interval '1 hour' where member_id = %s",
                      (member["id"],))
    with pytest.raises(psycopg.Error) as e:
        anon.scalar("cleanup_expired_sessions")
    assert e.value.sqlstate == PERMISSION
    with pytest.raises(psycopg.Error) as e:
        api.as_claims({"role": "authenticated"}).scalar("cleanup_expired_sessions")
    assert error_of(e) == (PERMISSION, "NOT_AUTHENTICATED")
    assert api.as_service().scalar("cleanup_expired_sessions") >= 1
    assert admin_sql.execute("select count(*) as n from app_sessions where member_id = %s",
                             (member["id"],)).fetchone()["n"] == 0


def test_no_identity_carries_over_between_calls_on_one_connection(api, member):
    anon = api.as_anon()
    sid = anon.scalar("member_login", p_identifier=member["phone"], p_password=member["password"])["session_id"]
    assert anon.scalar("get_user_role", p_session_id=sid) == "member"
    assert anon.scalar("get_user_role") is None
    assert anon.scalar("get_user_profile") is None
    assert anon.scalar("is_admin") is False
    # a super admin's call after a member's call on the same connection is a super admin
    assert api.as_service().scalar("get_user_role") == "super_admin"
    assert anon.scalar("get_user_role") is None
    # nothing lingers in session-level settings either
    rows = api.conn.execute("select current_setting('app.user_role', true) as r").fetchall()
    assert rows[0]["r"] in (None, "")
    api.conn.rollback()


def test_client_settable_gucs_grant_nothing(api, merchant):
    conn = api.conn
    # the original's attack: a session-level GUC claiming super_admin
    conn.execute("select set_config('app.user_role', 'super_admin', false),"
                 " set_config('app.user_id', gen_random_uuid()::text, false),"
                 " set_config('app.merchant_id', %s, false)", (str(merchant["id"]),))
    conn.commit()
    anon = api.as_anon()
    assert anon.scalar("get_user_role") is None
    with pytest.raises(psycopg.Error) as e:
        anon.scalar("check_permission", required_role="super_admin")
    assert error_of(e) == (PERMISSION, "NOT_AUTHENTICATED")
    authenticated_without_user = api.as_claims({"role": "authenticated"})
    with pytest.raises(psycopg.Error) as e:
        authenticated_without_user.scalar("create_merchant", p_code="EVIL1", p_name="Evil")
    assert error_of(e) == (PERMISSION, "NOT_AUTHENTICATED")
    # anon cannot even call an admin-only RPC
    with pytest.raises(psycopg.Error) as e:
        anon.scalar("create_merchant", p_code="EVIL2", p_name="Evil")
    assert e.value.sqlstate == PERMISSION and "permission denied for function" in e.value.diag.message_primary
    # claims that do not match the role the connection runs as are ignored
    assert api.as_claims({"role": "anon", "sub": str(merchant["id"])}).scalar("get_user_role") is None
    with api.conn.transaction():
        api.conn.execute("select set_config('role', 'anon', true),"
                         " set_config('request.jwt.claims', '{\"role\":\"service_role\"}', true)")
        assert api.conn.execute("select public.get_user_role() as r").fetchone()["r"] is None


def test_check_permission_messages(api, member):
    sid = api.as_anon().scalar("member_login", p_identifier=member["phone"], p_password=member["password"])["session_id"]
    api.as_anon().scalar("check_permission", required_role="member", p_session_id=sid)
    with pytest.raises(psycopg.Error) as e:
        api.as_anon().scalar("check_permission", required_role="super_admin", p_session_id=sid)
    assert error_of(e) == (PERMISSION, "PERMISSION_DENIED: Required super_admin, but user is member")
    api.as_service().scalar("check_permission", required_role="merchant")
