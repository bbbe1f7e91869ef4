"""Issue 11, accounts and oracles: one test per attack. A stolen session cannot change the
password, phone or email without the current password; suspension ends sessions; errors
tell a caller nothing about objects or people they may not see; phone and email cannot
point at someone else."""

import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import psycopg
import pytest

from conftest import login_member, login_merchant, make_member, phone_for
from mps import admin_connect, fails

PERMISSION = "42501"
BUSINESS = "P0001"
WRONG_PASSWORD = "unknown account or wrong password"
NEEDS_CURRENT = "p_current_password is required to change your own credentials"


def answer(call, *args, **kwargs):
    """(SQLSTATE, message, DETAIL) of a refused call."""
    with pytest.raises(psycopg.Error) as e:
        call(*args, **kwargs)
    return e.value.sqlstate, e.value.diag.message_primary, e.value.diag.message_detail


def answer_about(value, call, *args, **kwargs):
    """The refusal with the caller's own `value` (an id they passed) blanked out of the
    DETAIL, so the answers for two different ids can be compared."""
    state, message, detail = answer(call, *args, **kwargs)
    return state, message, (detail or "").replace(str(value), "<id>")


# ---------------------------------------------------------------- 5. stolen sessions

def test_stolen_member_session_cannot_change_the_password(api, member):
    anon, sid = api.as_anon(), login_member(api, member)
    change = dict(p_member_id=member["id"], p_password="attacker-pass-1", p_session_id=sid)
    assert answer(anon.scalar, "set_member_password", **change) == \
        (BUSINESS, "CURRENT_PASSWORD_REQUIRED", NEEDS_CURRENT)
    assert answer(anon.scalar, "set_member_password", **change, p_current_password="") == \
        (BUSINESS, "CURRENT_PASSWORD_REQUIRED", NEEDS_CURRENT)
    assert answer(anon.scalar, "set_member_password", **change, p_current_password="a-guess-123") == \
        (BUSINESS, "INVALID_PASSWORD", WRONG_PASSWORD)
    # nothing changed: the owner's password still logs in, the attacker's does not
    assert fails(anon.scalar, "member_login", p_identifier=member["phone"], p_password="attacker-pass-1") == \
        (BUSINESS, "INVALID_PASSWORD")
    assert anon.scalar("set_member_password", **change, p_current_password=member["password"]) is True
    assert anon.scalar("member_login", p_identifier=member["phone"], p_password="attacker-pass-1")["success"]


def test_wrong_current_passwords_count_toward_the_lockout(api, member):
    anon, sid = api.as_anon(), login_member(api, member)
    change = dict(p_member_id=member["id"], p_password="attacker-pass-1", p_session_id=sid)
    for attempt in range(5):
        assert answer(anon.scalar, "set_member_password", **change, p_current_password=f"guess-{attempt}")[:2] == \
            (BUSINESS, "INVALID_PASSWORD"), attempt
    # locked: even the right password is refused, here and at the login
    assert answer(anon.scalar, "set_member_password", **change, p_current_password=member["password"])[:2] == \
        (BUSINESS, "ACCOUNT_LOCKED")
    assert fails(anon.scalar, "member_login", p_identifier=member["phone"], p_password=member["password"]) == \
        (BUSINESS, "ACCOUNT_LOCKED")
    assert fails(anon.scalar, "update_member_profile", p_member_id=member["id"], p_email="thief@example.com",
                 p_session_id=sid, p_current_password=member["password"]) == (BUSINESS, "ACCOUNT_LOCKED")


