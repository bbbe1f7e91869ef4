-- bench/decompose.sql's refund_floor, as refund.sql sends the RPC (same prologue, payment and
-- amount).
\set n random(1, :payments)
BEGIN;
SELECT set_config('search_path', 'public', true), set_config('role', 'anon', true),
       set_config('request.jwt.claims', '{"role":"anon"}', true), set_config('request.method', 'POST', true),
       set_config('request.path', '/rpc/merchant_refund_tx', true), set_config('request.headers', '{}', true);
SELECT mps_bench.refund_floor(:merchant, (SELECT tx_no FROM mps_bench.payments WHERE n = :n), 0.01);
END;
