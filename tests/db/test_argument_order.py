"""Every argument reaches its own field. Each RPC is declared once (the Rust function is the
public function; pgrx writes its SQL from the Rust signature), and the readers that stay SQL
call their Rust scopes by name. These tests call the RPCs with a distinct value in every
argument that shares a type with another (text next to text, numeric next to numeric) and
check that each value arrived where its name says: a swap anywhere between the client and
the row fails here."""

import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from psycopg.types.json import Jsonb

from conftest import login_member, make_member, phone_for, standard_card
from mps import fails


def test_readers_call_their_scopes_by_name(admin_sql):
    """The SQL readers pass arguments to mps_internal by name, never by position."""
    rows = admin_sql.execute(
        """select p.proname, p.prosrc from pg_proc p join pg_language l on l.oid = p.prolang
            where p.pronamespace = 'public'::regnamespace and l.lanname = 'sql'""").fetchall()
    assert len(rows) >= 25, rows
    for r in rows:
        for call in re.finditer(r"mps_internal\.(\w+)\(([^()]*)\)", r["prosrc"]):
            arguments = [a for a in call.group(2).split(",") if a.strip()]
            assert all("=>" in a for a in arguments), (r["proname"], call.group(0))


def test_rust_rpcs_are_bound_directly(admin_sql):
    """The RPCs that are not readers are the Rust functions themselves, each with its own
    symbol, SECURITY DEFINER and a fixed search_path."""
    rows = admin_sql.execute(
        """select p.proname, p.probin, p.prosrc, p.prosecdef, p.proconfig
             from pg_proc p join pg_language l on l.oid = p.prolang
            where p.pronamespace = 'public'::regnamespace and l.lanname = 'c'""").fetchall()
    assert len(rows) == 56
    for r in rows:
        assert r["prosrc"] == f"rpc_{r['proname']}_wrapper", r
        assert r["prosecdef"] and r["proconfig"] == ["search_path=pg_catalog, pg_temp"], r


def test_account_fields(api, admin_sql, unique):
    svc = api.as_service()
    phone, email = phone_for(unique), f"e-{unique}@example.com"
    member_id = svc.scalar("create_member_profile", p_name=f"name-{unique}", p_phone=phone, p_email=email,
                           p_password=f"pass-{unique}", p_binding_user_org="org-x", p_binding_org_id=f"id-{unique}")
    row = admin_sql.execute("select name, phone, email from member_profiles where id = %s", (member_id,)).fetchone()
    assert row == {"name": f"name-{unique}", "phone": phone, "email": email}
    ext = admin_sql.execute("select provider, external_id from member_external_identities where member_id = %s",
                            (member_id,)).fetchall()
    assert ext == [{"provider": "org-x", "external_id": f"id-{unique}"}]
    login = api.as_anon().scalar("member_login", p_identifier=phone, p_password=f"pass-{unique}")
    assert login["member_id"] == str(member_id)

    code = f"AO{unique}"
    merchant_id = svc.scalar("create_merchant", p_code=code, p_name=f"shop-{unique}", p_contact=f"contact-{unique}",
                             p_password=f"mpass-{unique}")
    row = admin_sql.execute("select code, name, contact from merchants where id = %s", (merchant_id,)).fetchone()
    assert row == {"code": code, "name": f"shop-{unique}", "contact": f"contact-{unique}"}
    assert api.as_anon().scalar("merchant_login", p_merchant_code=code,
                                p_password=f"mpass-{unique}")["merchant_id"] == str(merchant_id)


def test_profile_and_password_fields(api, admin_sql, unique):
    svc = api.as_service()
    m = make_member(api, unique, password="old-pass-1")
    new_phone, new_email = phone_for(unique[::-1]), f"n-{unique}@example.com"
    sid = login_member(api, m)
    assert api.as_anon().scalar("update_member_profile", p_member_id=m["id"], p_name=f"renamed-{unique}",
                                p_phone=new_phone, p_email=new_email, p_session_id=sid,
                                p_current_password="old-pass-1") is True
    row = admin_sql.execute("select name, phone, email, member_no from member_profiles where id = %s",
                            (m["id"],)).fetchone()
    assert (row["name"], row["phone"], row["email"]) == (f"renamed-{unique}", new_phone, new_email)

    # the current password is checked, the new one stored: swapped, neither would work
    assert api.as_anon().scalar("set_member_password", p_member_id=m["id"], p_password="new-pass-2",
                                p_session_id=sid, p_current_password="old-pass-1") is True
    assert api.as_anon().scalar("member_login", p_identifier=new_phone, p_password="new-pass-2")["success"]
    assert fails(api.as_anon().scalar, "member_login", p_identifier=new_phone, p_password="old-pass-1")[1] \
        == "INVALID_PASSWORD"

    assert svc.scalar("update_member_by_identifier", p_identifier=row["member_no"], p_name=f"again-{unique}",
                      p_phone=phone_for(unique, "08"), p_email=f"a-{unique}@example.com") is True
    row = admin_sql.execute("select name, phone, email from member_profiles where id = %s", (m["id"],)).fetchone()
    assert row == {"name": f"again-{unique}", "phone": phone_for(unique, "08"), "email": f"a-{unique}@example.com"}
    assert svc.scalar("set_member_password_by_identifier", p_identifier=f"a-{unique}@example.com",
                      p_new_password="third-pass-3") is True
    assert api.as_anon().scalar("member_login", p_identifier=row["phone"], p_password="third-pass-3")["success"]

    found = svc.rows("search_members_advanced", p_name=f"again-{unique}", p_phone=row["phone"],
                     p_email=row["email"])
    assert [f["id"] for f in found] == [m["id"]]
    # the same values in the wrong fields find nobody
    assert svc.rows("search_members_advanced", p_name=row["phone"], p_phone=f"again-{unique}") == []


