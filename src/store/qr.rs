use super::{execute, required, value};
use pgrx::datum::{TimestampWithTimeZone, Uuid};

/// Makes `digest` the card's one live code and appends it to the history; returns its expiry.
pub fn issue(card_id: Uuid, digest: &str, ttl_secs: i32, issued_by: Option<Uuid>) -> TimestampWithTimeZone {
    let expires_at: Option<TimestampWithTimeZone> = value(
        "WITH state AS (
             INSERT INTO public.card_qr_state (card_id, token_hash, expires_at, updated_at)
             VALUES ($1, $2, pg_catalog.now() + pg_catalog.make_interval(secs => $3), pg_catalog.now())
             ON CONFLICT (card_id) DO UPDATE
                SET token_hash = EXCLUDED.token_hash, expires_at = EXCLUDED.expires_at, updated_at = EXCLUDED.updated_at
             RETURNING card_id, token_hash, expires_at)
         INSERT INTO public.card_qr_history (card_id, token_hash, expires_at, issued_by)
         SELECT card_id, token_hash, expires_at, $4 FROM state
         RETURNING expires_at",
        &[card_id.into(), digest.into(), f64::from(ttl_secs).into(), issued_by.into()],
    );
    required(expires_at, "card_qr_state.expires_at")
}

/// Ends the card's live code now; false if it had none.
pub fn revoke(card_id: Uuid) -> bool {
    execute(
        "UPDATE public.card_qr_state SET expires_at = pg_catalog.now(), updated_at = pg_catalog.now()
          WHERE card_id = $1 AND expires_at > pg_catalog.now()",
        &[card_id.into()],
    ) == 1
}

/// The card whose live code has this digest: one unique-index lookup.
pub fn live_card(digest: &str) -> Option<Uuid> {
    value(
        "SELECT card_id FROM public.card_qr_state WHERE token_hash = $1 AND expires_at > pg_catalog.now()",
        &[digest.into()],
    )
}

/// Deletes codes that lapsed; returns how many.
pub fn delete_lapsed() -> i64 {
    execute("DELETE FROM public.card_qr_state WHERE expires_at <= pg_catalog.now()", &[]) as i64
}

/// Whether the card's live code is still this one (checked again under the card lock,
/// since a rotation may have happened since the lookup).
pub fn is_live_for(card_id: Uuid, digest: &str) -> bool {
    value::<bool>(
        "SELECT EXISTS (SELECT 1 FROM public.card_qr_state
                         WHERE card_id = $1 AND token_hash = $2 AND expires_at > pg_catalog.now())",
        &[card_id.into(), digest.into()],
    ) == Some(true)
}
