"""Accounts: creating members and merchants, passwords, audit actors."""

import uuid

import psycopg
import pytest

from conftest import make_member, phone_for
from mps import error_of

PERMISSION = "42501"
BUSINESS = "P0001"


def test_create_member_makes_a_standard_card_with_owner_binding(api, admin_sql, unique):
    m = make_member(api, unique)
    profile = admin_sql.execute("select member_no, status::text, password_hash from member_profiles"
                                " join mps_internal.member_passwords on member_id = id where id = %s",
                                (m["id"],)).fetchone()
    assert profile["member_no"].startswith("M") and profile["member_no"][1:].isdigit()
    assert len(profile["member_no"]) == 9
    assert profile["status"] == "active"
    assert profile["password_hash"].startswith("$2b$10$")  # bcrypt, default cost 10
    cards = admin_sql.execute(
        "select c.card_no, c.card_type::text, c.balance, c.points, c.level, c.discount, c.status::text,"
        "       b.role::text as binding_role"
        "  from member_cards c join card_bindings b on b.card_id = c.id and b.member_id = c.owner_member_id"
        " where c.owner_member_id = %s", (m["id"],)).fetchall()
    assert len(cards) == 1
    card = cards[0]
    assert card["card_no"].startswith("STD") and len(card["card_no"]) == 11
    assert (card["card_type"], str(card["balance"]), card["points"], card["level"], str(card["discount"]),
            card["status"], card["binding_role"]) == ("standard", "0.00", 0, 0, "1.000", "active", "owner")


def test_create_member_validation_errors(api, member, unique):
    svc = api.as_service()
    cases = [
        (dict(p_name="X", p_phone=member["phone"], p_email=f"n{unique}@x.com"), "DUPLICATE_PHONE"),
        (dict(p_name="X", p_phone=phone_for(unique, "07"), p_email=f"{unique}@example.com"), "DUPLICATE_EMAIL"),
        (dict(p_name="X", p_phone=phone_for(unique, "06"), p_email=None, p_password="short"), "PASSWORD_TOO_SHORT"),
        (dict(p_name="X", p_phone=phone_for(unique, "05"), p_email=None, p_password="x" * 73), "PASSWORD_TOO_LONG"),
        (dict(p_name="  ", p_phone=phone_for(unique, "04"), p_email=None), "INVALID_ARGUMENT"),
        (dict(p_name=None, p_phone=phone_for(unique, "03"), p_email=None), "INVALID_ARGUMENT"),
        (dict(p_name="X", p_phone=phone_for(unique, "02"), p_email=None, p_binding_user_org="supabase",
              p_binding_org_id="not-a-uuid"), "INVALID_ARGUMENT"),
    ]
    for args, token in cases:
        with pytest.raises(psycopg.Error) as e:
            svc.scalar("create_member_profile", **args)
        assert error_of(e) == (BUSINESS, token), args
        assert e.value.diag.message_detail, "every error says what was wrong"


def test_external_identity_is_unique_and_rolls_back_the_whole_creation(api, admin_sql, unique):
    svc = api.as_service()
    svc.scalar("create_member_profile", p_name="A", p_phone=phone_for(unique, "01"), p_email=None,
               p_binding_user_org="line", p_binding_org_id=f"U{unique}")
    before = admin_sql.execute("select count(*) as n from member_profiles").fetchone()["n"]
    with pytest.raises(psycopg.Error) as e:
        svc.scalar("create_member_profile", p_name="B", p_phone=phone_for(unique, "00"), p_email=None,
                   p_binding_user_org="line", p_binding_org_id=f"U{unique}")
    assert error_of(e) == (BUSINESS, "EXTERNAL_ID_ALREADY_BOUND")
    assert admin_sql.execute("select count(*) as n from member_profiles").fetchone()["n"] == before
    ident = admin_sql.execute("select provider, external_id from member_external_identities where external_id = %s",
                              (f"U{unique}",)).fetchall()
    assert ident == [{"provider": "line", "external_id": f"U{unique}"}]


