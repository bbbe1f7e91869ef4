"""Money, model-checked: a hypothesis state machine drives charges by QR, refunds, recharges
(completing at once for service_role, pending for the card's member until confirmed or
cancelled), replays of keyed requests, card freezes, QR rotations and point adjustments
through a pool of connections, some of them fired together from threads, and checks every
reply against an exact Decimal model of this implementation's rules (src/domain/pricing.rs,
levels.rs, money.rs, idempotency.rs; src/rpc/payments.rs for the order of the checks):

* amounts are rounded to cents half away from zero on input, and every computation uses
  the rounded amount: final = round(raw × min(level discount, corporate discount), 2),
  points earned = floor(raw), the request's identity (fingerprint) is the rounded amount;
* the level and its discount follow the points through the active membership_levels;
* a refund may take at most the payment's final amount minus earlier refunds, and takes
  back the earned points in proportion (all of them when the payment is fully refunded);
* an idempotency key or external order id names one request in its scope (the merchant
  for payments, the card for recharges): the same request again replays the recorded
  movement (same tx_no, nothing moves, whatever happened to it since), another request
  under the same name is refused (IDEMPOTENCY_KEY_REUSED, EXTERNAL_ORDER_ID_REUSED). The tag
  is not part of a request's identity; a refund has no key (the same refund again is
  another refund, within the remainder);
* holds (src/rpc/holds.rs): an authorization reserves what a charge would cost now and
  records that rate; a charge or an authorization may use only the balance less the active
  holds; a capture pays all or part of the authorized raw amount at the recorded rate as an
  ordinary payment (refundable like any), once; a void releases an active hold once; keys
  name an authorization (per merchant; fingerprint = amount and code) and a capture (per
  merchant; fingerprint = the hold and the amount asked).

Calls made together must agree with the model applied in some serial order of them. After
every step the cards' balance, points, level and discount and the status of every
transaction of the run's cards equal the model's (and no other transaction exists); after
every run verify_ledger() finds nothing.

The run is deterministic (seed 0; MPS_MODEL_SEED=<n> explores other programs with the same
budget, MPS_MODEL_EXAMPLES=<n> changes the budget)."""

import collections
import copy
import hashlib
import itertools
import os
import time
import uuid
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, get_state_machine_test, invariant, rule
from psycopg.types.json import Jsonb

from conftest import make_member, standard_card
from mps import Api, admin_connect, fails
from test_money import run_concurrently

PERMISSION = "42501"
BUSINESS = "P0001"
D = Decimal
CENT = D("0.01")
MAX_AMOUNT = D("9999999999.99")  # numeric(12,2)
POOL_SIZE = 4
SEED = int(os.environ.get("MPS_MODEL_SEED", "0"))
EXAMPLES = int(os.environ.get("MPS_MODEL_EXAMPLES", "40"))
STEPS = 50
INITIAL_POINTS = (0, 990, 9990)  # just below the thresholds of levels 1 and 3
CORPORATE_DISCOUNT = D("0.900")  # card 2's member is bound to a corporate card with it


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def accepted_amount(amount: Decimal | None) -> Decimal | None:
    """The amount as the RPCs take it (money::amount): rounded to cents, positive, within
    numeric(12,2); None when it is refused."""
    if amount is None:
        return None
    rounded = cents(amount)
    return rounded if D(0) < rounded <= MAX_AMOUNT else None


# --- requests -------------------------------------------------------------------------------
# Callers: "service" (service_role, a super admin); "staff"/"other_staff" (a JWT of the
# merchant's own staff / of the other merchant's); "owner"/"other_member" (the JWT of the
# member who owns the card / of another member).

@dataclass(frozen=True)
class Charge:
    caller: str
    merchant: int
    qr: str
    raw: Decimal | None
    key: str | None = None
    order: str | None = None
    retry_tag: bool = False  # the tag is not part of a request's identity


@dataclass(frozen=True)
class Refund:
    caller: str
    merchant: int
    tx_no: str
    amount: Decimal | None


@dataclass(frozen=True)
class Recharge:
    caller: str
    card: int
    amount: Decimal | None
    method: str | None = None
    key: str | None = None
    order: str | None = None


@dataclass(frozen=True)
class Confirm:
    tx_no: str


@dataclass(frozen=True)
class Cancel:
    caller: str
    tx_no: str


@dataclass(frozen=True)
class Authorize:
    caller: str
    merchant: int
    qr: str
    raw: Decimal | None
    key: str | None = None


@dataclass(frozen=True)
class Capture:
    caller: str
    merchant: int
    hold_no: str
    raw: Decimal | None  # None: all of it
    key: str | None = None


@dataclass(frozen=True)
class Void:
    caller: str
    merchant: int
    hold_no: str


@dataclass(frozen=True)
class CardStatus:
    card: int
    freeze: bool


@dataclass(frozen=True)
class RotateQr:
    card: int


@dataclass(frozen=True)
class AdjustPoints:
    card: int
    delta: int


# --- the model ------------------------------------------------------------------------------

@dataclass
class Level:
    level: int
    min_points: int
    max_points: int | None
    discount: Decimal


@dataclass
class CardModel:
    balance: Decimal
    points: int
    corporate: Decimal | None
    status: str = "active"
    qr: str = ""
    old_qrs: list = field(default_factory=list)


