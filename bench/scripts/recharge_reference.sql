-- bench/decompose.sql's recharge_floor, as recharge.sql sends the RPC (same prologue, card,
-- amount and key).
\set card random(1, :cards)
BEGIN;
SELECT set_config('search_path', 'public', true), set_config('role', 'service_role', true),
       set_config('request.jwt.claims', '{"role":"service_role"}', true), set_config('request.method', 'POST', true),
       set_config('request.path', '/rpc/user_recharge_card', true), set_config('request.headers', '{}', true);
SELECT mps_bench.recharge_floor((SELECT card_id FROM mps_bench.cards WHERE n = :card), 10, gen_random_uuid()::text);
END;