def test_only_super_admin_creates_accounts(api, member, unique):
    sid = api.as_anon().scalar("member_login", p_identifier=member["phone"], p_password=member["password"])["session_id"]
    for fn, args in [("create_member_profile", dict(p_name="X", p_phone=phone_for(unique, "08"), p_email=None)),
                     ("create_merchant", dict(p_code=f"Z{unique}", p_name="Z"))]:
        with pytest.raises(psycopg.Error) as e:
            api.as_claims({"role": "authenticated"}).scalar(fn, p_session_id=sid, **args)
        assert error_of(e) == (PERMISSION, "PERMISSION_DENIED: Required super_admin, but user is member"), fn


def test_create_merchant_duplicate_code_and_short_password(api, merchant):
    svc = api.as_service()
    with pytest.raises(psycopg.Error) as e:
        svc.scalar("create_merchant", p_code=merchant["code"], p_name="Again")
    assert error_of(e) == (BUSINESS, "DUPLICATE_MERCHANT_CODE")
    with pytest.raises(psycopg.Error) as e:
        svc.scalar("create_merchant", p_code=merchant["code"] + "x", p_name="Again", p_password="1234567")
    assert error_of(e) == (BUSINESS, "PASSWORD_TOO_SHORT")


def test_set_member_password_self_admin_and_others(api, member, unique, admin_sql):
    anon = api.as_anon()
    other = make_member(api, unique[::-1])
    sid = anon.scalar("member_login", p_identifier=member["phone"], p_password=member["password"])["session_id"]
    sid_elsewhere = anon.scalar("member_login", p_identifier=member["phone"], p_password=member["password"])["session_id"]

    with pytest.raises(psycopg.Error) as e:
        anon.scalar("set_member_password", p_member_id=member["id"], p_password="new-password-1")
    assert error_of(e) == (PERMISSION, "NOT_AUTHENTICATED")
    with pytest.raises(psycopg.Error) as e:
        anon.scalar("set_member_password", p_member_id=other["id"], p_password="new-password-1", p_session_id=sid)
    assert error_of(e)[0] == PERMISSION and error_of(e)[1].startswith("PERMISSION_DENIED")
    with pytest.raises(psycopg.Error) as e:
        anon.scalar("set_member_password", p_member_id=member["id"], p_password="short", p_session_id=sid,
                    p_current_password=member["password"])
    assert error_of(e) == (BUSINESS, "PASSWORD_TOO_SHORT")

    assert anon.scalar("set_member_password", p_member_id=member["id"], p_password="new-password-1",
                       p_session_id=sid, p_current_password=member["password"]) is True
    # the session that changed it lives on; the member's other sessions end
    assert anon.scalar("get_user_role", p_session_id=sid) == "member"
    with pytest.raises(psycopg.Error) as e:
        anon.scalar("get_user_role", p_session_id=sid_elsewhere)
    assert error_of(e) == (PERMISSION, "SESSION_INVALID")
    with pytest.raises(psycopg.Error):
        anon.scalar("member_login", p_identifier=member["phone"], p_password=member["password"])
    assert anon.scalar("member_login", p_identifier=member["phone"], p_password="new-password-1")["success"]

    with pytest.raises(psycopg.Error) as e:
        api.as_service().scalar("set_member_password", p_member_id=uuid.uuid4(), p_password="new-password-2")
    assert error_of(e) == (BUSINESS, "MEMBER_NOT_FOUND")
    actor = admin_sql.execute(
        "select actor_user_id, actor_role from audit.event_log where action = 'PASSWORD_CHANGED'"
        " and object_id = %s", (member["id"],)).fetchone()
    assert actor == {"actor_user_id": member["id"], "actor_role": "member"}


def test_set_merchant_password_by_admin(api, merchant):
    login = api.as_anon().scalar("merchant_login", p_merchant_code=merchant["code"], p_password=merchant["password"])
    with pytest.raises(psycopg.Error) as e:
        api.as_anon().scalar("set_merchant_password", p_merchant_id=merchant["id"], p_password="new-password-9")
    assert e.value.sqlstate == PERMISSION
    assert api.as_service().scalar("set_merchant_password", p_merchant_id=merchant["id"],
                                   p_password="new-password-9") is True
    with pytest.raises(psycopg.Error) as e:  # the admin reset ended the merchant's sessions
        api.as_anon().scalar("get_user_role", p_session_id=login["session_id"])
    assert error_of(e) == (PERMISSION, "SESSION_INVALID")
    with pytest.raises(psycopg.Error) as e:
        api.as_service().scalar("set_merchant_password", p_merchant_id=uuid.uuid4(), p_password="new-password-9")
    assert error_of(e) == (BUSINESS, "MERCHANT_NOT_FOUND")