def test_phone_and_email_changes_need_the_current_password(api, member, unique):
    anon, sid = api.as_anon(), login_member(api, member)
    new_phone = phone_for(unique, "08")
    for change in [dict(p_phone=new_phone), dict(p_email=f"thief-{unique}@example.com"),
                   dict(p_name="Renamed", p_email=f"thief-{unique}@example.com")]:
        assert answer(anon.scalar, "update_member_profile", p_member_id=member["id"], p_session_id=sid,
                      **change) == (BUSINESS, "CURRENT_PASSWORD_REQUIRED", NEEDS_CURRENT), change
        assert answer(anon.scalar, "update_member_profile", p_member_id=member["id"], p_session_id=sid,
                      p_current_password="not-it-123", **change) == (BUSINESS, "INVALID_PASSWORD", WRONG_PASSWORD)
    profile = api.as_service().rows("get_member_detail", p_member_id=member["id"])[0]
    assert (profile["phone"], profile["email"]) == (member["phone"], f"{unique}@example.com")
    # the name alone is not a credential
    assert anon.scalar("update_member_profile", p_member_id=member["id"], p_name="Renamed", p_session_id=sid) is True
    assert anon.scalar("update_member_profile", p_member_id=member["id"], p_phone=new_phone, p_session_id=sid,
                       p_current_password=member["password"]) is True
    assert anon.scalar("member_login", p_identifier=new_phone, p_password=member["password"])["success"]


def test_super_admins_need_no_current_password(api, member, merchant, unique):
    svc = api.as_service()
    assert svc.scalar("set_member_password", p_member_id=member["id"], p_password="reset-by-admin") is True
    assert svc.scalar("update_member_profile", p_member_id=member["id"], p_phone=phone_for(unique, "07"),
                      p_email=f"admin-set-{unique}@example.com") is True
    assert svc.scalar("set_merchant_password", p_merchant_id=merchant["id"], p_password="reset-by-admin") is True
    assert api.as_anon().scalar("member_login", p_identifier=phone_for(unique, "07"),
                                p_password="reset-by-admin")["success"]


def test_merchant_changes_its_own_password_only_with_the_current_one(api, merchant, member, unique):
    anon = api.as_anon()
    sid, other_sid = login_merchant(api, merchant), login_merchant(api, merchant)
    change = dict(p_merchant_id=merchant["id"], p_password="new-shop-pass", p_session_id=sid)
    assert answer(anon.scalar, "set_merchant_password", **change) == \
        (BUSINESS, "CURRENT_PASSWORD_REQUIRED", NEEDS_CURRENT)
    assert answer(anon.scalar, "set_merchant_password", **change, p_current_password="wrong-pass") == \
        (BUSINESS, "INVALID_PASSWORD", WRONG_PASSWORD)
    rival = api.as_service().scalar("create_merchant", p_code=f"RV{unique}", p_name="Rival", p_password="rival-pass")
    assert answer(anon.scalar, "set_merchant_password", p_merchant_id=rival, p_password="new-shop-pass",
                  p_session_id=sid, p_current_password=merchant["password"]) == \
        (PERMISSION, "NOT_AUTHORIZED_FOR_THIS_MERCHANT", f"the caller may not act for merchant {rival}")
    assert answer(anon.scalar, "set_merchant_password", p_merchant_id=merchant["id"], p_password="new-shop-pass",
                  p_session_id=login_member(api, member), p_current_password=merchant["password"])[:2] == \
        (PERMISSION, "NOT_AUTHORIZED_FOR_THIS_MERCHANT")
    assert anon.scalar("set_merchant_password", **change, p_current_password=merchant["password"]) is True
    assert anon.scalar("get_user_role", p_session_id=sid) == "merchant"  # the changing session lives on
    assert fails(anon.scalar, "get_user_role", p_session_id=other_sid) == (PERMISSION, "SESSION_INVALID")
    assert anon.scalar("merchant_login", p_merchant_code=merchant["code"], p_password="new-shop-pass")["success"]


# ---------------------------------------------------------------- 6. suspension

@pytest.mark.parametrize("how", ["admin_suspend_member", "toggle_member_status_by_identifier"])
def test_suspending_a_member_ends_every_session_for_good(api, admin_sql, member, how):
    svc, anon = api.as_service(), api.as_anon()
    sessions = [login_member(api, member), login_member(api, member)]
    if how == "admin_suspend_member":
        assert svc.scalar("admin_suspend_member", p_member_id=member["id"]) is True
    else:
        assert svc.scalar("toggle_member_status_by_identifier", p_identifier=member["phone"],
                          p_new_status="inactive") is True
    assert admin_sql.execute("select count(*) as n from app_sessions where user_id = %s",
                             (member["id"],)).fetchone()["n"] == 0
    assert svc.scalar("admin_activate_member", p_member_id=member["id"]) is True
    for sid in sessions:
        assert answer(anon.scalar, "get_user_role", p_session_id=sid) == \
            (PERMISSION, "SESSION_INVALID", "p_session_id does not name a live session")
    assert anon.scalar("get_user_role", p_session_id=login_member(api, member)) == "member"


