use super::{decimal, execute, label, numeric, query_one, required};
use crate::domain::enums::{PayMethod, TxStatus, TxType};
use crate::domain::partitions;
use crate::domain::DbEnum;
use pgrx::datum::{AnyNumeric, JsonB, TimestampWithTimeZone, Uuid};
use pgrx::pg_sys;
use rust_decimal::Decimal;
use std::ffi::CString;

/// A movement as the contract's RPCs return it.
pub struct Recorded {
    pub tx_id: Uuid,
    pub tx_no: String,
    pub card_id: Uuid,
    pub final_amount: Decimal,
    pub discount: Decimal,
    pub fingerprint: Option<String>,
}

/// The earlier movement recorded under this idempotency key or external order id
/// (`key_kind` 'key' or 'order') in this scope, whatever happened to it since: a refunded
/// payment still replays.
///
/// The registries are read on their own: nearly every request carries a new key, and the
/// movement is read only for a replay, in its partition (see `Filed`).
pub fn find_earlier(operation: &str, scope: Uuid, key_kind: &str, key: &str) -> Option<Recorded> {
    let filed = query_one(
        "SELECT k.tx_id, r.created_at
           FROM public.idempotency_registry k JOIN public.tx_registry r ON r.tx_id = k.tx_id
          WHERE k.operation = $1::public.request_operation AND k.scope_id = $2
            AND k.key_kind = $3::public.request_key_kind AND k.idempotency_key = $4",
        &[operation.into(), scope.into(), key_kind.into(), key.into()],
        read_filed,
    )?;
    let sql = "SELECT t.id, t.tx_no, t.card_id, t.final_amount, t.discount_applied, t.request_fingerprint
                 FROM {transactions} t WHERE t.id = $1";
    in_partition(&filed.partition, sql, |sql| {
        query_one(sql, &[filed.id.into()], |r| {
            Ok(Recorded {
                tx_id: required(r.get::<Uuid>(1)?, "transactions.id"),
                tx_no: required(r.get::<String>(2)?, "transactions.tx_no"),
                card_id: required(r.get::<Uuid>(3)?, "transactions.card_id"),
                final_amount: decimal(r.get::<AnyNumeric>(4)?, "transactions.final_amount"),
                discount: decimal(r.get::<AnyNumeric>(5)?, "transactions.discount_applied"),
                fingerprint: r.get::<String>(6)?,
            })
        })
    })
}

pub struct NewTx<'a> {
    pub tx_type: TxType,
    pub card_id: Uuid,
    pub merchant_id: Option<Uuid>,
    pub raw_amount: Decimal,
    pub discount: Decimal,
    pub final_amount: Decimal,
    pub points_earned: i32,
    pub reason: Option<&'a str>,
    pub payment_method: Option<PayMethod>,
    pub external_order_id: Option<&'a str>,
    pub idempotency_key: Option<&'a str>,
    /// A refund's payment: its id and number (the number goes into the feed event).
    pub original: Option<(Uuid, &'a str)>,
    pub processed_by: Option<Uuid>,
    pub tag: serde_json::Value,
    pub fingerprint: Option<String>,
    /// Where its idempotency key and external order id are unique: ('payment', merchant),
    /// ('refund', merchant) or ('recharge', card).
    pub request_scope: Option<(&'a str, Uuid)>,
}

/// The card side of a movement: its balance change and new points, level and level discount.
pub struct CardChange {
    pub balance_delta: Decimal,
    pub points_before: i32,
    pub points_after: i32,
    pub level: i32,
    pub level_discount: Decimal,
    /// The point ledger's reason, when the movement writes a ledger row.
    pub ledger_reason: Option<&'static str>,
}

/// Who did it, for the audit row.
pub struct Actor<'a> {
    pub user_id: Option<Uuid>,
    pub role: &'a str,
    pub action: &'a str,
    pub context: serde_json::Value,
}

/// How a movement is recorded: completed, with its effect on the (already locked) card and
/// its audit row; or pending (`processing`), a member's recharge waiting for its payment to
/// be confirmed, which touches neither the card nor the ledger nor the audit log.
pub enum Outcome<'a> {
    Completed(&'a CardChange, &'a Actor<'a>),
    Pending,
}

