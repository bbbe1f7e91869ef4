//! The hard deletes behind delete_test_member / delete_test_merchant. Each statement removes
//! what the next one's foreign keys would still find, so no constraint is relaxed; the
//! caller holds the row locks.

use super::{execute, query, value};
use pgrx::datum::Uuid;

/// How much a clean-up removed, and the other members bound to the removed cards (their
/// corporate discount changes).
pub struct Removed {
    pub cards: usize,
    pub movements: usize,
    pub bound_members: Vec<Uuid>,
}

/// The movements of `card_filter`'s cards (a condition on `transactions`, `$1` the id),
/// with everything that points at them: idempotency keys, external order ids, their
/// registry rows, their audit events.
fn delete_movements(card_filter: &str, id: Uuid) -> usize {
    execute(
        &format!(
            "WITH moved AS (SELECT id FROM public.transactions WHERE {card_filter}),
                  keys AS (DELETE FROM public.idempotency_registry WHERE tx_id IN (SELECT id FROM moved)),
                  orders AS (DELETE FROM public.merchant_order_registry WHERE tx_id IN (SELECT id FROM moved)),
                  events AS (DELETE FROM audit.event_log WHERE object_id IN (SELECT id FROM moved)),
                  registry AS (DELETE FROM public.tx_registry WHERE tx_id IN (SELECT id FROM moved))
             DELETE FROM public.transactions WHERE id IN (SELECT id FROM moved)"
        ),
        &[id.into()],
    )
}

/// The holds matching `filter` (a condition on `card_holds`, `$1` the id) and their audit
/// events; before the movements, since a captured hold points at its payment.
fn delete_holds(filter: &str, id: Uuid) {
    execute(
        &format!(
            "WITH gone AS (DELETE FROM public.card_holds WHERE {filter} RETURNING id)
             DELETE FROM audit.event_log WHERE object_id IN (SELECT id FROM gone)"
        ),
        &[id.into()],
    );
}

/// Deletes the member with their cards and all those cards' history; None if there is no
/// such member. Their sessions, bindings, external identities and credentials go with the
/// rows they belong to (ON DELETE CASCADE).
pub fn delete_member(member_id: Uuid) -> Option<Removed> {
    value::<Uuid>("SELECT id FROM public.member_profiles WHERE id = $1 FOR UPDATE", &[member_id.into()])?;
    let cards = query(
        "SELECT id FROM public.member_cards WHERE owner_member_id = $1 ORDER BY id FOR UPDATE",
        &[member_id.into()],
        |r| r.get::<Uuid>(1),
    )
    .len();
    let bound_members = query(
        "SELECT DISTINCT b.member_id FROM public.card_bindings b JOIN public.member_cards c ON c.id = b.card_id
          WHERE c.owner_member_id = $1 AND b.member_id <> $1 ORDER BY 1",
        &[member_id.into()],
        |r| r.get::<Uuid>(1),
    )
    .into_iter()
    .flatten()
    .collect();
    const OWNED: &str = "card_id IN (SELECT id FROM public.member_cards WHERE owner_member_id = $1)";
    execute(&format!("DELETE FROM public.point_ledger WHERE {OWNED}"), &[member_id.into()]);
    delete_holds(OWNED, member_id);
    let movements = delete_movements(OWNED, member_id);
    execute(
        "DELETE FROM audit.event_log
          WHERE object_id = $1 OR object_id IN (SELECT id FROM public.member_cards WHERE owner_member_id = $1)",
        &[member_id.into()],
    );
    // the feed's events of the member and their cards (events have no foreign keys)
    execute(
        "DELETE FROM public.events
          WHERE member_id = $1 OR card_id IN (SELECT id FROM public.member_cards WHERE owner_member_id = $1)",
        &[member_id.into()],
    );
    execute("DELETE FROM public.member_cards WHERE owner_member_id = $1", &[member_id.into()]);
    execute("DELETE FROM public.member_profiles WHERE id = $1", &[member_id.into()]);
    Some(Removed { cards, movements, bound_members })
}

/// Deletes the merchant with its movements, settlements, staff and sessions; None if there
/// is no such merchant. The members' cards stay as they are: what the removed movements did
/// to a card's balance moves into its issued balance, and their points into one ledger row
/// (reason `test_cleanup`), so verify_ledger() still balances every card.
pub fn delete_merchant(merchant_id: Uuid) -> Option<Removed> {
    value::<Uuid>("SELECT id FROM public.merchants WHERE id = $1 FOR UPDATE", &[merchant_id.into()])?;
    const AT_MERCHANT: &str = "merchant_id = $1";
    let cards = query(
        "SELECT id FROM public.member_cards
          WHERE id IN (SELECT card_id FROM public.transactions WHERE merchant_id = $1) ORDER BY id FOR UPDATE",
        &[merchant_id.into()],
        |r| r.get::<Uuid>(1),
    )
    .len();
    execute(
        "UPDATE public.member_cards c SET issued_balance = c.issued_balance + d.delta
           FROM (SELECT card_id, sum(CASE tx_type WHEN 'payment' THEN -final_amount ELSE final_amount END) AS delta
                   FROM public.transactions
                  WHERE merchant_id = $1 AND status IN ('completed', 'refunded')
                  GROUP BY card_id) d
          WHERE c.id = d.card_id",
        &[merchant_id.into()],
    );
    execute(
        "INSERT INTO public.point_ledger (card_id, change, balance_before, balance_after, reason)
         SELECT l.card_id, sum(l.change), c.points - sum(l.change), c.points, 'test_cleanup'
           FROM public.point_ledger l JOIN public.member_cards c ON c.id = l.card_id
          WHERE l.tx_id IN (SELECT id FROM public.transactions WHERE merchant_id = $1)
          GROUP BY l.card_id, c.points
         HAVING sum(l.change) <> 0",
        &[merchant_id.into()],
    );
    execute(
        "DELETE FROM public.point_ledger WHERE tx_id IN (SELECT id FROM public.transactions WHERE merchant_id = $1)",
        &[merchant_id.into()],
    );
    delete_holds(AT_MERCHANT, merchant_id);
    let movements = delete_movements(AT_MERCHANT, merchant_id);
    execute(
        "DELETE FROM audit.event_log
          WHERE object_id = $1 OR object_id IN (SELECT id FROM public.settlements WHERE merchant_id = $1)",
        &[merchant_id.into()],
    );
    execute("DELETE FROM public.events WHERE merchant_id = $1", &[merchant_id.into()]);
    execute("DELETE FROM public.merchants WHERE id = $1", &[merchant_id.into()]);
    Some(Removed { cards, movements, bound_members: Vec::new() })
}