def test_money_fields(api, admin_sql, shop, unique):
    svc = api.as_service()
    paid = shop.charge(Decimal("40.00"), p_idempotency_key=f"key-{unique}", p_tag=Jsonb({"till": unique}),
                       p_external_order_id=f"order-{unique}")
    row = admin_sql.execute(
        "select idempotency_key, external_order_id, tag, raw_amount from transactions where id = %s",
        (paid["tx_id"],)).fetchone()
    assert row == {"idempotency_key": f"key-{unique}", "external_order_id": f"order-{unique}",
                   "tag": {"till": unique}, "raw_amount": Decimal("40.00")}

    refund = shop.refund(paid["tx_no"], Decimal("15.00"), p_tag=Jsonb({"why": unique}))
    row = admin_sql.execute("select reason, tag, final_amount from transactions where tx_no = %s",
                            (refund["refund_tx_no"],)).fetchone()
    assert row == {"reason": paid["tx_no"], "tag": {"why": unique}, "final_amount": Decimal("15.00")}
    assert refund["refunded_amount"] == Decimal("15.00")

    recharge = svc.rows("user_recharge_card", p_card_id=shop.card, p_amount=Decimal("12.30"),
                        p_payment_method="alipay", p_tag=Jsonb({"desk": unique}), p_idempotency_key=f"rkey-{unique}",
                        p_external_order_id=f"rorder-{unique}")[0]
    assert recharge["amount"] == Decimal("12.30")
    row = admin_sql.execute(
        "select payment_method::text, tag, idempotency_key, external_order_id from transactions where id = %s",
        (recharge["tx_id"],)).fetchone()
    assert row == {"payment_method": "alipay", "tag": {"desk": unique}, "idempotency_key": f"rkey-{unique}",
                   "external_order_id": f"rorder-{unique}"}

    sid = login_member(api, shop.member)
    pending = api.as_anon().rows("user_recharge_card", p_card_id=shop.card, p_amount=Decimal("5"),
                                 p_session_id=sid)[0]
    assert api.as_anon().scalar("cancel_recharge", p_tx_no=pending["tx_no"], p_reason=f"why-{unique}",
                                p_session_id=sid) is True
    context = admin_sql.execute(
        "select context from audit.event_log where action = 'RECHARGE_CANCEL' and object_id = %s",
        (pending["tx_id"],)).fetchone()["context"]
    assert context["reason"] == f"why-{unique}"


def test_card_fields(api, admin_sql, member, unique):
    svc = api.as_service()
    corp = svc.scalar("create_corporate_card", p_owner_member_id=member["id"], p_name=f"corp-{unique}",
                      p_initial_balance=Decimal("12.34"), p_fixed_discount=Decimal("0.8"))
    row = admin_sql.execute("select name, balance, fixed_discount, card_type::text from member_cards where id = %s",
                            (corp,)).fetchone()
    assert row == {"name": f"corp-{unique}", "balance": Decimal("12.34"), "fixed_discount": Decimal("0.800"),
                   "card_type": "corporate"}
    expires = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=30)
    voucher = svc.scalar("create_voucher_card", p_owner_member_id=member["id"], p_name=f"voucher-{unique}",
                         p_initial_balance=Decimal("7.50"), p_expires_at=expires)
    row = admin_sql.execute("select name, balance, expires_at from member_cards where id = %s", (voucher,)).fetchone()
    assert row == {"name": f"voucher-{unique}", "balance": Decimal("7.50"), "expires_at": expires}

    other = make_member(api, unique[::-1])
    assert svc.scalar("bind_member_to_card", p_card_id=corp, p_member_id=other["id"], p_role="viewer") is True
    bound = admin_sql.execute("select role::text from card_bindings where card_id = %s and member_id = %s",
                              (corp, other["id"])).fetchone()
    assert bound == {"role": "viewer"}

    before = datetime.now(timezone.utc)
    qr = svc.rows("rotate_card_qr", p_card_id=standard_card(api, member["id"]), p_ttl_seconds=120)[0]
    assert timedelta(seconds=110) < qr["qr_expires_at"] - before < timedelta(seconds=130)


def test_settlement_fields(api, admin_sql, shop):
    shop.charge(Decimal("10.00"))
    start = datetime.now(timezone.utc) - timedelta(hours=2)
    end = datetime.now(timezone.utc)
    settlement = api.as_service().scalar("generate_settlement", p_merchant_id=shop.merchant["id"],
                                         p_mode="monthly", p_period_start=start, p_period_end=end)
    row = admin_sql.execute("select mode::text, period_start, period_end, total_amount from settlements where id = %s",
                            (settlement,)).fetchone()
    assert row == {"mode": "monthly", "period_start": start, "period_end": end, "total_amount": Decimal("10.00")}
    assert api.as_service().scalar("update_settlement_status", p_settlement_id=settlement, p_status="settled") is True
    assert admin_sql.execute("select status::text from settlements where id = %s",
                             (settlement,)).fetchone() == {"status": "settled"}