def test_suspending_a_merchant_ends_every_session_for_good(api, admin_sql, merchant):
    svc, anon = api.as_service(), api.as_anon()
    sid = login_merchant(api, merchant)
    assert svc.scalar("admin_suspend_merchant", p_merchant_id=merchant["id"]) is True
    assert admin_sql.execute("select count(*) as n from app_sessions where user_id = %s",
                             (merchant["id"],)).fetchone()["n"] == 0
    assert svc.scalar("admin_activate_merchant", p_merchant_id=merchant["id"]) is True
    assert answer(anon.scalar, "get_user_role", p_session_id=sid) == \
        (PERMISSION, "SESSION_INVALID", "p_session_id does not name a live session")


# ---------------------------------------------------------------- 8. oracles in errors

def test_duplicate_errors_do_not_echo_the_other_members_value(api, member, unique):
    svc = api.as_service()
    other = make_member(api, unique[::-1])
    other_email = f"{unique[::-1]}@example.com"
    cases = [("create_member_profile", dict(p_name="X", p_phone=other["phone"], p_email=None), "DUPLICATE_PHONE"),
             ("create_member_profile", dict(p_name="X", p_phone=None, p_email=other_email), "DUPLICATE_EMAIL"),
             ("update_member_profile", dict(p_member_id=member["id"], p_phone=other["phone"]), "DUPLICATE_PHONE"),
             ("update_member_profile", dict(p_member_id=member["id"], p_email=other_email), "DUPLICATE_EMAIL"),
             ("update_member_by_identifier", dict(p_identifier=member["phone"], p_email=other_email),
              "DUPLICATE_EMAIL")]
    for fn, args, token in cases:
        column = "phone" if token == "DUPLICATE_PHONE" else "email"
        state, message, detail = answer(svc.scalar, fn, **args)
        assert (state, message, detail) == (BUSINESS, token, f"p_{column} is already used by another member"), fn
        assert other["phone"] not in detail and other_email not in detail


@pytest.fixture
def world(api, shop, admin_sql, unique):
    """Objects of every kind that belong to `shop` (member, card, payment, settlement,
    corporate card with a bound member) and ids of the same kinds that do not exist."""
    svc = shop.svc
    paid = shop.charge(Decimal("10"))
    now = datetime.now(timezone.utc)
    settlement = svc.scalar("generate_settlement", p_merchant_id=shop.merchant["id"], p_mode="t_plus_1",
                            p_period_start=now - timedelta(hours=1), p_period_end=now)
    corporate = svc.scalar("create_corporate_card", p_owner_member_id=shop.member["id"], p_fixed_discount="0.9")
    bound = make_member(api, unique[::-1])
    svc.scalar("bind_member_to_card", p_card_id=corporate, p_member_id=bound["id"], p_role="member")
    card_no = svc.rows("get_card_detail", p_card_id=shop.card)[0]["card_no"]
    return {
        "real": dict(card=shop.card, corporate=corporate, member=shop.member["id"], bound=bound["id"],
                     merchant=shop.merchant["id"], code=shop.merchant["code"], tx_no=paid["tx_no"], card_no=card_no,
                     settlement=settlement),
        "missing": dict(card=uuid.uuid4(), corporate=uuid.uuid4(), member=uuid.uuid4(), bound=uuid.uuid4(),
                        merchant=uuid.uuid4(), code=f"NO{unique}", tx_no="PAY9999999999", card_no="STD99999999",
                        settlement=uuid.uuid4()),
        "bound": bound,
    }


