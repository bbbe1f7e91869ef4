-- The event feed's reader, get_events, and its Supabase Realtime publication. The events
-- themselves are written by the movements (src/store/events.rs and the statements it names).

-- Events after p_after_id, ascending, that the caller may read (mps_internal.event_scope), up
-- to the horizon: events of transactions still in flight, and of any transaction younger
-- than the oldest of those, wait, so that no event can commit behind an id already handed
-- out (src/domain/events.rs). A reader passes back the largest id it has received.
CREATE FUNCTION public.get_events(
    p_after_id bigint DEFAULT 0,
    p_limit integer DEFAULT 100,
    p_session_id text DEFAULT NULL)
RETURNS TABLE (id bigint, occurred_at timestamptz, event_type text, card_id uuid, member_id uuid, merchant_id uuid,
               tx_no text, amount numeric, balance_after numeric, payload jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT e.id, e.occurred_at, e.event_type::text, e.card_id, e.member_id, e.merchant_id, e.tx_no, e.amount,
           e.balance_after, e.payload
      FROM mps_internal.event_scope(p_limit => p_limit, p_session_id => p_session_id) s,
           LATERAL (SELECT mps_internal.event_horizon(p_xmin => pg_snapshot_xmin(pg_current_snapshot())::text::bigint) AS before) h,
           LATERAL (SELECT * FROM public.events e
                     WHERE s.all_events AND e.id > coalesce(p_after_id, 0) AND e.id < h.before
                    UNION ALL
                    SELECT * FROM public.events e
                     WHERE e.member_id = s.member_id AND e.id > coalesce(p_after_id, 0) AND e.id < h.before
                    UNION ALL
                    SELECT * FROM public.events e
                     WHERE e.merchant_id = s.merchant_id AND e.id > coalesce(p_after_id, 0) AND e.id < h.before
                    ORDER BY id
                    LIMIT s.page_limit) e
     ORDER BY e.id
$$;

-- Supabase Realtime streams the tables of the publication supabase_realtime (to each
-- subscriber, through the table's RLS policy). Adds public.events to it if it exists and
-- does not have it yet; whether it did. Run here (CREATE EXTENSION), by the upgrade, and by
-- add_events_to_realtime() once the publication exists.
CREATE FUNCTION mps_internal.add_events_to_publication() RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_publication WHERE pubname = 'supabase_realtime')
       OR EXISTS (SELECT FROM pg_publication_tables
                   WHERE pubname = 'supabase_realtime' AND schemaname = 'public' AND tablename = 'events') THEN
        RETURN false;
    END IF;
    ALTER PUBLICATION supabase_realtime ADD TABLE public.events;
    RETURN true;
END
$$;

SELECT mps_internal.add_events_to_publication();