def test_audit_records_the_real_actor(api, admin_sql, unique, member):
    # a JWT admin (admin_users row) creating a merchant is recorded as that JWT user
    admin_user = uuid.uuid4()
    admin_sql.execute("insert into admin_users (auth_user_id, name) values (%s, 'Root')", (admin_user,))
    merchant_id = api.as_user(admin_user).scalar("create_merchant", p_code=f"AU{unique}", p_name="Audited")
    row = admin_sql.execute("select actor_user_id, actor_role, context from audit.event_log"
                            " where action = 'CREATE_MERCHANT' and object_id = %s", (merchant_id,)).fetchone()
    assert row == {"actor_user_id": admin_user, "actor_role": "super_admin",
                   "context": {"code": f"AU{unique}", "name": "Audited"}}
    # a custom-session member is recorded as that member (the original wrote NULL:
    # docs/contract.md W16)
    api.as_anon().scalar("member_login", p_identifier=member["phone"], p_password=member["password"])
    row = admin_sql.execute("select actor_user_id, actor_role from audit.event_log"
                            " where action = 'LOGIN_SUCCESS' and object_id = %s", (member["id"],)).fetchone()
    assert row == {"actor_user_id": member["id"], "actor_role": "member"}


def test_user_profiles_per_role(api, admin_sql, unique, merchant):
    # super admin via JWT
    admin_user = uuid.uuid4()
    admin_sql.execute("insert into admin_users (auth_user_id, name, permissions) values (%s, 'Ada', '[\"all\"]')",
                      (admin_user,))
    p = api.as_user(admin_user).scalar("get_user_profile")
    assert (p["role"], p["name"], p["permissions"], p["is_super_admin"]) == ("super_admin", "Ada", ["all"], True)
    assert api.as_user(admin_user).scalar("get_user_role") == "super_admin"
    assert api.as_user(admin_user).scalar("is_admin") is True
    # merchant staff via JWT (merchant_users)
    staff = uuid.uuid4()
    admin_sql.execute("insert into merchant_users (merchant_id, auth_user_id, role) values (%s, %s, 'staff')",
                      (merchant["id"], staff))
    p = api.as_user(staff).scalar("get_user_profile")
    assert (p["role"], p["merchant_id"], p["merchant_code"], p["user_role"]) == \
        ("merchant", str(merchant["id"]), merchant["code"], "staff")
    # member linked to a Supabase user at creation
    sub = uuid.uuid4()
    m = make_member(api, unique, p_binding_user_org="supabase", p_binding_org_id=str(sub))
    p = api.as_user(sub).scalar("get_user_profile")
    assert (p["role"], p["member_id"]) == ("member", str(m["id"]))
    # an unknown JWT user is nobody
    assert api.as_user(uuid.uuid4()).scalar("get_user_profile") is None
    assert api.as_user(uuid.uuid4()).scalar("get_user_role") is None


def test_test_connection_shows_counts_to_admins_only(api):
    anon = api.as_anon().scalar("test_connection")
    assert anon["status"] == "success" and "timestamp" in anon and "stats" not in anon
    admin = api.as_service().scalar("test_connection")
    assert admin["status"] == "success"
    assert set(admin["stats"]) == {"members", "cards", "merchants"}


def test_timestamps_are_utc_correct_in_any_timezone(api, admin_sql, unique):
    admin_sql.execute("set timezone = 'Asia/Taipei'")
    m = make_member(api, unique)
    drift = admin_sql.execute("select abs(extract(epoch from now() - created_at)) as s from member_profiles"
                              " where id = %s", (m["id"],)).fetchone()["s"]
    assert drift < 60