# (rpc, kind of call, arguments from the world's ids)
ID_RPCS = [
    ("get_card_detail", "rows", lambda w: dict(p_card_id=w["card"])),
    ("get_card_bindings", "rows", lambda w: dict(p_card_id=w["corporate"])),
    ("get_point_ledger", "rows", lambda w: dict(p_card_id=w["card"])),
    ("user_recharge_card", "rows", lambda w: dict(p_card_id=w["card"], p_amount=Decimal("10"))),
    ("bind_member_to_card", "scalar", lambda w: dict(p_card_id=w["corporate"], p_member_id=w["member"])),
    ("unbind_member_from_card", "scalar", lambda w: dict(p_card_id=w["corporate"], p_member_id=w["bound"])),
    ("set_card_binding_password", "scalar", lambda w: dict(p_card_id=w["corporate"], p_password="bind-pass")),
    ("get_transaction_detail", "rows", lambda w: dict(p_tx_no=w["tx_no"])),
    ("get_card_by_identifier", "scalar", lambda w: dict(p_identifier=w["card_no"])),
    ("get_card_details_by_card_no", "scalar", lambda w: dict(p_card_no=w["card_no"])),
    ("get_settlement_detail", "rows", lambda w: dict(p_settlement_id=w["settlement"])),
    ("list_settlements", "rows", lambda w: dict(p_merchant_id=w["merchant"])),
    ("generate_settlement", "scalar", lambda w: dict(
        p_merchant_id=w["merchant"], p_mode="realtime", p_period_start=datetime(2026, 1, 1, tzinfo=timezone.utc),
        p_period_end=datetime(2026, 1, 2, tzinfo=timezone.utc))),
    ("get_merchant_transactions", "rows", lambda w: dict(p_merchant_id=w["merchant"])),
    ("get_merchant_detail", "rows", lambda w: dict(p_merchant_id=w["merchant"])),
    ("get_today_transaction_stats", "rows", lambda w: dict(p_merchant_id=w["merchant"])),
    ("get_transaction_trends", "rows", lambda w: dict(
        p_merchant_id=w["merchant"], p_start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
        p_end_date=datetime(2026, 1, 2, tzinfo=timezone.utc))),
    ("get_member_detail", "rows", lambda w: dict(p_member_id=w["member"])),
    ("get_member_transactions", "rows", lambda w: dict(p_member_id=w["member"])),
    ("get_member_cards", "rows", lambda w: dict(p_member_id=w["member"])),
    ("set_member_password", "scalar", lambda w: dict(p_member_id=w["member"], p_password="new-password-1")),
    ("update_member_profile", "scalar", lambda w: dict(p_member_id=w["member"], p_name="X")),
    ("set_merchant_password", "scalar", lambda w: dict(p_merchant_id=w["merchant"], p_password="new-password-1")),
    ("merchant_charge_by_qr", "rows", lambda w: dict(p_merchant_code=w["code"], p_qr_plain="x" * 44,
                                                     p_raw_amount=Decimal("1"))),
    ("merchant_refund_tx", "rows", lambda w: dict(p_merchant_code=w["code"], p_original_tx_no=w["tx_no"],
                                                  p_refund_amount=Decimal("1"))),
]
# rotate/revoke keep the contract's own message for anonymous callers
ANON_QR = [("rotate_card_qr", "rows", "PERMISSION_DENIED: 需要登入才能生成 QR 碼"),
           ("revoke_card_qr", "scalar", "PERMISSION_DENIED: 需要登入才能撤銷 QR 碼")]


@pytest.mark.parametrize("fn,kind,args", ID_RPCS, ids=[f for f, _, _ in ID_RPCS])
def test_anon_gets_not_authenticated_for_existing_and_missing_ids_alike(api, world, fn, kind, args):
    anon = api.as_anon()
    call = getattr(anon, kind)
    for ids in (world["real"], world["missing"]):
        assert answer(call, fn, **args(ids))[:2] == (PERMISSION, "NOT_AUTHENTICATED"), ids
    assert answer(call, fn, **args(world["real"])) == answer(call, fn, **args(world["missing"]))


@pytest.mark.parametrize("fn,kind,message", ANON_QR, ids=[f for f, _, _ in ANON_QR])
def test_anon_qr_refusal_is_the_same_for_existing_and_missing_cards(api, world, fn, kind, message):
    call = getattr(api.as_anon(), kind)
    real = answer(call, fn, p_card_id=world["real"]["card"])
    assert real == answer(call, fn, p_card_id=world["missing"]["card"])
    assert real == (PERMISSION, message, "log in first")


