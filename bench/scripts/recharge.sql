-- user_recharge_card by the service key on a random card, with a fresh idempotency key.
\set card random(1, :cards)
BEGIN;
SELECT set_config('search_path', 'public', true), set_config('role', 'service_role', true),
       set_config('request.jwt.claims', '{"role":"service_role"}', true), set_config('request.method', 'POST', true),
       set_config('request.path', '/rpc/user_recharge_card', true), set_config('request.headers', '{}', true);
SELECT tx_no FROM public.user_recharge_card(
    p_card_id := (SELECT card_id FROM mps_bench.cards WHERE n = :card),
    p_amount := 10,
    p_payment_method := 'cash',
    p_idempotency_key := gen_random_uuid()::text);
END;
