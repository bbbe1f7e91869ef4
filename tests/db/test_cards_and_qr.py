"""Cards, shared-card bindings, corporate discounts and QR codes."""

import uuid
from decimal import Decimal

import pytest

from conftest import login_member, login_merchant, make_member, standard_card
from mps import fails

PERMISSION = "42501"
BUSINESS = "P0001"



@pytest.fixture
def corp(api, member):
    """A corporate card (0.800) owned by `member`, with binding password bind123."""
    svc = api.as_service()
    card = svc.scalar("create_corporate_card", p_owner_member_id=member["id"], p_name="ACME",
                      p_fixed_discount=Decimal("0.800"))
    svc.scalar("set_card_binding_password", p_card_id=card, p_password="bind123")
    return card


def corporate_discount(api, member_id):
    return api.as_service().execute(
        "select corporate_discount from public.member_cards where owner_member_id = %s and card_type = 'standard'",
        (member_id,))[0]["corporate_discount"]


def test_issued_cards(api, admin_sql, member):
    svc = api.as_service()
    corp = svc.scalar("create_corporate_card", p_owner_member_id=member["id"], p_name="Corp",
                      p_initial_balance=Decimal("100.005"), p_fixed_discount="0.75")
    voucher = svc.scalar("create_voucher_card", p_owner_member_id=member["id"], p_name="Gift",
                         p_initial_balance="50")
    rows = {r["id"]: r for r in admin_sql.execute(
        "select c.id, c.card_no, c.card_type::text, c.balance, c.discount, c.fixed_discount, c.level, b.role::text"
        "  from member_cards c join card_bindings b on b.card_id = c.id and b.member_id = c.owner_member_id"
        " where c.id in (%s, %s)", (corp, voucher)).fetchall()}
    c, v = rows[corp], rows[voucher]
    assert c["card_no"].startswith("COR") and v["card_no"].startswith("VCH")
    assert (c["balance"], c["discount"], c["fixed_discount"], c["level"], c["role"]) == \
        (Decimal("100.01"), Decimal("0.750"), Decimal("0.750"), 0, "owner")
    assert (v["balance"], v["discount"], v["fixed_discount"], v["role"]) == (Decimal("50.00"), Decimal("1.000"), None, "owner")


def test_card_creation_errors(api, member):
    svc = api.as_service()
    assert fails(svc.scalar, "create_corporate_card", p_owner_member_id=uuid.uuid4()) == (BUSINESS, "MEMBER_NOT_FOUND")
    assert fails(svc.scalar, "create_corporate_card", p_owner_member_id=member["id"], p_fixed_discount="1.5") \
        == (BUSINESS, "INVALID_DISCOUNT")
    assert fails(svc.scalar, "create_voucher_card", p_owner_member_id=member["id"], p_initial_balance="-1") \
        == (BUSINESS, "INVALID_AMOUNT")
    assert fails(svc.scalar, "create_voucher_card", p_owner_member_id=member["id"],
                 p_expires_at="2001-01-01T00:00:00Z") == (BUSINESS, "INVALID_ARGUMENT")
    sid = login_member(api, member)
    assert fails(api.as_anon().scalar, "create_voucher_card", p_owner_member_id=member["id"])[0] == PERMISSION
    assert fails(api.as_claims({"role": "authenticated"}).scalar, "create_voucher_card",
                 p_owner_member_id=member["id"], p_session_id=sid) == \
        (PERMISSION, "PERMISSION_DENIED: Required super_admin, but user is member")


def test_binding_password_rules(api, member, corp):
    svc = api.as_service()
    std = standard_card(api, member["id"])
    assert fails(svc.scalar, "set_card_binding_password", p_card_id=std, p_password="long-enough") == \
        (BUSINESS, "CARD_TYPE_NOT_SUPPORT_BINDING_PASSWORD")
    assert fails(svc.scalar, "set_card_binding_password", p_card_id=corp, p_password="12345") == \
        (BUSINESS, "PASSWORD_TOO_SHORT")
    assert fails(svc.scalar, "set_card_binding_password", p_card_id=uuid.uuid4(), p_password="123456") == \
        (BUSINESS, "CARD_NOT_FOUND")
    # the card's owner may set it too
    assert api.as_anon().scalar("set_card_binding_password", p_card_id=corp, p_password="corp123",
                                p_session_id=login_member(api, member)) is True


