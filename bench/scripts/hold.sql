-- A hold as a POS makes it through PostgREST: one request authorizes on a random card among
-- :cards, a second captures it (two transactions; the TPS counts the pair).
\set card random(1, :cards)
\set cents random(100, 5000)
BEGIN;
SELECT set_config('search_path', 'public', true), set_config('role', 'anon', true),
       set_config('request.jwt.claims', '{"role":"anon"}', true), set_config('request.method', 'POST', true),
       set_config('request.path', '/rpc/merchant_authorize_by_qr', true), set_config('request.headers', '{}', true);
SELECT hold_no FROM public.merchant_authorize_by_qr(
    p_merchant_code := :merchant,
    p_qr_plain := encode(sha256(convert_to('bench-qr-' || :card, 'UTF8')), 'base64'),
    p_raw_amount := :cents / 100.0,
    p_idempotency_key := gen_random_uuid()::text,
    p_session_id := :session) \gset
END;
BEGIN;
SELECT set_config('search_path', 'public', true), set_config('role', 'anon', true),
       set_config('request.jwt.claims', '{"role":"anon"}', true), set_config('request.method', 'POST', true),
       set_config('request.path', '/rpc/merchant_capture_hold', true), set_config('request.headers', '{}', true);
SELECT tx_no, final_amount FROM public.merchant_capture_hold(
    p_merchant_code := :merchant,
    p_hold_no := :hold_no,
    p_idempotency_key := gen_random_uuid()::text,
    p_session_id := :session);
END;
