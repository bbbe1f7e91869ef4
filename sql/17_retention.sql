-- Retention (apply_retention, src/rpc/retention.rs): its batches take the oldest rows of each
-- table through an index on the table's time column. Every other table it trims has one.
CREATE INDEX idx_idempotency_registry_created_at ON public.idempotency_registry (created_at);
CREATE INDEX idx_events_occurred_at ON public.events (occurred_at);
