//! What the import from the original MPS (migrate/from_legacy.sql) leaves behind that the
//! running system honours. The original let some things happen that mps_ext refuses; the
//! import keeps what the legacy database says and marks those rows instead of rewriting them.

/// The fingerprint an imported movement carries: the original kept no request parameters and
/// replayed any retry with the same idempotency key, so such a key still replays whatever the
/// retry carries.
pub const IMPORTED_FINGERPRINT: &str = "legacy";

/// The anomaly kind (mps_internal.legacy_anomalies) of an imported payment whose refunds
/// exceed it or disagree with its status: two refunds raced past it in the original, which
/// locked nothing. verify_ledger() accepts such a payment as imported; no new refund of it
/// passes, since nothing of it remains.
pub const REFUNDS_DISAGREE: &str = "payment_refunds_disagree";