# what a stranger (a member with no tie to the world) may call, and which argument names the object
NOT_YOURS = "the card is neither yours nor bound to you"
STRANGER_RPCS = [
    ("get_card_detail", "rows", "p_card_id", "card", (BUSINESS, "CARD_NOT_FOUND", "no card with id <id>")),
    ("get_card_bindings", "rows", "p_card_id", "corporate", (BUSINESS, "CARD_NOT_FOUND", "no card with id <id>")),
    ("get_point_ledger", "rows", "p_card_id", "card", (BUSINESS, "CARD_NOT_FOUND", "no card with id <id>")),
    ("rotate_card_qr", "rows", "p_card_id", "card",
     (PERMISSION, "PERMISSION_DENIED: 您沒有權限為此卡片生成 QR 碼", NOT_YOURS)),
    ("revoke_card_qr", "scalar", "p_card_id", "card",
     (PERMISSION, "PERMISSION_DENIED: 您沒有權限撤銷此卡片的 QR 碼", NOT_YOURS)),
    ("get_transaction_detail", "rows", "p_tx_no", "tx_no", (BUSINESS, "TX_NOT_FOUND", 'no transaction "<id>"')),
    ("get_card_details_by_card_no", "scalar", "p_card_no", "card_no", (BUSINESS, "CARD_NOT_FOUND", 'no card "<id>"')),
    ("get_card_by_identifier", "scalar", "p_identifier", "card_no", (BUSINESS, "CARD_NOT_FOUND", 'no card "<id>"')),
]


@pytest.mark.parametrize("fn,kind,arg,key,expected", STRANGER_RPCS, ids=[r[0] for r in STRANGER_RPCS])
def test_a_strangers_answer_is_the_answer_for_a_missing_object(api, world, fn, kind, arg, key, expected):
    stranger = make_member(api, uuid.uuid4().hex[:10])
    call = getattr(api.as_anon(), kind)
    sid = login_member(api, stranger)
    for ids in (world["real"], world["missing"]):
        assert answer_about(ids[key], call, fn, **{arg: ids[key]}, p_session_id=sid) == expected, ids


def test_recharging_anothers_card_looks_like_a_missing_card(api, world):
    stranger = make_member(api, uuid.uuid4().hex[:10])
    sid = login_member(api, stranger)
    for card in (world["real"]["card"], world["missing"]["card"]):
        assert answer_about(card, api.as_anon().rows, "user_recharge_card", p_card_id=card, p_amount=Decimal("10"),
                            p_session_id=sid) == (BUSINESS, "CARD_NOT_FOUND_OR_INACTIVE", "no active card with id <id>")


def test_unbind_by_a_stranger_reveals_nothing_and_takes_no_lock(api, world, database):
    """A stranger's unbind is refused before any row is read or locked: with the card and
    both members row-locked elsewhere, the refusal still comes at once, and it is the same
    for a real binding, a missing card and a missing member."""
    real, missing = world["real"], world["missing"]
    stranger = make_member(api, uuid.uuid4().hex[:10])
    sid = login_member(api, stranger)
    refusal = (PERMISSION, "PERMISSION_DENIED",
               "only the member themself, the card's owner or admin, or a super admin may do this")
    with admin_connect(database) as holder:
        holder.execute("select 1 from member_cards where id = %s for update", (real["corporate"],))
        holder.execute("select 1 from member_profiles where id = any(%s) for update",
                       ([real["bound"], real["member"]],))
        api.conn.execute("set lock_timeout = '1s'")
        api.conn.commit()
        for card, member in [(real["corporate"], real["bound"]), (real["corporate"], real["member"]),
                             (real["corporate"], missing["member"]), (missing["card"], real["bound"])]:
            assert answer(api.as_anon().scalar, "unbind_member_from_card", p_card_id=card, p_member_id=member,
                          p_session_id=sid) == refusal, (card, member)
        holder.rollback()
    assert api.as_service().rows("get_card_bindings", p_card_id=real["corporate"])[0]["member_id"] == real["bound"]


