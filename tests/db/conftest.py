"""Fixtures for the database tests: a fresh database with the extension on the cluster
that scripts/test.sh started, and PostgREST-style clients connecting as `authenticator`."""

import os
import uuid

import pytest

from decimal import Decimal

from mps import Api, admin_connect, recreate_database

DB = os.environ.get("MPS_TEST_DB", "mps_test")


@pytest.fixture(scope="session")
def database():
    recreate_database(DB)
    return DB


@pytest.fixture(autouse=True)
def books_balance(database):
    """After every test, verify_ledger() finds no violation: no money lost or created."""
    yield
    with admin_connect(database) as conn:
        violations = conn.execute("select * from public.verify_ledger()").fetchall()
    assert violations == [], violations


@pytest.fixture
def api(database):
    """A PostgREST-like client: one connection as `authenticator`, one transaction per call."""
    client = Api(database)
    yield client
    client.close()


@pytest.fixture
def admin_sql(database):
    """A superuser connection for arranging data and inspecting results."""
    conn = admin_connect(database)
    conn.autocommit = True
    yield conn
    conn.close()


@pytest.fixture
def unique():
    """A short unique suffix for codes, phones and emails."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def merchant(api, unique):
    code = f"MC{unique}"
    merchant_id = api.as_service().scalar("create_merchant", p_code=code, p_name=f"Shop {unique}",
                                          p_contact="0912", p_password="merchant-pass-1")
    return {"id": merchant_id, "code": code, "password": "merchant-pass-1"}


@pytest.fixture
def member(api, unique):
    return make_member(api, unique)


def phone_for(suffix, prefix="09"):
    """A well-formed phone number unique to the hex `suffix` (phones are digits only)."""
    return f"{prefix}{int(suffix, 16) % 10**8:08d}"


def make_member(api, suffix, password="member-pass-1", **extra):
    phone = phone_for(suffix)
    member_id = api.as_service().scalar("create_member_profile", p_name=f"Member {suffix}", p_phone=phone,
                                        p_email=f"{suffix}@example.com", p_password=password, **extra)
    return {"id": member_id, "phone": phone, "password": password}


def login_member(api, m) -> str:
    return api.as_anon().scalar("member_login", p_identifier=m["phone"], p_password=m["password"])["session_id"]


def login_merchant(api, m) -> str:
    return api.as_anon().scalar("merchant_login", p_merchant_code=m["code"], p_password=m["password"])["session_id"]


def standard_card(api, member_id):
    return api.as_service().execute(
        "select id from public.member_cards where owner_member_id = %s and card_type = 'standard'",
        (member_id,))[0]["id"]


class Shop:
    """A member with a recharged standard card and a merchant, as the contract's tests set up."""

    def __init__(self, api, member, merchant, amount="1000.00"):
        self.api, self.member, self.merchant = api, member, merchant
        self.card = standard_card(api, member["id"])
        self.svc = api.as_service()
        if amount:
            self.svc.rows("user_recharge_card", p_card_id=self.card, p_amount=Decimal(amount))

    def qr(self, card=None):
        return self.svc.rows("rotate_card_qr", p_card_id=card or self.card)[0]["qr_plain"]

    def charge(self, raw, card=None, **extra):
        return self.svc.rows("merchant_charge_by_qr", p_merchant_code=self.merchant["code"],
                             p_qr_plain=extra.pop("qr", None) or self.qr(card), p_raw_amount=raw, **extra)[0]

    def refund(self, tx_no, amount, **extra):
        return self.svc.rows("merchant_refund_tx", p_merchant_code=self.merchant["code"], p_original_tx_no=tx_no,
                             p_refund_amount=amount, **extra)[0]


@pytest.fixture
def shop(api, member, merchant):
    return Shop(api, member, merchant)
