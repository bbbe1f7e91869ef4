use super::{required, value};
use pgrx::datum::Uuid;
use rust_decimal::Decimal;

/// A member's standard card (number from the card_no trigger) with its owner binding.
pub fn insert_standard_with_owner(owner: Uuid, level: i32, discount: Decimal) -> Uuid {
    let card: Option<Uuid> = value(
        "WITH card AS (
             INSERT INTO public.member_cards (card_type, owner_member_id, level, discount)
             VALUES ('standard', $1, $2, $3::numeric)
             RETURNING id)
         INSERT INTO public.card_bindings (card_id, member_id, role)
         SELECT id, $1, 'owner' FROM card
         RETURNING card_id",
        &[owner.into(), level.into(), discount.to_string().into()],
    );
    required(card, "member_cards.id")
}
