-- merchant_charge_by_qr as PostgREST sends it for a POS (anon key + merchant session): a
-- random card among :cards at a random merchant among the first :merchants (its code built
-- from its number, its session read from mps_bench.merchants), a fresh idempotency key, a
-- random price.
\set card random(1, :cards)
\set m random(1, :merchants)
\set cents random(100, 5000)
BEGIN;
SELECT set_config('search_path', 'public', true), set_config('role', 'anon', true),
       set_config('request.jwt.claims', '{"role":"anon"}', true), set_config('request.method', 'POST', true),
       set_config('request.path', '/rpc/merchant_charge_by_qr', true), set_config('request.headers', '{}', true);
SELECT tx_no, final_amount FROM public.merchant_charge_by_qr(
    p_merchant_code := 'BENCH-SHOP-' || lpad(:m::text, 3, '0'),
    p_qr_plain := encode(sha256(convert_to('bench-qr-' || :card, 'UTF8')), 'base64'),
    p_raw_amount := :cents / 100.0,
    p_idempotency_key := gen_random_uuid()::text,
    p_session_id := (SELECT session_id FROM mps_bench.merchants WHERE n = :m));
END;
