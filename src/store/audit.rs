use super::execute;
use pgrx::datum::{JsonB, Uuid};

/// One row in audit.event_log, written in the caller's transaction: it commits or rolls
/// back with the action it records.
pub fn record(
    actor_user_id: Option<Uuid>,
    actor_role: &str,
    action: &str,
    object_type: &str,
    object_id: Option<Uuid>,
    context: serde_json::Value,
) {
    execute(
        "INSERT INTO audit.event_log (actor_user_id, actor_role, action, object_type, object_id, context)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            actor_user_id.into(),
            actor_role.into(),
            action.into(),
            object_type.into(),
            object_id.into(),
            JsonB(context).into(),
        ],
    );
}
