use super::levels::ACTIVE_LEVELS;
use super::{decimal, execute, label, numeric, query, query_one, required, value};
use crate::domain::enums::{CardRole, CardStatus, CardType};
use crate::domain::levels::Level;
use crate::domain::DbEnum;
use pgrx::datum::{AnyNumeric, JsonB, TimestampWithTimeZone, Uuid};
use rust_decimal::Decimal;

/// What the rules need to know about a card.
pub struct Card {
    pub id: Uuid,
    pub card_type: CardType,
    pub status: CardStatus,
    pub owner_member_id: Option<Uuid>,
    pub expired: bool,
}

const CARD_COLUMNS: &str = "id, card_type::text, status::text, owner_member_id,
        COALESCE(expires_at <= pg_catalog.now(), false)";

fn read_card(r: &pgrx::spi::SpiHeapTupleData<'_>) -> pgrx::spi::SpiResult<Card> {
    Ok(Card {
        id: required(r.get::<Uuid>(1)?, "member_cards.id"),
        card_type: label(r.get::<String>(2)?, "member_cards.card_type"),
        status: label(r.get::<String>(3)?, "member_cards.status"),
        owner_member_id: r.get::<Uuid>(4)?,
        expired: r.get::<bool>(5)?.unwrap_or(false),
    })
}

pub fn get(card_id: Uuid) -> Option<Card> {
    query_one(&format!("SELECT {CARD_COLUMNS} FROM public.member_cards WHERE id = $1"), &[card_id.into()], read_card)
}

/// The card, row-locked until the end of the transaction. Lock order everywhere:
/// original transaction, then card, then member.
pub fn lock(card_id: Uuid) -> Option<Card> {
    query_one(
        &format!("SELECT {CARD_COLUMNS} FROM public.member_cards WHERE id = $1 FOR UPDATE"),
        &[card_id.into()],
        read_card,
    )
}

pub struct NewCard<'a> {
    pub card_type: CardType,
    pub owner: Uuid,
    pub name: Option<&'a str>,
    pub balance: Decimal,
    pub level: i32,
    pub discount: Decimal,
    pub fixed_discount: Option<Decimal>,
    pub expires_at: Option<TimestampWithTimeZone>,
}

/// A card (number from the card_no trigger) with its owner binding.
pub fn insert_with_owner(card: &NewCard) -> Uuid {
    let id: Option<Uuid> = value(
        "WITH card AS (
             INSERT INTO public.member_cards
                    (card_type, owner_member_id, name, balance, issued_balance, level, discount, fixed_discount, expires_at)
             VALUES ($1::public.card_type, $2, $3, $4, $4, $5, $6, $7, $8)
             RETURNING id)
         INSERT INTO public.card_bindings (card_id, member_id, role)
         SELECT id, $2, 'owner' FROM card
         RETURNING card_id",
        &[
            card.card_type.label().into(),
            card.owner.into(),
            card.name.into(),
            numeric(card.balance),
            card.level.into(),
            numeric(card.discount),
            card.fixed_discount.map(crate::datum::numeric).into(),
            card.expires_at.into(),
        ],
    );
    required(id, "member_cards.id")
}

/// The member's role on the card: `owner` for the owning member, else their active binding's.
pub fn member_role(card_id: Uuid, member_id: Uuid) -> Option<CardRole> {
    value::<String>(
        "SELECT CASE WHEN c.owner_member_id = $2 THEN 'owner' ELSE b.role::text END
           FROM public.member_cards c
           LEFT JOIN public.card_bindings b ON b.card_id = c.id AND b.member_id = $2 AND b.status = 'active'
          WHERE c.id = $1 AND (c.owner_member_id = $2 OR b.id IS NOT NULL)",
        &[card_id.into(), member_id.into()],
    )
    .map(|role| label(Some(role), "card_bindings.role"))
}

/// The role of the member's binding on the card, whatever its status.
pub fn binding_role(card_id: Uuid, member_id: Uuid) -> Option<CardRole> {
    value::<String>(
        "SELECT role::text FROM public.card_bindings WHERE card_id = $1 AND member_id = $2",
        &[card_id.into(), member_id.into()],
    )
    .map(|role| label(Some(role), "card_bindings.role"))
}