def test_corporate_discount_is_the_best_of_active_bindings(api, member, unique):
    svc = api.as_service()
    employee = make_member(api, unique[::-1])
    corp_a = svc.scalar("create_corporate_card", p_owner_member_id=member["id"], p_fixed_discount="0.800")
    corp_b = svc.scalar("create_corporate_card", p_owner_member_id=member["id"], p_fixed_discount="0.750")
    assert svc.scalar("bind_member_to_card", p_card_id=corp_a, p_member_id=employee["id"]) is True
    assert corporate_discount(api, employee["id"]) == Decimal("0.800")
    svc.scalar("bind_member_to_card", p_card_id=corp_b, p_member_id=employee["id"])
    assert corporate_discount(api, employee["id"]) == Decimal("0.750")
    # binding a worse card later does not win (the original's "last bind wins": docs/contract.md B11)
    corp_c = svc.scalar("create_corporate_card", p_owner_member_id=member["id"], p_fixed_discount="0.900")
    svc.scalar("bind_member_to_card", p_card_id=corp_c, p_member_id=employee["id"])
    assert corporate_discount(api, employee["id"]) == Decimal("0.750")
    # unbinding one card leaves the best of the others
    svc.scalar("unbind_member_from_card", p_card_id=corp_b, p_member_id=employee["id"])
    assert corporate_discount(api, employee["id"]) == Decimal("0.800")
    # a frozen corporate card gives no discount, and gives it back when unfrozen
    svc.scalar("freeze_card", p_card_id=corp_a)
    assert corporate_discount(api, employee["id"]) == Decimal("0.900")
    svc.scalar("unfreeze_card", p_card_id=corp_a)
    assert corporate_discount(api, employee["id"]) == Decimal("0.800")
    svc.scalar("unbind_member_from_card", p_card_id=corp_a, p_member_id=employee["id"])
    svc.scalar("unbind_member_from_card", p_card_id=corp_c, p_member_id=employee["id"])
    assert corporate_discount(api, employee["id"]) is None
    # the corporate card's owner holds it for the organisation: no discount
    # (docs/contract.md, "Corporate discount 0.800")
    assert corporate_discount(api, member["id"]) is None


