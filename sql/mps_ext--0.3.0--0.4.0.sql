-- mps_ext 0.3.0 → 0.4.0: operations (logical backups that restore every row, bounded growth).
-- The statements mirror the 0.4.0 install script (sql/10–90); tests/db/test_upgrade_and_partitions.py
-- checks that an upgraded database and a fresh one have the same schema.

-- == Retention (bounded growth): apply_retention, the daily mps-retention job ==
-- The mps.retention_* settings, the folded point ledger detail that verify_ledger() and
-- update_points_and_level now know about, and the bounded sweeps of cron_rotate_qr_tokens
-- and cleanup_expired_sessions live in the library.
CREATE INDEX idx_idempotency_registry_created_at ON public.idempotency_registry (created_at);

CREATE FUNCTION mps_internal."apply_retention"(
	"p_session_id" TEXT /* Option < & str > */
) RETURNS TABLE (
	"table_name" TEXT,  /* String */
	"cutoff" timestamp with time zone,  /* Option < TimestampWithTimeZone > */
	"rows_removed" bigint,  /* i64 */
	"done" bool  /* bool */
)
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'apply_retention_wrapper';

REVOKE ALL ON FUNCTION mps_internal.apply_retention(text) FROM PUBLIC, anon, authenticated, service_role;

-- Retention: one batch per table per call (a row per table: its cutoff, the rows removed, and
-- whether it is done). Super admin / service_role only.
CREATE FUNCTION public.apply_retention(p_session_id text DEFAULT NULL)
RETURNS TABLE (table_name text, cutoff timestamptz, rows_removed bigint, done boolean)
LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT * FROM mps_internal.apply_retention(p_session_id) $$;

-- The daily mps-retention job: apply_retention until every table is done, each batch
-- committed on its own so that no batch's row locks outlive it. A procedure that commits can
-- be neither SECURITY DEFINER nor carry a SET clause: it runs with its caller's rights (pg_cron
-- runs it as the extension's owner; nobody else may execute it) and names everything in full.
CREATE PROCEDURE mps_internal.run_retention()
LANGUAGE plpgsql AS $$
DECLARE
    finished boolean;
BEGIN
    LOOP
        SELECT pg_catalog.bool_and(r.done) INTO finished FROM public.apply_retention() r;
        COMMIT;
        EXIT WHEN finished;
    END LOOP;
END
$$;

REVOKE ALL ON FUNCTION public.apply_retention(text) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON PROCEDURE mps_internal.run_retention() FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.apply_retention(text) TO authenticated, service_role, mps_admin;