pub fn has_owner_binding(card_id: Uuid) -> bool {
    value::<bool>(
        "SELECT EXISTS (SELECT 1 FROM public.card_bindings WHERE card_id = $1 AND role = 'owner')",
        &[card_id.into()],
    ) == Some(true)
}

/// Binds (or re-binds, re-activating) a member with a role.
pub fn upsert_binding(card_id: Uuid, member_id: Uuid, role: CardRole) {
    execute(
        "INSERT INTO public.card_bindings (card_id, member_id, role) VALUES ($1, $2, $3::public.bind_role)
         ON CONFLICT (card_id, member_id) DO UPDATE SET role = EXCLUDED.role, status = 'active'",
        &[card_id.into(), member_id.into(), role.label().into()],
    );
}

pub fn delete_binding(card_id: Uuid, member_id: Uuid) -> bool {
    execute(
        "DELETE FROM public.card_bindings WHERE card_id = $1 AND member_id = $2",
        &[card_id.into(), member_id.into()],
    ) == 1
}

/// Members holding an active non-owner binding on the card, in id order (lock order).
pub fn bound_members(card_id: Uuid) -> Vec<Uuid> {
    query(
        "SELECT member_id FROM public.card_bindings
          WHERE card_id = $1 AND status = 'active' AND role <> 'owner' ORDER BY member_id",
        &[card_id.into()],
        |r| Ok(required(r.get::<Uuid>(1)?, "card_bindings.member_id")),
    )
}

/// Fixed discounts of the active corporate cards the member is actively bound to, other
/// than as owner.
pub fn bound_corporate_discounts(member_id: Uuid) -> Vec<Decimal> {
    query(
        "SELECT c.fixed_discount
           FROM public.card_bindings b
           JOIN public.member_cards c ON c.id = b.card_id
          WHERE b.member_id = $1 AND b.status = 'active' AND b.role <> 'owner'
            AND c.card_type = 'corporate' AND c.status = 'active' AND c.fixed_discount IS NOT NULL",
        &[member_id.into()],
        |r| Ok(decimal(r.get::<AnyNumeric>(1)?, "member_cards.fixed_discount")),
    )
}

/// Writes the member's corporate discount on their standard cards.
pub fn set_corporate_discount(member_id: Uuid, discount: Option<Decimal>) {
    execute(
        "UPDATE public.member_cards SET corporate_discount = $2
          WHERE owner_member_id = $1 AND card_type = 'standard'
            AND corporate_discount IS DISTINCT FROM $2",
        &[member_id.into(), discount.map(crate::datum::numeric).into()],
    );
}

pub fn set_status(card_id: Uuid, status: CardStatus) {
    execute(
        "UPDATE public.member_cards SET status = $2::public.card_status WHERE id = $1 AND status <> $2::public.card_status",
        &[card_id.into(), status.label().into()],
    );
}

/// The hash of the card's binding password, if it has one.
pub fn binding_password_hash(card_id: Uuid) -> Option<String> {
    value("SELECT password_hash FROM mps_internal.card_binding_passwords WHERE card_id = $1", &[card_id.into()])
}

pub fn set_binding_password_hash(card_id: Uuid, hash: &str) {
    execute(
        "INSERT INTO mps_internal.card_binding_passwords (card_id, password_hash) VALUES ($1, $2)
         ON CONFLICT (card_id) DO UPDATE SET password_hash = EXCLUDED.password_hash",
        &[card_id.into(), hash.into()],
    );
}

/// A card as a money movement needs it, row-locked until the end of the transaction.
pub struct MoneyCard {
    pub card: Card,
    pub owner_active: bool,
    pub balance: Decimal,
    pub points: i32,
    pub discount: Decimal,
    pub corporate_discount: Option<Decimal>,
    /// The active membership levels, read by the same statement: what the card's new
    /// points are worth.
    pub levels: Vec<Level>,
}

/// What the card's active, unexpired holds reserve (a scalar subquery on the card `$1`).
const HELD: &str = "SELECT COALESCE(sum(amount), 0) FROM public.card_holds
                     WHERE card_id = $1 AND status = 'active' AND expires_at > pg_catalog.now()";