@dataclass
class TxModel:
    tx_type: str  # payment, refund, recharge
    tx_id: uuid.UUID
    card: int
    merchant: int | None
    final: Decimal
    discount: Decimal = D("1.000")
    earned: int = 0
    status: str = "completed"
    refunded: Decimal = D(0)  # payments: what completed refunds gave back
    reversed: int = 0  # payments: the points refunds took back


@dataclass
class HoldModel:
    card: int
    merchant: int
    raw: Decimal
    discount: Decimal
    amount: Decimal
    row: dict  # as its authorization returned it (a replay returns it again)
    status: str = "active"


class Refused(tuple):
    """An expected error: (SQLSTATE, token), as fails() returns it."""

    def __new__(cls, sqlstate, token):
        return super().__new__(cls, (sqlstate, token))


class Model:
    """Cards 0..2 (standard; card i is member i's), merchants 0..1, and every movement the
    run made. `expect(request)` says what the request must do given the state: a
    Refused(sqlstate, token), or a function that checks the reply and applies it."""

    def __init__(self, card_ids, levels, corporate):
        self.card_ids = card_ids
        self.levels = levels
        self.cards = [CardModel(balance=D("0.00"), points=0, corporate=c) for c in corporate]
        self.txs: dict[str, TxModel] = {}
        self.tx_ids: set = set()
        self.holds: dict[str, HoldModel] = {}
        # (operation, scope, "key" | "order", value) → (fingerprint, tx_no)
        self.requests: dict[tuple, tuple] = {}

    def standing(self, points: int) -> tuple[int, Decimal]:
        matching = [lv for lv in self.levels
                    if lv.min_points <= points and (lv.max_points is None or points <= lv.max_points)]
        best = max(matching, key=lambda lv: lv.level, default=None)
        return (best.level, best.discount) if best else (0, D("1.000"))

    def observable(self):
        """What the database must hold: each card's balance, points, level, discount, corporate
        discount, status and the digest of its live QR code, and the status of every movement
        and hold of the cards."""
        cards = [(c.balance, c.points, *self.standing(c.points), c.corporate, c.status,
                  hashlib.sha256(c.qr.encode()).hexdigest() if c.qr else None) for c in self.cards]
        return cards, {no: tx.status for no, tx in self.txs.items()}, {no: h.status for no, h in self.holds.items()}

    def held(self, card: int) -> Decimal:
        return sum((h.amount for h in self.holds.values() if h.card == card and h.status == "active"), D("0.00"))

    def qr_card(self, qr: str) -> int | None:
        return next((i for i, c in enumerate(self.cards) if c.qr == qr), None)

    # Shared steps, in the order the RPCs take them.

    @staticmethod
    def authorize(caller: str) -> Refused | None:
        # service_role acts for every merchant; staff for their own only
        return Refused(PERMISSION, "NOT_AUTHORIZED_FOR_THIS_MERCHANT") if caller == "other_staff" else None

    def earlier(self, operation, scope, key, order, fingerprint):
        """The recorded movement a keyed request replays, a Refused, or None (a new one)."""
        for kind, value, reused in (("key", key, "IDEMPOTENCY_KEY_REUSED"),
                                    ("order", order, "EXTERNAL_ORDER_ID_REUSED")):
            if value is None or (operation, scope, kind, value) not in self.requests:
                continue
            recorded_fingerprint, tx_no = self.requests[(operation, scope, kind, value)]
            return Refused(BUSINESS, reused) if recorded_fingerprint != fingerprint else tx_no
        return None

    def check_new(self, tx_id, tx_no, prefix):
        assert tx_no.startswith(prefix) and len(tx_no) == 13 and tx_no[3:].isdigit(), tx_no
        assert tx_no not in self.txs and tx_id not in self.tx_ids, f"{tx_no} is not a new movement"

    def record(self, tx_no, tx: TxModel, operation=None, scope=None, key=None, order=None, fingerprint=None):
        self.txs[tx_no] = tx
        self.tx_ids.add(tx.tx_id)
        for kind, value in (("key", key), ("order", order)):
            if value is not None:
                self.requests[(operation, scope, kind, value)] = (fingerprint, tx_no)

    def replayed_row(self, tx_no, columns):
        tx = self.txs[tx_no]
        values = {"tx_id": tx.tx_id, "tx_no": tx_no, "card_id": self.card_ids[tx.card], "final_amount": tx.final,
                  "discount": tx.discount, "amount": tx.final}
        return {c: values[c] for c in columns}

    # The RPCs.

    def expect(self, request):
        return getattr(self, "expect_" + type(request).__name__.lower())(request)

    def expect_charge(self, r: Charge):
        raw = accepted_amount(r.raw)
        if raw is None:
            return Refused(BUSINESS, "INVALID_PRICE")
        if refused := self.authorize(r.caller):
            return refused
        fingerprint = ("payment", raw, r.qr, r.order or "")
        earlier = self.earlier("payment", r.merchant, r.key, r.order, fingerprint)
        if isinstance(earlier, Refused):
            return earlier
        columns = ("tx_id", "tx_no", "card_id", "final_amount", "discount")
        if earlier is not None:
            return self.replay(earlier, columns)
        if len(r.qr) < 16:
            return Refused(BUSINESS, "INVALID_QR")
        index = self.qr_card(r.qr)
        if index is None:
            return Refused(BUSINESS, "QR_EXPIRED_OR_INVALID")
        card = self.cards[index]
        if card.status != "active":
            return Refused(BUSINESS, "CARD_NOT_ACTIVE")
        discount = min(self.standing(card.points)[1], card.corporate or D("1.000"))
        final = cents(raw * discount)
        if card.balance - self.held(index) < final:
            return Refused(BUSINESS, "INSUFFICIENT_BALANCE")
        earned = min(int(raw // 1), 2**31 - 1 - card.points)  # points saturate at int4's maximum

        def accept(rows):
            assert len(rows) == 1, rows
            row = rows[0]
            self.check_new(row["tx_id"], row["tx_no"], "PAY")
            assert (row["card_id"], row["final_amount"], row["discount"]) == (self.card_ids[index], final, discount)
            assert str(row["final_amount"]) == str(final), "a final amount has two decimals"
            card.balance -= final
            card.points += earned
            self.record(row["tx_no"], TxModel("payment", row["tx_id"], index, r.merchant, final, discount, earned),
                        "payment", r.merchant, r.key, r.order, fingerprint)
        return accept

    def replay(self, tx_no, columns):
        def accept(rows):
            assert rows == [self.replayed_row(tx_no, columns)], f"a replay of {tx_no} returns it: {rows}"
        return accept

    def expect_authorize(self, r: Authorize):
        raw = accepted_amount(r.raw)
        if raw is None:
            return Refused(BUSINESS, "INVALID_PRICE")
        if refused := self.authorize(r.caller):
            return refused
        fingerprint = ("authorize", raw, r.qr)
        earlier = self.earlier("authorize", r.merchant, r.key, None, fingerprint)
        if isinstance(earlier, Refused):
            return earlier
        if earlier is not None:
            def replayed(rows):
                assert rows == [self.holds[earlier].row], f"a replay of {earlier} returns it: {rows}"
            return replayed
        if len(r.qr) < 16:
            return Refused(BUSINESS, "INVALID_QR")
        index = self.qr_card(r.qr)
        if index is None:
            return Refused(BUSINESS, "QR_EXPIRED_OR_INVALID")
        card = self.cards[index]
        if card.status != "active":
            return Refused(BUSINESS, "CARD_NOT_ACTIVE")
        discount = min(self.standing(card.points)[1], card.corporate or D("1.000"))
        amount = cents(raw * discount)
        if card.balance - self.held(index) < amount:
            return Refused(BUSINESS, "INSUFFICIENT_BALANCE")

        def accept(rows):
            assert len(rows) == 1, rows
            row = rows[0]
            no = row["hold_no"]
            assert no.startswith("HLD") and len(no) == 13 and no[3:].isdigit() and no not in self.holds, no
            assert (row["card_id"], row["amount"], row["discount"]) == (self.card_ids[index], amount, discount), row
            self.holds[no] = HoldModel(index, r.merchant, raw, discount, amount, row)
            if r.key is not None:
                self.requests[("authorize", r.merchant, "key", r.key)] = (fingerprint, no)
        return accept

    def expect_capture(self, r: Capture):
        raw = None if r.raw is None else accepted_amount(r.raw)
        if r.raw is not None and raw is None:
            return Refused(BUSINESS, "INVALID_PRICE")
        if refused := self.authorize(r.caller):
            return refused
        fingerprint = ("capture", r.hold_no, raw)
        earlier = self.earlier("capture", r.merchant, r.key, None, fingerprint)
        if isinstance(earlier, Refused):
            return earlier
        columns = ("tx_id", "tx_no", "card_id", "final_amount", "discount")
        if earlier is not None:
            return self.replay(earlier, columns)
        hold = self.holds.get(r.hold_no)
        if hold is None or hold.merchant != r.merchant:
            return Refused(BUSINESS, "HOLD_NOT_FOUND")
        if hold.status != "active":
            return Refused(BUSINESS, "HOLD_NOT_ACTIVE")
        raw = hold.raw if raw is None else raw
        if raw > hold.raw:
            return Refused(BUSINESS, "CAPTURE_EXCEEDS_HOLD")
        card = self.cards[hold.card]
        if card.status != "active":
            return Refused(BUSINESS, "CARD_NOT_ACTIVE")
        final = cents(raw * hold.discount)
        earned = min(int(raw // 1), 2**31 - 1 - card.points)

        def accept(rows):
            assert len(rows) == 1, rows
            row = rows[0]
            self.check_new(row["tx_id"], row["tx_no"], "PAY")
            assert (row["card_id"], row["final_amount"], row["discount"]) == \
                (self.card_ids[hold.card], final, hold.discount), row
            card.balance -= final
            card.points += earned
            hold.status = "captured"
            self.record(row["tx_no"], TxModel("payment", row["tx_id"], hold.card, r.merchant, final, hold.discount,
                                              earned), "capture", r.merchant, r.key, None, fingerprint)
        return accept

    def expect_void(self, r: Void):
        if refused := self.authorize(r.caller):
            return refused
        hold = self.holds.get(r.hold_no)
        if hold is None or hold.merchant != r.merchant:
            return Refused(BUSINESS, "HOLD_NOT_FOUND")
        if hold.status == "captured":
            return Refused(BUSINESS, "HOLD_NOT_ACTIVE")

        def accept(value):
            assert value is (hold.status == "active"), (value, hold.status)
            hold.status = "voided"
        return accept

    def expect_refund(self, r: Refund):
        amount = accepted_amount(r.amount)
        if amount is None:
            return Refused(BUSINESS, "INVALID_REFUND_AMOUNT")
        if refused := self.authorize(r.caller):
            return refused
        original = self.txs.get(r.tx_no)
        if original is None or original.merchant != r.merchant:
            return Refused(BUSINESS, "ORIGINAL_TX_NOT_FOUND")
        if original.tx_type != "payment":
            return Refused(BUSINESS, "ONLY_COMPLETED_PAYMENT_REFUNDABLE")
        if amount > original.final - original.refunded:
            return Refused(BUSINESS, "REFUND_EXCEEDS_REMAINING")
        card = self.cards[original.card]
        if card.status != "active":
            return Refused(BUSINESS, "CARD_NOT_ACTIVE")
        if card.balance + amount > MAX_AMOUNT:  # recharged up to the limit since it paid
            return Refused(BUSINESS, "INVALID_REFUND_AMOUNT")
        refunded = original.refunded + amount
        if refunded >= original.final:
            target = original.earned
        else:  # floor(earned × refunded / final), in whole cents: exact
            target = original.earned * int(refunded / CENT) // int(original.final / CENT)
        reversed_now = min(max(target - original.reversed, 0), original.earned, card.points)

        def accept(rows):
            assert len(rows) == 1, rows
            row = rows[0]
            self.check_new(row["refund_tx_id"], row["refund_tx_no"], "REF")
            assert row["refunded_amount"] == amount and str(row["refunded_amount"]) == str(amount), row
            card.balance += amount
            card.points -= reversed_now
            original.refunded = refunded
            original.reversed += reversed_now
            if refunded == original.final:
                original.status = "refunded"
            self.record(row["refund_tx_no"],
                        TxModel("refund", row["refund_tx_id"], original.card, r.merchant, amount, earned=-reversed_now))
        return accept

    def expect_recharge(self, r: Recharge):
        amount = accepted_amount(r.amount)
        if amount is None:
            return Refused(BUSINESS, "INVALID_RECHARGE_AMOUNT")
        if r.caller == "other_member":  # another's card looks like a missing one
            return Refused(BUSINESS, "CARD_NOT_FOUND_OR_INACTIVE")
        pending = r.caller == "owner"
        fingerprint = ("recharge", amount, r.method or "wechat", r.order or "")
        earlier = self.earlier("recharge", r.card, r.key, r.order, fingerprint)
        if isinstance(earlier, Refused):
            return earlier
        columns = ("tx_id", "tx_no", "card_id", "amount")
        if earlier is not None:
            return self.replay(earlier, columns)
        card = self.cards[r.card]
        if card.status != "active":
            return Refused(BUSINESS, "CARD_NOT_FOUND_OR_INACTIVE")
        if card.balance + amount > MAX_AMOUNT:
            return Refused(BUSINESS, "INVALID_RECHARGE_AMOUNT")

        def accept(rows):
            assert len(rows) == 1, rows
            row = rows[0]
            self.check_new(row["tx_id"], row["tx_no"], "RCG")
            assert (row["card_id"], row["amount"], str(row["amount"])) == (self.card_ids[r.card], amount, str(amount))
            if not pending:
                card.balance += amount
            self.record(row["tx_no"], TxModel("recharge", row["tx_id"], r.card, None, amount,
                                              status="processing" if pending else "completed"),
                        "recharge", r.card, r.key, r.order, fingerprint)
        return accept

    def recharge(self, tx_no) -> TxModel | None:
        tx = self.txs.get(tx_no)
        return tx if tx is not None and tx.tx_type == "recharge" else None

    def expect_confirm(self, r: Confirm):
        tx = self.recharge(r.tx_no)
        if tx is None:
            return Refused(BUSINESS, "TX_NOT_FOUND")
        columns = ("tx_id", "tx_no", "card_id", "amount")
        if tx.status == "completed":  # a webhook's retry: the same row, nothing credited
            return self.replay(r.tx_no, columns)
        if tx.status == "cancelled":
            return Refused(BUSINESS, "INVALID_STATUS_TRANSITION")
        card = self.cards[tx.card]
        if card.status != "active":  # stays pending
            return Refused(BUSINESS, "CARD_NOT_FOUND_OR_INACTIVE")
        if card.balance + tx.final > MAX_AMOUNT:
            return Refused(BUSINESS, "INVALID_RECHARGE_AMOUNT")

        def accept(rows):
            assert rows == [self.replayed_row(r.tx_no, columns)], rows
            card.balance += tx.final
            tx.status = "completed"
        return accept

    def expect_cancel(self, r: Cancel):
        tx = self.recharge(r.tx_no)
        if tx is None or (r.caller == "other_member"):  # to another member it does not exist
            return Refused(BUSINESS, "TX_NOT_FOUND")
        if tx.status == "completed":
            return Refused(BUSINESS, "INVALID_STATUS_TRANSITION")

        def accept(value):
            assert value is True, value
            tx.status = "cancelled"
        return accept

    def expect_cardstatus(self, r: CardStatus):
        card = self.cards[r.card]
        if not r.freeze and card.status != "inactive":
            return Refused(BUSINESS, "CARD_NOT_FROZEN")

        def accept(value):
            assert value is True, value
            card.status = "inactive" if r.freeze else "active"
        return accept

    def expect_rotateqr(self, r: RotateQr):
        card = self.cards[r.card]
        if card.status != "active":
            return Refused(BUSINESS, "CARD_NOT_ACTIVE")

        def accept(rows):
            assert len(rows) == 1 and len(rows[0]["qr_plain"]) == 44, rows
            if card.qr:
                card.old_qrs.append(card.qr)
            card.qr = rows[0]["qr_plain"]
        return accept

    def expect_adjustpoints(self, r: AdjustPoints):
        card = self.cards[r.card]

        def accept(value):
            assert value is True, value
            card.points = min(max(card.points + r.delta, 0), 2**31 - 1)
        return accept


# --- the machine ----------------------------------------------------------------------------

keys = st.one_of(st.none(), st.none(), st.sampled_from(["k0", "k1", "k2"]))
orders = st.one_of(st.none(), st.none(), st.none(), st.sampled_from(["o0", "o1"]))
methods = st.sampled_from([None, "wechat", "alipay", "cash"])
invalid_amounts = st.sampled_from([D("0"), D("-1"), D("0.004"), D("-0.005"), None, D("10000000000000")])


def amounts(typical_max):
    return st.one_of(
        st.decimals(min_value=D("0.01"), max_value=D(typical_max), places=2),
        st.decimals(min_value=D("0.001"), max_value=D("30"), places=3),  # rounded to cents on input
        st.sampled_from([D("0.005"), D("1"), D("999.99"), D("1000"), D("5000"), D("12000")]),
        invalid_amounts,
    )


class MoneyMachine(RuleBasedStateMachine):
    database: str = ""
    # calls made and seconds spent, by request type, over the whole test (for the summary)
    calls: collections.Counter = collections.Counter()
    seconds: collections.Counter = collections.Counter()

    def __init__(self):
        super().__init__()
        started = time.monotonic()
        self.pool = [Api(self.database) for _ in range(POOL_SIZE)]
        self.admin = admin_connect(self.database)
        self.admin.autocommit = True
        svc = self.pool[0].as_service()
        self.member_subs = [uuid.uuid4() for _ in range(3)]
        members = [make_member(self.pool[0], uuid.uuid4().hex[:10], password=None, p_binding_user_org="supabase",
                               p_binding_org_id=str(sub)) for sub in self.member_subs]
        card_ids = [standard_card(self.pool[0], m["id"]) for m in members]
        self.merchant_codes, self.staff_subs = [], []
        for _ in range(2):
            code = f"MM{uuid.uuid4().hex[:10]}"
            merchant_id = svc.scalar("create_merchant", p_code=code, p_name=f"Model shop {code}", p_contact="0912")
            staff = uuid.uuid4()
            self.admin.execute("insert into merchant_users (merchant_id, auth_user_id, role) values (%s, %s, 'staff')",
                               (merchant_id, staff))
            self.merchant_codes.append(code)
            self.staff_subs.append(staff)
        corporate = svc.scalar("create_corporate_card", p_owner_member_id=members[0]["id"],
                               p_fixed_discount=CORPORATE_DISCOUNT)
        svc.scalar("bind_member_to_card", p_card_id=corporate, p_member_id=members[2]["id"])
        levels = [Level(r["level"], r["min_points"], r["max_points"], r["discount"]) for r in self.admin.execute(
            "select level, min_points, max_points, discount from membership_levels where is_active").fetchall()]
        self.model = Model(card_ids, levels, corporate=[None, None, CORPORATE_DISCOUNT])
        for card, points in enumerate(INITIAL_POINTS):
            self.perform(0, AdjustPoints(card, points))
            self.perform(0, RotateQr(card))
            self.perform(0, Recharge("service", card, D("500")))
        self.seconds["set-up"] += time.monotonic() - started

    def teardown(self):
        started = time.monotonic()
        try:
            assert self.admin.execute("select * from verify_ledger()").fetchall() == []
        finally:
            self.seconds["verify_ledger"] += time.monotonic() - started
            for api in self.pool:
                api.close()
            self.admin.close()

    # Calling the RPCs.

    def request_as(self, api: Api, caller: str, card=None, merchant=None):
        if caller == "service":
            return api.as_service()
        if caller in ("staff", "other_staff"):
            return api.as_user(self.staff_subs[merchant if caller == "staff" else 1 - merchant])
        return api.as_user(self.member_subs[card if caller == "owner" else (card + 1) % 3])

    def send(self, api: Api, r):
        m = self.model
        if isinstance(r, Charge):
            return self.request_as(api, r.caller, merchant=r.merchant).rows(
                "merchant_charge_by_qr", p_merchant_code=self.merchant_codes[r.merchant], p_qr_plain=r.qr,
                p_raw_amount=r.raw, p_idempotency_key=r.key, p_external_order_id=r.order,
                p_tag=Jsonb({"retry": True} if r.retry_tag else {}))
        if isinstance(r, Refund):
            return self.request_as(api, r.caller, merchant=r.merchant).rows(
                "merchant_refund_tx", p_merchant_code=self.merchant_codes[r.merchant], p_original_tx_no=r.tx_no,
                p_refund_amount=r.amount)
        if isinstance(r, Recharge):
            method = {} if r.method is None else {"p_payment_method": r.method}
            return self.request_as(api, r.caller, card=r.card).rows(
                "user_recharge_card", p_card_id=m.card_ids[r.card], p_amount=r.amount, p_idempotency_key=r.key,
                p_external_order_id=r.order, **method)
        if isinstance(r, Authorize):
            return self.request_as(api, r.caller, merchant=r.merchant).rows(
                "merchant_authorize_by_qr", p_merchant_code=self.merchant_codes[r.merchant], p_qr_plain=r.qr,
                p_raw_amount=r.raw, p_idempotency_key=r.key)
        if isinstance(r, Capture):
            return self.request_as(api, r.caller, merchant=r.merchant).rows(
                "merchant_capture_hold", p_merchant_code=self.merchant_codes[r.merchant], p_hold_no=r.hold_no,
                p_raw_amount=r.raw, p_idempotency_key=r.key)
        if isinstance(r, Void):
            return self.request_as(api, r.caller, merchant=r.merchant).scalar(
                "merchant_void_hold", p_merchant_code=self.merchant_codes[r.merchant], p_hold_no=r.hold_no)
        if isinstance(r, Confirm):
            return api.as_service().rows("confirm_recharge", p_tx_no=r.tx_no)
        if isinstance(r, Cancel):
            tx = m.txs.get(r.tx_no)
            return self.request_as(api, r.caller, card=tx.card if tx else 0).scalar(
                "cancel_recharge", p_tx_no=r.tx_no, p_reason="model")
        if isinstance(r, CardStatus):
            return api.as_service().scalar("freeze_card" if r.freeze else "unfreeze_card", p_card_id=m.card_ids[r.card])
        if isinstance(r, RotateQr):
            return api.as_service().rows("rotate_card_qr", p_card_id=m.card_ids[r.card])
        if isinstance(r, AdjustPoints):
            return api.as_service().scalar("update_points_and_level", p_card_id=m.card_ids[r.card],
                                           p_delta_points=r.delta, p_reason="model")
        raise AssertionError(r)

    def perform(self, client: int, request):
        expected = self.model.expect(request)
        api = self.pool[client]
        started = time.monotonic()
        if isinstance(expected, Refused):
            assert fails(self.send, api, request) == expected, request
        else:
            expected(self.send(api, request))
        self.calls[type(request).__name__] += 1
        self.seconds[type(request).__name__] += time.monotonic() - started

    # Drawing requests from the state. Every draw has the same shape whatever the state (an
    # index into a list of the state, a fraction of an amount), so that hypothesis can replay
    # and shrink a run whose concurrent steps happened in another serial order.

    @staticmethod
    def pick(data, items, label):
        return items[data.draw(st.integers(0, 2**16), label=label) % len(items)]

    def draw_charge(self, data) -> Charge:
        m = self.model
        card = data.draw(st.integers(0, 2), label="card")
        qr_kind = data.draw(st.sampled_from(["live"] * 8 + ["stale", "malformed"]), label="qr")
        qr = {"live": m.cards[card].qr, "stale": (m.cards[card].old_qrs or ["A" * 44])[-1], "malformed": "short"}[qr_kind]
        # just within, at or just beyond what the card can pay at discount 1, or any amount
        near_balance = data.draw(st.sampled_from([None, None, D("-0.01"), D("0"), D("0.01"), D("50")]),
                                 label="amount near the balance")
        raw = data.draw(amounts("1500"), label="raw")
        return Charge(caller=data.draw(st.sampled_from(["service", "service", "staff", "other_staff"]), label="caller"),
                      merchant=data.draw(st.integers(0, 1), label="merchant"), qr=qr,
                      raw=raw if near_balance is None else m.cards[card].balance + near_balance,
                      key=data.draw(keys, label="key"), order=data.draw(orders, label="order"))

    def draw_authorize(self, data) -> Authorize:
        charge = self.draw_charge(data)
        return Authorize(charge.caller, charge.merchant, charge.qr, charge.raw, charge.key)

    def draw_hold(self, data) -> tuple[str, int]:
        """Mostly an active hold at its own merchant, else any hold, at either merchant, or none."""
        holds = self.model.holds
        active = [no for no, h in holds.items() if h.status == "active"]
        kind = data.draw(st.sampled_from(["active"] * 4 + ["any"]), label="which hold")
        hold_no = self.pick(data, {"active": active or list(holds) or ["HLD9999999999"],
                                   "any": list(holds) + ["HLD9999999999"]}[kind], "hold")
        hold = holds.get(hold_no)
        merchant = hold.merchant if hold is not None else 0
        other_merchant = data.draw(st.integers(0, 7), label="other merchant") == 0
        return hold_no, 1 - merchant if other_merchant else merchant

    def draw_capture(self, data) -> Capture:
        hold_no, merchant = self.draw_hold(data)
        hold = self.model.holds.get(hold_no)
        authorized = hold.raw if hold is not None else D("1")
        amount_kind = data.draw(st.sampled_from(["all", "all", "fraction", "fraction", "exactly", "a cent more",
                                                 "invalid"]), label="amount")
        fraction = data.draw(st.integers(1, 99), label="percent")
        invalid = data.draw(st.sampled_from([D("0"), D("-1"), D("0.004"), D("10000000000000")]), label="invalid")
        raw = {"all": None, "fraction": max(cents(authorized * fraction / 100), CENT), "exactly": authorized,
               "a cent more": authorized + CENT, "invalid": invalid}[amount_kind]
        return Capture(caller=data.draw(st.sampled_from(["service", "service", "staff", "other_staff"]),
                                        label="caller"),
                       merchant=merchant, hold_no=hold_no, raw=raw, key=data.draw(keys, label="key"))

    def draw_void(self, data) -> Void:
        hold_no, merchant = self.draw_hold(data)
        return Void(caller=data.draw(st.sampled_from(["service", "service", "staff", "other_staff"]), label="caller"),
                    merchant=merchant, hold_no=hold_no)

    def draw_refund(self, data) -> Refund:
        m = self.model
        payments = [no for no, tx in m.txs.items() if tx.tx_type == "payment"]
        others = [no for no, tx in m.txs.items() if tx.tx_type != "payment"] + ["PAY9999999999"]
        of_payment = data.draw(st.integers(0, 5), label="of a payment") > 0
        tx_no = self.pick(data, payments if of_payment and payments else others, "original")
        tx = m.txs.get(tx_no)
        merchant = tx.merchant if tx is not None and tx.merchant is not None else 0
        other_merchant = data.draw(st.integers(0, 5), label="other merchant") == 0
        remaining = tx.final - tx.refunded if tx is not None else D("1")
        amount_kind = data.draw(st.sampled_from(
            ["all", "all", "fraction", "fraction", "fraction", "all less a cent", "a cent more", "0.004 more",
             "0.005 more", "a cent", "invalid"]), label="amount")
        fraction = data.draw(st.integers(1, 99), label="percent")
        invalid = data.draw(invalid_amounts, label="invalid amount")
        amount = {"all": remaining, "fraction": cents(remaining * fraction / 100), "all less a cent": remaining - CENT,
                  "a cent more": remaining + CENT, "0.004 more": remaining + D("0.004"),
                  "0.005 more": remaining + D("0.005"), "a cent": CENT, "invalid": invalid}[amount_kind]
        return Refund(caller=data.draw(st.sampled_from(["service", "service", "staff", "other_staff"]),
                                       label="caller"),
                      merchant=1 - merchant if other_merchant else merchant, tx_no=tx_no, amount=amount)

    def draw_recharge(self, data) -> Recharge:
        return Recharge(caller=data.draw(st.sampled_from(["service", "service", "owner", "owner", "other_member"]),
                                         label="caller"),
                        card=data.draw(st.integers(0, 2), label="card"),
                        amount=data.draw(st.one_of(amounts("3000"), st.just(D("9999999999"))), label="amount"),
                        method=data.draw(methods, label="method"),
                        key=data.draw(keys, label="key"), order=data.draw(orders, label="order"))

    def draw_recharge_no(self, data) -> str:
        """Mostly a pending recharge, else any recharge, any movement or none."""
        txs = self.model.txs
        recharges = [no for no, tx in txs.items() if tx.tx_type == "recharge"]
        pending = [no for no in recharges if txs[no].status == "processing"]
        kind = data.draw(st.sampled_from(["pending"] * 4 + ["recharge", "any"]), label="which")
        return self.pick(data, {"pending": pending or recharges, "recharge": recharges,
                                "any": list(txs) + ["RCG9999999999"]}[kind], "tx")

    def draw_replay(self, data):
        """An earlier keyed charge or recharge again: the same request (perhaps with its amount
        written differently, another tag, another caller allowed to make it), or a different
        one under the same key or order id."""
        m = self.model
        keyed = sorted({(fp, no) for fp, no in m.requests.values() if fp[0] in ("payment", "recharge")},
                       key=lambda p: p[1])
        earlier = data.draw(st.integers(0, 2**16), label="earlier")
        change = data.draw(st.sampled_from(["same", "same", "rewritten", "amount", "order", "drop_key", "other"]),
                           label="change")
        caller = data.draw(st.sampled_from(["service", "own"]), label="caller")
        default_method = data.draw(st.booleans(), label="default method")
        if not keyed:
            return Confirm("RCG9999999999")
        fingerprint, tx_no = keyed[earlier % len(keyed)]
        tx = m.txs[tx_no]
        names = {kind: value for (op, scope, kind, value), (_, no) in m.requests.items() if no == tx_no}
        amount = fingerprint[1]
        amount = {"rewritten": amount + D("0.004"), "amount": amount + CENT}.get(change, amount)
        order = "o9" if change == "order" else names.get("order")
        key = None if change == "drop_key" and "order" in names else names.get("key")
        if fingerprint[0] == "payment":
            qr = self.model.cards[(tx.card + 1) % 3].qr if change == "other" else fingerprint[2]
            return Charge("staff" if caller == "own" else caller, tx.merchant, qr, amount, key, order, retry_tag=True)
        method = fingerprint[2] if change != "other" else ("cash" if fingerprint[2] != "cash" else "alipay")
        if method == "wechat" and default_method:
            method = None
        return Recharge("owner" if caller == "own" else caller, tx.card, amount, method, key, order)

    def draw_any(self, data):
        kind = data.draw(st.sampled_from(["charge"] * 4 + ["refund"] * 3 + ["recharge"] * 3 + ["replay"] * 2 +
                                         ["authorize"] * 3 + ["capture"] * 2 +
                                         ["void", "confirm", "cancel", "freeze", "rotate_qr", "adjust_points"]),
                         label="kind")
        card = data.draw(st.integers(0, 2), label="card")
        if kind == "freeze":  # unfreeze half the time: a card stays frozen for a while
            return CardStatus(card, freeze=data.draw(st.booleans(), label="freeze"))
        if kind == "rotate_qr":
            return RotateQr(card)
        if kind == "adjust_points":
            return AdjustPoints(card, data.draw(st.sampled_from([-5000, -1000, -10, 10, 1000, 5000]), label="delta"))
        if kind == "charge":
            return self.draw_charge(data)
        if kind == "authorize":
            return self.draw_authorize(data)
        if kind == "capture":
            return self.draw_capture(data)
        if kind == "void":
            return self.draw_void(data)
        if kind == "refund":
            return self.draw_refund(data)
        if kind == "recharge":
            return self.draw_recharge(data)
        if kind == "confirm":
            return Confirm(self.draw_recharge_no(data))
        if kind == "cancel":
            caller = data.draw(st.sampled_from(["service", "owner", "owner", "other_member"]), label="caller")
            return Cancel(caller, self.draw_recharge_no(data))
        return self.draw_replay(data)

    # Rules.

    @rule(client=st.integers(0, POOL_SIZE - 1), data=st.data())
    def call(self, client, data):
        """One charge, refund, recharge, confirmation, cancellation, replay, card freeze or
        unfreeze, QR rotation or points adjustment, on one of the pool's connections."""
        self.perform(client, self.draw_any(data))

    @rule(data=st.data())
    def concurrently(self, data):
        """2–4 calls at once, each on its own connection: the replies must be those of some
        serial order of them, and the model moves on in that order."""
        calls = data.draw(st.integers(2, 4), label="calls")
        requests = [self.draw_any(data) for _ in range(calls)]
        started = time.monotonic()
        replies = run_concurrently(self.database, len(requests), lambda api, i: self.send(api, requests[i]))
        self.calls["concurrent"] += len(requests)
        self.seconds["concurrent"] += time.monotonic() - started
        explained, failures = [], []
        for order in itertools.permutations(range(len(requests))):
            trial = copy.deepcopy(self.model)
            try:
                for i in order:
                    expected, (kind, reply) = trial.expect(requests[i]), replies[i]
                    if isinstance(expected, Refused):
                        assert (kind, reply) == ("error", expected), f"call {i}: {reply}, expected {expected}"
                    else:
                        assert kind == "ok", f"call {i}: {reply}"
                        expected(reply)
            except AssertionError as e:
                failures.append(f"order {order}: {e}")
                continue
            explained.append(trial)
        assert explained, f"no serial order explains the replies {replies} to {requests}: {failures}"
        # Orders that give the same replies may leave different states (a member's recharge
        # and service_role's with the same order id: whichever came first decides whether
        # the movement is pending or completed; of two rotations of one card's code, the
        # later is live); the database says which happened.
        observed = self.observed()
        self.model = next((m for m in explained if m.observable() == observed), explained[0])

    # The database agrees with the model after every step.

    def observed(self):
        """The cards and the movements as the database has them, in Model.observable()'s shape."""
        m = self.model
        cards = {r["id"]: r for r in self.admin.execute(
            "select c.id, c.balance, c.points, c.level, c.discount, c.corporate_discount, c.status::text,"
            "       t.token_hash"
            "  from member_cards c left join mps_internal.card_qr_tokens t on t.card_id = c.id"
            " where c.id = any(%s)", (m.card_ids,)).fetchall()}
        movements = {r["tx_no"]: r["status"] for r in self.admin.execute(
            "select tx_no, status::text from transactions where card_id = any(%s)", (m.card_ids,)).fetchall()}
        holds = {r["hold_no"]: r["status"] for r in self.admin.execute(
            "select hold_no, status::text from card_holds where card_id = any(%s)", (m.card_ids,)).fetchall()}
        return [tuple(cards[card_id].values())[1:] for card_id in m.card_ids], movements, holds

    @invariant()
    def database_matches_model(self):
        started = time.monotonic()
        (cards, movements, holds), (expected_cards, expected_movements, expected_holds) = \
            self.observed(), self.model.observable()
        for i, (card, expected) in enumerate(zip(cards, expected_cards)):
            # balance, points, level, discount, corporate discount, status, live QR code
            assert card == expected, f"card {i}: {card} in the database, {expected} in the model"
        assert movements == expected_movements
        assert holds == expected_holds
        self.seconds["invariant"] += time.monotonic() - started


def test_money_model(database):
    MoneyMachine.database = database
    run = get_state_machine_test(MoneyMachine, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, database=None, print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]))
    started = time.monotonic()
    try:
        seed(SEED)(run)()
    except BaseException as e:
        e.add_note(f"test_money_model: seed {SEED} (MPS_MODEL_SEED={SEED} runs this program again)")
        raise
    finally:
        print(f"money model: seed {SEED}, {time.monotonic() - started:.1f} s;",
              ", ".join(f"{name} {MoneyMachine.calls[name]} calls {spent:.1f} s"
                        for name, spent in MoneyMachine.seconds.most_common()))