def test_who_may_bind_and_unbind(api, member, corp, unique, merchant):
    anon = api.as_anon()
    employee = make_member(api, unique[::-1])
    stranger = make_member(api, unique[1:] + "f")
    emp_sid = login_member(api, employee)

    assert fails(anon.scalar, "bind_member_to_card", p_card_id=corp, p_member_id=employee["id"]) == \
        (PERMISSION, "NOT_AUTHENTICATED")
    assert fails(anon.scalar, "bind_member_to_card", p_card_id=corp, p_member_id=employee["id"],
                 p_session_id=login_merchant(api, merchant))[0] == PERMISSION
    # self-binding needs the binding password, and at most role member
    assert fails(anon.scalar, "bind_member_to_card", p_card_id=corp, p_member_id=employee["id"],
                 p_session_id=emp_sid) == (BUSINESS, "INVALID_BINDING_PASSWORD")
    assert fails(anon.scalar, "bind_member_to_card", p_card_id=corp, p_member_id=employee["id"],
                 p_binding_password="wrong", p_session_id=emp_sid) == (BUSINESS, "INVALID_BINDING_PASSWORD")
    assert fails(anon.scalar, "bind_member_to_card", p_card_id=corp, p_member_id=employee["id"], p_role="admin",
                 p_binding_password="bind123", p_session_id=emp_sid)[0] == PERMISSION
    assert anon.scalar("bind_member_to_card", p_card_id=corp, p_member_id=employee["id"],
                       p_binding_password="bind123", p_session_id=emp_sid) is True
    # nobody is ever given owner; a member cannot bind somebody else
    assert fails(api.as_service().scalar, "bind_member_to_card", p_card_id=corp, p_member_id=stranger["id"],
                 p_role="owner")[0] == PERMISSION
    assert fails(anon.scalar, "bind_member_to_card", p_card_id=corp, p_member_id=stranger["id"],
                 p_binding_password="bind123", p_session_id=emp_sid)[0] == PERMISSION
    # the owner binds others without the password
    owner_sid = login_member(api, member)
    assert anon.scalar("bind_member_to_card", p_card_id=corp, p_member_id=stranger["id"], p_role="viewer",
                       p_session_id=owner_sid) is True
    # bindings: the owner sees all, a bound member only their own, others nothing
    all_rows = anon.rows("get_card_bindings", p_card_id=corp, p_session_id=owner_sid)
    assert sorted(r["role"] for r in all_rows) == ["member", "owner", "viewer"]
    own = anon.rows("get_card_bindings", p_card_id=corp, p_session_id=emp_sid)
    assert [(r["member_id"], r["role"]) for r in own] == [(employee["id"], "member")]
    # the last (only) owner can neither be removed nor demoted
    assert fails(api.as_service().scalar, "unbind_member_from_card", p_card_id=corp, p_member_id=member["id"]) == \
        (BUSINESS, "CANNOT_REMOVE_LAST_OWNER")
    assert fails(api.as_service().scalar, "bind_member_to_card", p_card_id=corp, p_member_id=member["id"],
                 p_role="viewer") == (BUSINESS, "CANNOT_REMOVE_LAST_OWNER")
    # a member unbinds themself but not others
    assert fails(anon.scalar, "unbind_member_from_card", p_card_id=corp, p_member_id=stranger["id"],
                 p_session_id=emp_sid)[0] == PERMISSION
    assert anon.scalar("unbind_member_from_card", p_card_id=corp, p_member_id=employee["id"],
                       p_session_id=emp_sid) is True
    assert fails(anon.scalar, "unbind_member_from_card", p_card_id=corp, p_member_id=employee["id"],
                 p_session_id=emp_sid) == (BUSINESS, "CARD_BINDING_NOT_FOUND")
    assert fails(api.as_service().scalar, "unbind_member_from_card", p_card_id=uuid.uuid4(),
                 p_member_id=employee["id"]) == (BUSINESS, "CARD_NOT_FOUND")


def test_binding_errors(api, admin_sql, member, corp, unique):
    svc = api.as_service()
    other = make_member(api, unique[::-1])
    std = standard_card(api, member["id"])
    assert fails(svc.scalar, "bind_member_to_card", p_card_id=std, p_member_id=other["id"]) == \
        (BUSINESS, "CARD_TYPE_NOT_SHAREABLE")
    assert fails(svc.scalar, "bind_member_to_card", p_card_id=corp, p_member_id=uuid.uuid4()) == \
        (BUSINESS, "MEMBER_NOT_FOUND")
    assert fails(svc.scalar, "bind_member_to_card", p_card_id=uuid.uuid4(), p_member_id=other["id"]) == \
        (BUSINESS, "CARD_NOT_FOUND_OR_INACTIVE")
    svc.scalar("freeze_card", p_card_id=corp)
    assert fails(svc.scalar, "bind_member_to_card", p_card_id=corp, p_member_id=other["id"]) == \
        (BUSINESS, "CARD_NOT_FOUND_OR_INACTIVE")
    svc.scalar("unfreeze_card", p_card_id=corp)
    admin_sql.execute("delete from card_bindings where card_id = %s", (corp,))
    assert fails(svc.scalar, "bind_member_to_card", p_card_id=corp, p_member_id=other["id"]) == \
        (BUSINESS, "CARD_OWNER_NOT_DEFINED")