/// A recorded movement: its id and number, and whether its stamp fell inside a period
/// the merchant has already settled (see `record`).
pub struct Stamped {
    pub tx_id: Uuid,
    pub tx_no: String,
    pub inside_settled_period: bool,
}

/// Everything one money movement writes, in one statement: the transaction row, its
/// registries and, when completed, the card's balance, points and level, the ledger row,
/// the audit row and its event (the feed's `payment`, `refund` or `recharge`). The card's
/// `updated_at` is set here, which spares the row its trigger (sql/12_triggers.sql).
///
/// The movement is stamped with the time it really happens (clock_timestamp(), not the
/// transaction's start): a movement of a merchant is recorded only while it holds off the
/// merchant's settlement runs (`rpc::payments::earlier_request`), so a settlement that did not see it
/// ended its period before this stamp. Its registries and ledger and audit rows carry the same
/// stamp. `inside_settled_period` says whether a live settlement of the merchant nevertheless
/// covers the stamp (a clock that went back); the caller refuses the movement then.
pub fn record(tx: &NewTx, outcome: Outcome) -> Stamped {
    let (status, card, actor) = match outcome {
        Outcome::Completed(card, actor) => (TxStatus::Completed, Some(card), Some(actor)),
        Outcome::Pending => (TxStatus::Processing, None, None),
    };
    let row = query_one(
        "WITH stamp AS (SELECT pg_catalog.clock_timestamp() AS at),
         tx AS (
             INSERT INTO public.transactions
                    (tx_no, tx_type, card_id, merchant_id, raw_amount, discount_applied, final_amount, points_earned,
                     status, reason, payment_method, external_order_id, idempotency_key, original_tx_id,
                     processed_by_user_id, tag, request_fingerprint, created_at, updated_at)
             SELECT mps_internal.tx_no($1::public.tx_type, pg_catalog.nextval('public.seq_tx_no')), $1::public.tx_type, $2, $3,
                    $4, $5, $6, $7, $28::public.tx_status, $8, $9::public.pay_method, $10,
                    $11, $12, $13, $14, $15, stamp.at, stamp.at
               FROM stamp
             RETURNING id, tx_no, created_at),
         card AS (
             UPDATE public.member_cards
                SET balance = balance + $16, points = $18, level = $19, discount = $20,
                    updated_at = pg_catalog.now()
              WHERE id = $2 AND $28 = 'completed'
             RETURNING balance, owner_member_id),
         event AS (
             INSERT INTO public.events (occurred_at, event_type, card_id, member_id, merchant_id, tx_no, amount,
                                        balance_after, payload)
             SELECT tx.created_at, $1::public.event_type, $2, card.owner_member_id, $3, tx.tx_no, $6, card.balance,
                    CASE WHEN $29::text IS NULL THEN pg_catalog.jsonb_build_object('tag', $14::jsonb)
                         ELSE pg_catalog.jsonb_build_object('tag', $14::jsonb, 'original_tx_no', $29::text) END
               FROM tx, card),
         ledger AS (
             INSERT INTO public.point_ledger (card_id, tx_id, change, balance_before, balance_after, reason, created_at)
             SELECT $2, tx.id, $18 - $17, $17, $18, $21, tx.created_at FROM tx WHERE $21 IS NOT NULL),
         audit AS (
             INSERT INTO audit.event_log (happened_at, actor_user_id, actor_role, action, object_type, object_id, context)
             SELECT tx.created_at, $22, $23, $24, 'transactions', tx.id, $25 FROM tx WHERE $24 IS NOT NULL),
         registry AS (
             INSERT INTO public.tx_registry (tx_no, tx_id, created_at) SELECT tx_no, id, created_at FROM tx),
         requests AS (
             INSERT INTO public.idempotency_registry (operation, scope_id, key_kind, idempotency_key, tx_id, created_at)
             SELECT $26::public.request_operation, $27, request.kind, request.id, tx.id, tx.created_at
               FROM tx, (VALUES ('key'::public.request_key_kind, $11), ('order', $10)) AS request (kind, id)
              WHERE request.id IS NOT NULL AND $26 IS NOT NULL)
         SELECT id, tx_no,
                EXISTS (SELECT 1 FROM public.settlements s
                         WHERE s.merchant_id = $3 AND s.status <> 'failed' AND s.period_end > tx.created_at)
           FROM tx",
        &[
            tx.tx_type.label().into(),
            tx.card_id.into(),
            tx.merchant_id.into(),
            numeric(tx.raw_amount),
            numeric(tx.discount),
            numeric(tx.final_amount),
            tx.points_earned.into(),
            tx.reason.into(),
            tx.payment_method.map(PayMethod::label).into(),
            tx.external_order_id.into(),
            tx.idempotency_key.into(),
            tx.original.map(|(id, _)| id).into(),
            tx.processed_by.into(),
            JsonB(tx.tag.clone()).into(),
            tx.fingerprint.as_deref().into(),
            card.map(|c| crate::datum::numeric(c.balance_delta)).into(),
            card.map(|c| c.points_before).into(),
            card.map(|c| c.points_after).into(),
            card.map(|c| c.level).into(),
            card.map(|c| crate::datum::numeric(c.level_discount)).into(),
            card.and_then(|c| c.ledger_reason).into(),
            actor.and_then(|a| a.user_id).into(),
            actor.map(|a| a.role).into(),
            actor.map(|a| a.action).into(),
            actor.map(|a| JsonB(a.context.clone())).into(),
            tx.request_scope.map(|(operation, _)| operation).into(),
            tx.request_scope.map(|(_, scope)| scope).into(),
            status.label().into(),
            tx.original.map(|(_, no)| no).into(),
        ],
        |r| {
            Ok(Stamped {
                tx_id: required(r.get::<Uuid>(1)?, "transactions.id"),
                tx_no: required(r.get::<String>(2)?, "transactions.tx_no"),
                inside_settled_period: required(r.get::<bool>(3)?, "inside settled period"),
            })
        },
    );
    required(row, "recorded movement")
}