def test_a_member_unbinding_themself_learns_nothing_about_cards(api, world):
    """Not bound to a real card or to no card at all: the same answer, naming only what the
    caller passed."""
    stranger = make_member(api, uuid.uuid4().hex[:10])
    sid = login_member(api, stranger)
    for card in (world["real"]["corporate"], world["missing"]["card"]):
        assert answer_about(card, api.as_anon().scalar, "unbind_member_from_card", p_card_id=card,
                            p_member_id=stranger["id"], p_session_id=sid) == \
            (BUSINESS, "CARD_BINDING_NOT_FOUND", f"member {stranger['id']} is not bound to card <id>")


def test_settlement_detail_of_another_merchant(api, world, unique):
    rival = {"code": f"RV{unique}", "password": "rival-pass-1"}
    rival["id"] = api.as_service().scalar("create_merchant", p_code=rival["code"], p_name="Rival",
                                          p_password=rival["password"])
    sid = login_merchant(api, rival)
    for settlement in (world["real"]["settlement"], world["missing"]["settlement"]):
        state, message, detail = answer(api.as_anon().rows, "get_settlement_detail", p_settlement_id=settlement,
                                        p_session_id=sid)
        assert (state, message, detail) == (BUSINESS, "SETTLEMENT_NOT_FOUND", f"no settlement with id {settlement}")
        assert str(world["real"]["merchant"]) not in detail
    member_sid = login_member(api, world["bound"])
    assert answer(api.as_anon().rows, "get_settlement_detail", p_settlement_id=world["real"]["settlement"],
                  p_session_id=member_sid)[:2] == \
        (PERMISSION, "PERMISSION_DENIED: Required merchant, but user is member")


def test_a_merchant_cannot_probe_for_merchant_codes(api, world, unique):
    rival = {"code": f"RV{unique}", "password": "rival-pass-1"}
    api.as_service().scalar("create_merchant", p_code=rival["code"], p_name="Rival", p_password=rival["password"])
    sid = login_merchant(api, rival)
    for code in (world["real"]["code"], world["missing"]["code"]):
        assert answer_about(code, api.as_anon().rows, "merchant_charge_by_qr", p_merchant_code=code,
                            p_qr_plain="x" * 44, p_raw_amount=Decimal("1"), p_session_id=sid) == \
            (PERMISSION, "NOT_AUTHORIZED_FOR_THIS_MERCHANT", "the caller may not act for merchant <id>")


def test_corporate_card_members_see_the_owner_by_name_only(api, world):
    svc = api.as_service()
    owner_id, corporate = world["real"]["member"], world["real"]["corporate"]
    owner = svc.rows("get_member_detail", p_member_id=owner_id)[0]
    card_no = svc.rows("get_card_detail", p_card_id=corporate)[0]["card_no"]
    viewer, admin = make_member(api, uuid.uuid4().hex[:10]), make_member(api, uuid.uuid4().hex[:10])
    svc.scalar("bind_member_to_card", p_card_id=corporate, p_member_id=viewer["id"], p_role="viewer")
    svc.scalar("bind_member_to_card", p_card_id=corporate, p_member_id=admin["id"], p_role="admin")
    anon = api.as_anon()

    def seen_by(m):
        d = anon.scalar("get_card_details_by_card_no", p_card_no=card_no, p_session_id=login_member(api, m))
        return d["owner_name"], d["owner_phone"], d["owner_email"]

    assert seen_by(viewer) == (owner["name"], None, None)
    assert seen_by(world["bound"]) == (owner["name"], None, None)
    assert seen_by(admin) == (owner["name"], owner["phone"], owner["email"])
    owner_sid = login_member(api, {"phone": owner["phone"], "password": "member-pass-1"})
    full = anon.scalar("get_card_details_by_card_no", p_card_no=card_no, p_session_id=owner_sid)
    assert (full["owner_phone"], full["owner_email"]) == (owner["phone"], owner["email"])
    # a viewer's binding list is their own row, without anyone's contact data
    rows = anon.rows("get_card_bindings", p_card_id=corporate, p_session_id=login_member(api, viewer))
    assert [(r["member_id"], r["role"]) for r in rows] == [(viewer["id"], "viewer")]
    assert set(rows[0]) == {"id", "member_id", "member_no", "member_name", "role", "created_at"}


