use super::{execute, required, value};
use pgrx::datum::{TimestampWithTimeZone, Uuid};

/// Makes `digest` the card's one live code (its digest in mps_internal, its expiry also in
/// the readable card_qr_state) and appends it to the history; returns its expiry.
pub fn issue(card_id: Uuid, digest: &str, ttl_secs: i32, issued_by: Option<Uuid>) -> TimestampWithTimeZone {
    let expires_at: Option<TimestampWithTimeZone> = value(
        "WITH token AS (
             INSERT INTO mps_internal.card_qr_tokens (card_id, token_hash, expires_at)
             VALUES ($1, $2, pg_catalog.now() + pg_catalog.make_interval(secs => $3))
             ON CONFLICT (card_id) DO UPDATE SET token_hash = EXCLUDED.token_hash, expires_at = EXCLUDED.expires_at
             RETURNING card_id, expires_at),
         state AS (
             INSERT INTO public.card_qr_state (card_id, expires_at, updated_at)
             SELECT card_id, expires_at, pg_catalog.now() FROM token
             ON CONFLICT (card_id) DO UPDATE SET expires_at = EXCLUDED.expires_at, updated_at = EXCLUDED.updated_at)
         INSERT INTO public.card_qr_history (card_id, expires_at, issued_by)
         SELECT card_id, expires_at, $4 FROM token
         RETURNING expires_at",
        &[card_id.into(), digest.into(), f64::from(ttl_secs).into(), issued_by.into()],
    );
    required(expires_at, "card_qr_state.expires_at")
}

/// Ends the card's live code now; false if it had none.
pub fn revoke(card_id: Uuid) -> bool {
    execute(
        "WITH token AS (
             UPDATE mps_internal.card_qr_tokens SET expires_at = pg_catalog.now()
              WHERE card_id = $1 AND expires_at > pg_catalog.now()
             RETURNING card_id)
         UPDATE public.card_qr_state s SET expires_at = pg_catalog.now(), updated_at = pg_catalog.now()
           FROM token WHERE s.card_id = token.card_id",
        &[card_id.into()],
    ) == 1
}

/// The card whose live code has this digest: one unique-index lookup.
pub fn live_card(digest: &str) -> Option<Uuid> {
    value(
        "SELECT card_id FROM mps_internal.card_qr_tokens WHERE token_hash = $1 AND expires_at > pg_catalog.now()",
        &[digest.into()],
    )
}

/// Deletes codes that lapsed; returns how many.
pub fn delete_lapsed() -> i64 {
    execute(
        "WITH token AS (DELETE FROM mps_internal.card_qr_tokens WHERE expires_at <= pg_catalog.now())
         DELETE FROM public.card_qr_state WHERE expires_at <= pg_catalog.now()",
        &[],
    ) as i64
}