/// A movement locked for a follow-up: a payment being refunded, a recharge being
/// confirmed or cancelled.
pub struct Original {
    pub id: Uuid,
    /// The partition of transactions that holds it (see `Filed`).
    partition: String,
    pub tx_no: String,
    pub tx_type: TxType,
    pub status: TxStatus,
    pub card_id: Uuid,
    pub final_amount: Decimal,
    pub points_earned: i32,
    pub payment_method: Option<PayMethod>,
}

const ORIGINAL_COLUMNS: &str = "t.id, t.tableoid::regclass::text, t.tx_no, t.tx_type::text, t.status::text,
        t.card_id, t.final_amount, t.points_earned, t.payment_method::text";

fn read_original(r: &pgrx::spi::SpiHeapTupleData<'_>) -> pgrx::spi::SpiResult<Original> {
    Ok(Original {
        id: required(r.get::<Uuid>(1)?, "transactions.id"),
        partition: required(r.get::<String>(2)?, "transactions.tableoid"),
        tx_no: required(r.get::<String>(3)?, "transactions.tx_no"),
        tx_type: label(r.get::<String>(4)?, "transactions.tx_type"),
        status: label(r.get::<String>(5)?, "transactions.status"),
        card_id: required(r.get::<Uuid>(6)?, "transactions.card_id"),
        final_amount: decimal(r.get::<AnyNumeric>(7)?, "transactions.final_amount"),
        points_earned: required(r.get::<i32>(8)?, "transactions.points_earned"),
        payment_method: r.get::<String>(9)?.map(|method| label(Some(method), "transactions.payment_method")),
    })
}

/// Where the movement with that number is filed: its id and the partition of transactions
/// that holds it, its month's by its stamp (tx_registry keeps the movement's created_at;
/// verify_ledger() checks that they agree), else the default partition. A follow-up reads
/// and writes that partition by key through a kept plan (`in_partition`): a kept plan on
/// the partitioned table turns generic and, in PostgreSQL 15, locks every partition at
/// each run (one more every month); planning each call to prune costs more than that.
struct Filed {
    id: Uuid,
    partition: String,
}

fn filed(tx_no: &str) -> Option<Filed> {
    query_one("SELECT tx_id, created_at FROM public.tx_registry WHERE tx_no = $1", &[tx_no.into()], read_filed)
}

/// A movement's id and stamp, as a `Filed`.
fn read_filed(r: &pgrx::spi::SpiHeapTupleData<'_>) -> pgrx::spi::SpiResult<Filed> {
    let stamp = required(r.get::<TimestampWithTimeZone>(2)?, "tx_registry.created_at");
    Ok(Filed { id: required(r.get::<Uuid>(1)?, "tx_registry.tx_id"), partition: partition_for(stamp) })
}