def test_freeze_and_unfreeze(api, admin_sql, member):
    svc = api.as_service()
    card = standard_card(api, member["id"])
    assert fails(svc.scalar, "freeze_card", p_card_id=uuid.uuid4()) == (BUSINESS, "CARD_NOT_FOUND")
    assert fails(svc.scalar, "unfreeze_card", p_card_id=uuid.uuid4()) == (BUSINESS, "CARD_NOT_FOUND")
    assert fails(svc.scalar, "unfreeze_card", p_card_id=card) == (BUSINESS, "CARD_NOT_FROZEN")
    assert svc.scalar("freeze_card", p_card_id=card) is True
    assert admin_sql.execute("select status::text from member_cards where id = %s", (card,)).fetchone()["status"] == "inactive"
    assert svc.scalar("unfreeze_card", p_card_id=card) is True
    admin_sql.execute("update member_cards set status = 'lost' where id = %s", (card,))
    assert fails(svc.scalar, "unfreeze_card", p_card_id=card) == (BUSINESS, "CARD_NOT_FROZEN")
    assert fails(svc.scalar, "freeze_card", p_card_id=card) == (BUSINESS, "CARD_NOT_ACTIVE")
    assert fails(api.as_anon().scalar, "freeze_card", p_card_id=card)[0] == PERMISSION
    actions = [r["action"] for r in admin_sql.execute(
        "select action from audit.event_log where object_id = %s order by id", (card,)).fetchall()]
    assert actions == ["CARD_FREEZE", "CARD_UNFREEZE"]


def test_member_cards_and_card_detail(api, member, corp, unique):
    anon = api.as_anon()
    sid = login_member(api, member)
    cards = anon.rows("get_member_cards", p_session_id=sid)
    assert [c["card_type"] for c in cards] == ["standard", "corporate"]
    assert anon.rows("get_member_cards", p_member_id=member["id"], p_session_id=sid) == cards
    other = make_member(api, unique[::-1])
    assert fails(anon.rows, "get_member_cards", p_member_id=other["id"], p_session_id=sid)[0] == PERMISSION
    assert fails(anon.rows, "get_member_cards") == (PERMISSION, "NOT_AUTHENTICATED")
    assert len(api.as_service().rows("get_member_cards", p_member_id=other["id"])) == 1
    detail = anon.rows("get_card_detail", p_card_id=corp, p_session_id=sid)
    assert len(detail) == 1 and detail[0]["id"] == corp
    assert "binding_password_hash" not in detail[0]  # set, but kept in mps_internal
    assert detail[0]["fixed_discount"] == Decimal("0.800")
    # a card that is not yours looks like one that does not exist
    assert fails(anon.rows, "get_card_detail", p_card_id=corp, p_session_id=login_member(api, other)) == \
        (BUSINESS, "CARD_NOT_FOUND")
    assert fails(api.as_service().rows, "get_card_detail", p_card_id=uuid.uuid4()) == (BUSINESS, "CARD_NOT_FOUND")


def test_qr_permissions(api, member, merchant, unique, corp):
    anon = api.as_anon()
    card = standard_card(api, member["id"])
    msid = login_merchant(api, merchant)
    assert fails(anon.rows, "rotate_card_qr", p_card_id=card, p_session_id=msid) == \
        (PERMISSION, "PERMISSION_DENIED: 商戶不能生成 QR 碼")
    assert fails(anon.scalar, "revoke_card_qr", p_card_id=card, p_session_id=msid) == \
        (PERMISSION, "PERMISSION_DENIED: 商戶不能撤銷 QR 碼")
    assert fails(anon.rows, "rotate_card_qr", p_card_id=card) == (PERMISSION, "PERMISSION_DENIED: 需要登入才能生成 QR 碼")
    assert fails(anon.scalar, "revoke_card_qr", p_card_id=card) == (PERMISSION, "PERMISSION_DENIED: 需要登入才能撤銷 QR 碼")
    other_sid = login_member(api, make_member(api, unique[::-1]))
    assert fails(anon.rows, "rotate_card_qr", p_card_id=card, p_session_id=other_sid) == \
        (PERMISSION, "PERMISSION_DENIED: 您沒有權限為此卡片生成 QR 碼")
    assert fails(anon.scalar, "revoke_card_qr", p_card_id=card, p_session_id=other_sid) == \
        (PERMISSION, "PERMISSION_DENIED: 您沒有權限撤銷此卡片的 QR 碼")
    own = anon.rows("rotate_card_qr", p_card_id=card, p_session_id=login_member(api, member))
    assert len(own) == 1 and len(own[0]["qr_plain"]) == 44
    assert fails(api.as_service().rows, "rotate_card_qr", p_card_id=uuid.uuid4()) == (BUSINESS, "CARD_NOT_FOUND")
    assert fails(api.as_service().rows, "rotate_card_qr", p_card_id=corp) == (BUSINESS, "CORPORATE_CARD_CANNOT_PAY")
    # validating is for merchants and admins, not an open oracle
    assert fails(anon.scalar, "validate_qr_plain", p_qr_plain=own[0]["qr_plain"]) == (PERMISSION, "NOT_AUTHENTICATED")
    assert fails(anon.scalar, "validate_qr_plain", p_qr_plain=own[0]["qr_plain"], p_session_id=other_sid)[0] == PERMISSION
    assert anon.scalar("validate_qr_plain", p_qr_plain=own[0]["qr_plain"], p_session_id=msid) == card