# ---------------------------------------------------------------- 9. identifiers

def test_phone_and_email_formats_are_checked_everywhere_they_are_set(api, member, unique):
    svc = api.as_service()
    bad_phone = (BUSINESS, "INVALID_PHONE",
                 "p_phone contains '@'; a phone number has digits, an optional leading '+', spaces and dashes")
    no_at = (BUSINESS, "INVALID_EMAIL", "p_email has no '@'")
    two_ats = (BUSINESS, "INVALID_EMAIL", "p_email has more than one '@'")
    assert answer(svc.scalar, "create_member_profile", p_name="X", p_phone="0912@345", p_email=None) == bad_phone
    assert answer(svc.scalar, "create_member_profile", p_name="X", p_phone=None, p_email="0912345678") == no_at
    assert answer(svc.scalar, "update_member_profile", p_member_id=member["id"], p_phone="0912@345") == bad_phone
    assert answer(svc.scalar, "update_member_profile", p_member_id=member["id"], p_email="a@b@c") == two_ats
    assert answer(svc.scalar, "update_member_by_identifier", p_identifier=member["phone"], p_email="nobody") == no_at
    sid = login_member(api, member)
    assert answer(api.as_anon().scalar, "update_member_profile", p_member_id=member["id"], p_phone="0912@345",
                  p_session_id=sid, p_current_password=member["password"]) == bad_phone
    digits = phone_for(unique, "")
    good = svc.scalar("create_member_profile", p_name="Y", p_phone=f"+886 {digits[:4]}-{digits[4:]}",
                      p_email=f"first.last+{unique}@mail.example.org")
    row = svc.rows("get_member_detail", p_member_id=good)[0]
    assert (row["phone"], row["email"]) == (f"+886 {digits[:4]}-{digits[4:]}", f"first.last+{unique}@mail.example.org")


def test_a_member_cannot_make_her_phone_point_at_someone_else(api, admin_sql, member, unique):
    """Attack 9 of docs/security.md: setting one's phone to another member's email or member
    number so that support resets by identifier act on oneself. Shapes forbid it; values
    that still collide across columns (rows written before 0.3.0 checked shapes) are
    duplicates."""
    victim = make_member(api, unique[::-1])
    victim_no = api.as_service().rows("get_member_detail", p_member_id=victim["id"])[0]["member_no"]
    sid = login_member(api, member)
    change = dict(p_member_id=member["id"], p_session_id=sid, p_current_password=member["password"])
    anon = api.as_anon()
    assert answer(anon.scalar, "update_member_profile", p_phone=f"{unique[::-1]}@example.com", **change)[:2] == \
        (BUSINESS, "INVALID_PHONE")
    assert answer(anon.scalar, "update_member_profile", p_phone=victim_no, **change) == \
        (BUSINESS, "INVALID_PHONE",
         "p_phone contains 'M'; a phone number has digits, an optional leading '+', spaces and dashes")
    # legacy rows: the victim's phone is an address, the victim's email a number
    legacy_phone, legacy_email = f"legacy-{unique}@example.com", phone_for(unique, "06")
    admin_sql.execute("update member_profiles set phone = %s, email = %s where id = %s",
                      (legacy_phone, legacy_email, victim["id"]))
    for args, token in [(dict(p_email=legacy_phone), "DUPLICATE_EMAIL"),
                        (dict(p_phone=legacy_email), "DUPLICATE_PHONE")]:
        state, message, detail = answer(anon.scalar, "update_member_profile", **args, **change)
        assert (state, message) == (BUSINESS, token)
        assert legacy_phone not in detail and legacy_email not in detail
        assert answer(api.as_service().scalar, "create_member_profile", p_name="Z", **{"p_phone": None,
                      "p_email": None, **args})[:2] == (BUSINESS, token)
    # the member's own row is untouched, and the identifiers still name the victim
    for identifier in (legacy_phone, legacy_email):
        assert api.as_service().scalar("get_member_by_identifier", p_identifier=identifier)["id"] == str(victim["id"])
