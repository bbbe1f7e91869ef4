-- A reference charge of bench/decompose.sql, as charge.sql sends the RPC (same prologue, card,
-- key and price; merchant 1): :level 0 charge_floor, 1 charge_rows, 2 charge_statements.
\set card random(1, :cards)
\set cents random(100, 5000)
BEGIN;
SELECT set_config('search_path', 'public', true), set_config('role', 'anon', true),
       set_config('request.jwt.claims', '{"role":"anon"}', true), set_config('request.method', 'POST', true),
       set_config('request.path', '/rpc/merchant_charge_by_qr', true), set_config('request.headers', '{}', true);
SELECT CASE :level::int
       WHEN 0 THEN mps_bench.charge_floor('BENCH-SHOP-001', encode(sha256(convert_to('bench-qr-' || :card, 'UTF8')), 'base64'),
                                          :cents / 100.0, gen_random_uuid()::text)
       WHEN 1 THEN mps_bench.charge_rows('BENCH-SHOP-001', encode(sha256(convert_to('bench-qr-' || :card, 'UTF8')), 'base64'),
                                         :cents / 100.0, gen_random_uuid()::text)
       ELSE mps_bench.charge_statements('BENCH-SHOP-001', encode(sha256(convert_to('bench-qr-' || :card, 'UTF8')), 'base64'),
                                        :cents / 100.0, gen_random_uuid()::text,
                                        (SELECT session_id FROM mps_bench.merchants WHERE n = 1)) END;
END;