def test_qr_lifecycle(api, admin_sql, member):
    svc = api.as_service()
    card = standard_card(api, member["id"])
    sid = login_member(api, member)
    first = api.as_anon().rows("rotate_card_qr", p_card_id=card, p_session_id=sid)[0]
    assert svc.scalar("validate_qr_plain", p_qr_plain=first["qr_plain"]) == card
    second = svc.rows("rotate_card_qr", p_card_id=card, p_ttl_seconds=120)[0]
    assert fails(svc.scalar, "validate_qr_plain", p_qr_plain=first["qr_plain"]) == (BUSINESS, "QR_EXPIRED_OR_INVALID")
    assert svc.scalar("validate_qr_plain", p_qr_plain=second["qr_plain"]) == card
    # history keeps every issued code with its issuer; only the live code's digest is stored
    history = admin_sql.execute("select issued_by from card_qr_history where card_id = %s"
                                " order by issued_at", (card,)).fetchall()
    assert [h["issued_by"] for h in history] == [member["id"], None]
    live = admin_sql.execute("select token_hash from mps_internal.card_qr_tokens where card_id = %s",
                             (card,)).fetchone()["token_hash"]
    assert len(live) == 64 and live not in (first["qr_plain"], second["qr_plain"])
    # revoke kills the live code
    assert svc.scalar("revoke_card_qr", p_card_id=card) is True
    assert svc.scalar("revoke_card_qr", p_card_id=card) is False
    assert fails(svc.scalar, "validate_qr_plain", p_qr_plain=second["qr_plain"]) == (BUSINESS, "QR_EXPIRED_OR_INVALID")
    # an expired code fails
    third = svc.rows("rotate_card_qr", p_card_id=card)[0]
    admin_sql.execute("update mps_internal.card_qr_tokens set expires_at = now() - interval '1 second' where card_id = %s",
                      (card,))
    assert fails(svc.scalar, "validate_qr_plain", p_qr_plain=third["qr_plain"]) == (BUSINESS, "QR_EXPIRED_OR_INVALID")
    # garbage
    assert fails(svc.scalar, "validate_qr_plain", p_qr_plain="short") == (BUSINESS, "INVALID_QR")
    assert fails(svc.scalar, "validate_qr_plain", p_qr_plain=None) == (BUSINESS, "INVALID_QR")
    assert fails(svc.scalar, "validate_qr_plain", p_qr_plain="x" * 5000) == (BUSINESS, "QR_EXPIRED_OR_INVALID")


def test_qr_ttl_is_clamped(api, admin_sql, member):
    svc = api.as_service()
    card = standard_card(api, member["id"])
    for requested, expected in [(1, 60), (None, 900), (300, 300), (10_000_000, 86_400)]:
        args = {"p_card_id": card} if requested is None else {"p_card_id": card, "p_ttl_seconds": requested}
        svc.rows("rotate_card_qr", **args)
        ttl = admin_sql.execute("select round(extract(epoch from expires_at - updated_at)) as s from card_qr_state"
                                " where card_id = %s", (card,)).fetchone()["s"]
        assert ttl == expected, requested