/// The partition of transactions for a stamp: its month's if that is a partition, else
/// the default one. Two catalog-cache look-ups, no statement.
fn partition_for(stamp: TimestampWithTimeZone) -> String {
    let month = partitions::month_partition(stamp.into_inner());
    let name = CString::new(month.as_str()).expect("a partition name has no NUL");
    // SAFETY: both look-ups read the catalog caches and return InvalidOid / false for a
    // name or relation that does not exist.
    let is_partition = unsafe {
        let schema = pg_sys::get_namespace_oid(c"mps_internal".as_ptr(), true);
        let relation = pg_sys::get_relname_relid(name.as_ptr(), schema);
        relation != pg_sys::InvalidOid && pg_sys::get_rel_relispartition(relation)
    };
    if is_partition {
        format!("mps_internal.{month}")
    } else {
        "mps_internal.transactions_default".to_owned()
    }
}

/// Runs `sql`, whose `{transactions}` names the table, on the movement's partition; if
/// that finds no row (a partition made since, into which the default partition's rows of
/// its month moved), on the partitioned table itself.
fn in_partition<T>(partition: &str, sql: &str, run: impl Fn(&str) -> Option<T>) -> Option<T> {
    run(&sql.replace("{transactions}", partition))
        .or_else(|| run(&sql.replace("{transactions}", "public.transactions")))
}

/// The merchant's transaction with that number, row-locked: concurrent refunds of one
/// payment queue here, so none can see a stale remaining amount (docs/contract.md,
/// "Concurrency").
pub fn lock_original(tx_no: &str, merchant_id: Uuid) -> Option<Original> {
    let filed = filed(tx_no)?;
    let sql =
        format!("SELECT {ORIGINAL_COLUMNS} FROM {{transactions}} t WHERE t.id = $1 AND t.merchant_id = $2 FOR UPDATE");
    in_partition(&filed.partition, &sql, |sql| query_one(sql, &[filed.id.into(), merchant_id.into()], read_original))
}

/// The recharge with that number, row-locked: a confirmation and a cancellation of one
/// pending recharge queue here, and the second sees what the first did. Lock order: this
/// row, then the card.
pub fn lock_recharge(tx_no: &str) -> Option<Original> {
    let filed = filed(tx_no)?;
    let sql = format!(
        "SELECT {ORIGINAL_COLUMNS} FROM {{transactions}} t WHERE t.id = $1 AND t.tx_type = 'recharge' FOR UPDATE"
    );
    in_partition(&filed.partition, &sql, |sql| query_one(sql, &[filed.id.into()], read_original))
}

/// What earlier refunds of a payment returned, and the points they took back. Only refunds
/// have an original; the filter stays out of the WHERE clause so that the plan is always the
/// original_tx_id index, whatever the statistics say about rare transaction types.
pub fn refunds_of(original_id: Uuid) -> (Decimal, i32) {
    let row = query_one(
        "SELECT COALESCE(sum(final_amount) FILTER (WHERE tx_type = 'refund' AND status = 'completed'), 0),
                COALESCE(-sum(points_earned) FILTER (WHERE tx_type = 'refund' AND status = 'completed'), 0)::int
           FROM public.transactions
          WHERE original_tx_id = $1",
        &[original_id.into()],
        |r| Ok((decimal(r.get::<AnyNumeric>(1)?, "refunded"), required(r.get::<i32>(2)?, "reversed"))),
    );
    required(row, "refund totals")
}

/// Sets the status of a movement locked by `lock_original` or `lock_recharge`.
pub fn set_status(movement: &Original, status: TxStatus) {
    execute(
        &format!("UPDATE {} SET status = $2::public.tx_status WHERE id = $1", movement.partition),
        &[movement.id.into(), status.label().into()],
    );
}

/// The transaction with that number: its id, card and merchant.
pub fn find_by_no(tx_no: &str) -> Option<(Uuid, Uuid, Option<Uuid>)> {
    let filed = filed(tx_no)?;
    in_partition(&filed.partition, "SELECT t.card_id, t.merchant_id FROM {transactions} t WHERE t.id = $1", |sql| {
        query_one(sql, &[filed.id.into()], |r| {
            Ok((filed.id, required(r.get::<Uuid>(1)?, "transactions.card_id"), r.get::<Uuid>(2)?))
        })
    })
}
