-- Helpers for the golden files (not part of mps_ext): each call's outcome as one line, its
-- rows as JSON with the values that differ from run to run masked, or its error with
-- SQLSTATE, message, DETAIL and HINT.
\set QUIET on
CREATE SCHEMA golden;
GRANT USAGE ON SCHEMA golden TO PUBLIC;

-- PostgREST's transaction-local prologue: the role it switches to and the JWT claims.
CREATE FUNCTION golden.act_as(p_role text, p_claims jsonb DEFAULT NULL) RETURNS void
LANGUAGE sql AS $$
    SELECT set_config('role', p_role, true),
           set_config('request.jwt.claims', coalesce(p_claims, jsonb_build_object('role', p_role))::text, true);
$$;

CREATE FUNCTION golden.mask(p_text text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT regexp_replace(regexp_replace(regexp_replace(regexp_replace(p_text,
        '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<uuid>', 'g'),
        '\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d(:\d\d)?|Z)?', '<time>', 'g'),
        '[A-Za-z0-9+/]{43}=', '<token>', 'g'),
        '[0-9a-f]{64}', '<digest>', 'g')
$$;

CREATE FUNCTION golden.outcome(p_sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    result jsonb;
    state text;
    message text;
    detail text;
    hint text;
BEGIN
    EXECUTE format('SELECT coalesce(jsonb_agg(to_jsonb(r)), ''[]'') FROM (%s) r', p_sql) INTO result;
    RETURN golden.mask(result::text);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
                            hint = PG_EXCEPTION_HINT;
    RETURN golden.mask(format('ERROR %s %s | DETAIL: %s | HINT: %s', state, message,
                              coalesce(nullif(detail, ''), '-'), coalesce(nullif(hint, ''), '-')));
END
$$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA golden TO PUBLIC;