def test_qr_refused_for_unpayable_cards(api, admin_sql, member):
    svc = api.as_service()
    card = standard_card(api, member["id"])
    svc.scalar("freeze_card", p_card_id=card)
    assert fails(svc.rows, "rotate_card_qr", p_card_id=card) == (BUSINESS, "CARD_NOT_ACTIVE")
    voucher = svc.scalar("create_voucher_card", p_owner_member_id=member["id"], p_initial_balance="10",
                         p_expires_at="2999-01-01T00:00:00Z")
    assert len(svc.rows("rotate_card_qr", p_card_id=voucher)[0]["qr_plain"]) == 44
    admin_sql.execute("update member_cards set expires_at = now() - interval '1 day' where id = %s", (voucher,))
    assert fails(svc.rows, "rotate_card_qr", p_card_id=voucher) == (BUSINESS, "CARD_EXPIRED")


def test_cron_cleans_up_but_never_kills_live_codes(api, admin_sql, member, unique):
    svc = api.as_service()
    card = standard_card(api, member["id"])
    live = svc.rows("rotate_card_qr", p_card_id=card)[0]
    other = standard_card(api, make_member(api, unique[::-1])["id"])
    svc.rows("rotate_card_qr", p_card_id=other)
    admin_sql.execute("update card_qr_state set expires_at = now() - interval '1 minute' where card_id = %s", (other,))
    admin_sql.execute("update card_qr_history set issued_at = now() - interval '400 days' where card_id = %s", (other,))
    removed = svc.scalar("cron_rotate_qr_tokens")
    assert removed >= 2
    assert admin_sql.execute("select count(*) as n from card_qr_state where card_id = %s", (other,)).fetchone()["n"] == 0
    assert admin_sql.execute("select count(*) as n from card_qr_history where card_id = %s", (other,)).fetchone()["n"] == 0
    assert svc.scalar("validate_qr_plain", p_qr_plain=live["qr_plain"]) == card
    ctx = admin_sql.execute("select context from audit.event_log where action = 'QR_CRON_ROTATE'"
                            " order by id desc limit 1").fetchone()["context"]
    assert ctx["lapsed_codes"] >= 1 and ctx["pruned_history"] >= 1
    assert fails(api.as_anon().scalar, "cron_rotate_qr_tokens")[0] == PERMISSION


def test_validate_is_one_index_lookup_among_100k_live_codes(api, admin_sql, member):
    admin_sql.execute(
        "insert into member_cards (card_no, card_type) select 'BULK' || g, 'standard' from generate_series(1, 100000) g")
    admin_sql.execute(
        "insert into mps_internal.card_qr_tokens (card_id, token_hash, expires_at)"
        " select id, encode(sha256(id::text::bytea), 'hex'), now() + interval '1 hour'"
        "   from member_cards where card_no like 'BULK%'")
    admin_sql.execute("analyze mps_internal.card_qr_tokens")
    svc = api.as_service()
    card = standard_card(api, member["id"])
    token = svc.rows("rotate_card_qr", p_card_id=card)[0]["qr_plain"]

    def scans():
        admin_sql.execute("select pg_stat_clear_snapshot()")
        return admin_sql.execute(
            "select t.seq_scan, i.idx_scan from pg_stat_user_tables t"
            "  join pg_stat_user_indexes i on i.relid = t.relid and i.indexrelname = 'card_qr_tokens_token_hash_key'"
            " where t.relname = 'card_qr_tokens'").fetchone()

    def flush():
        api.conn.execute("select pg_stat_force_next_flush()")
        api.conn.commit()
        api.conn.execute("select 1")
        api.conn.commit()

    flush()
    before = scans()
    for _ in range(20):
        assert svc.scalar("validate_qr_plain", p_qr_plain=token) == card
    flush()
    after = scans()
    assert after["idx_scan"] - before["idx_scan"] == 20
    assert after["seq_scan"] == before["seq_scan"]
    plan = admin_sql.execute(
        "explain (format json) select card_id from mps_internal.card_qr_tokens where token_hash = %s"
        " and expires_at > now()", ("0" * 64,)).fetchone()["QUERY PLAN"][0]["Plan"]
    assert plan["Node Type"] == "Index Scan" and plan["Index Name"] == "card_qr_tokens_token_hash_key"
    admin_sql.execute("delete from member_cards where card_no like 'BULK%'")
