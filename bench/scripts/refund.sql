-- merchant_refund_tx of 0.01 on a random one of the :payments earlier payments of :merchant
-- listed in mps_bench.payments, with the merchant's session.
\set n random(1, :payments)
BEGIN;
SELECT set_config('search_path', 'public', true), set_config('role', 'anon', true),
       set_config('request.jwt.claims', '{"role":"anon"}', true), set_config('request.method', 'POST', true),
       set_config('request.path', '/rpc/merchant_refund_tx', true), set_config('request.headers', '{}', true);
SELECT refund_tx_no FROM public.merchant_refund_tx(
    p_merchant_code := :merchant,
    p_original_tx_no := (SELECT tx_no FROM mps_bench.payments WHERE n = :n),
    p_refund_amount := 0.01,
    p_session_id := :session);
END;