/// What the card's holds reserve; asked only by what pays from the card (charges,
/// authorizations, captures), after `lock_for_money`. A statement of its own, after the
/// lock is held: its snapshot sees every hold committed by whoever held the card's lock
/// before (a subquery of the locking statement would read with the snapshot taken before
/// the wait), so concurrent authorizations and charges never overdraw a card.
pub fn held_on(card_id: Uuid) -> Decimal {
    let held =
        query_one(&format!("SELECT ({HELD})"), &[card_id.into()], |r| Ok(decimal(r.get::<AnyNumeric>(1)?, "held")));
    required(held, "held")
}

/// `held_on` for a card paying with a QR code, if the code with this digest is still the
/// card's live code: read in one statement after `lock_for_money_by_code`, which may have
/// waited for a rotation or revocation that has committed since.
pub fn held_on_while_live(card_id: Uuid, digest: &str) -> Option<Decimal> {
    query_one(
        &format!(
            "SELECT ({HELD}) FROM mps_internal.card_qr_tokens
              WHERE card_id = $1 AND token_hash = $2 AND expires_at > pg_catalog.now()"
        ),
        &[card_id.into(), digest.into()],
        |r| Ok(decimal(r.get::<AnyNumeric>(1)?, "held")),
    )
}

/// What the `lock_for_money` statements read: the card, its owner's standing, its money and
/// discounts, and the active levels; `rest` adds their joins, conditions and lock.
fn money_card(rest: &str) -> String {
    format!(
        "SELECT c.id, c.card_type::text, c.status::text, c.owner_member_id,
                COALESCE(c.expires_at <= pg_catalog.now(), false),
                COALESCE(p.status = 'active', true), c.balance, c.points, c.discount,
                c.corporate_discount, ({ACTIVE_LEVELS})
           FROM public.member_cards c
           LEFT JOIN public.member_profiles p ON p.id = c.owner_member_id
         {rest}"
    )
}

fn read_money_card(r: &pgrx::spi::SpiHeapTupleData<'_>) -> pgrx::spi::SpiResult<MoneyCard> {
    let corporate = r.get::<AnyNumeric>(10)?;
    Ok(MoneyCard {
        card: read_card(r)?,
        owner_active: r.get::<bool>(6)?.unwrap_or(false),
        balance: decimal(r.get::<AnyNumeric>(7)?, "member_cards.balance"),
        points: required(r.get::<i32>(8)?, "member_cards.points"),
        discount: decimal(r.get::<AnyNumeric>(9)?, "member_cards.discount"),
        corporate_discount: corporate.is_some().then(|| decimal(corporate, "member_cards.corporate_discount")),
        levels: super::levels::read(r.get::<JsonB>(11)?),
    })
}

/// The card, row-locked for a money movement until the end of the transaction.
pub fn lock_for_money(card_id: Uuid) -> Option<MoneyCard> {
    query_one(&money_card("WHERE c.id = $1 FOR UPDATE OF c"), &[card_id.into()], read_money_card)
}

/// The card whose live QR code has this digest, row-locked like `lock_for_money`: one
/// unique-index lookup of the digest and the card's lock in one statement. Whether the
/// code is still live once the lock is held is for `held_on_while_live` to say.
pub fn lock_for_money_by_code(digest: &str) -> Option<MoneyCard> {
    query_one(
        &money_card(
            "JOIN mps_internal.card_qr_tokens q ON q.card_id = c.id
              WHERE q.token_hash = $1 AND q.expires_at > pg_catalog.now()
                FOR UPDATE OF c",
        ),
        &[digest.into()],
        read_money_card,
    )
}

/// Applies a movement to the locked card: balance by `balance_delta`, points, level and
/// level discount to their new values.
pub fn apply_movement(card_id: Uuid, balance_delta: Decimal, points: i32, level: i32, discount: Decimal) {
    execute(
        "UPDATE public.member_cards
            SET balance = balance + $2, points = $3, level = $4, discount = $5
          WHERE id = $1",
        &[card_id.into(), numeric(balance_delta), points.into(), level.into(), numeric(discount)],
    );
}

pub fn find_by_card_no(card_no: &str) -> Option<Uuid> {
    value("SELECT id FROM public.member_cards WHERE card_no = $1", &[card_no.into()])
}
