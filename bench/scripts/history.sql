-- get_member_transactions (first page of 20) of a random history member: the :history members
-- after the :cards charge cards, each with exactly 50 recharges. READ ONLY as PostgREST runs a
-- STABLE function.
\set n random(:cards + 1, :cards + :history)
BEGIN READ ONLY;
SELECT set_config('search_path', 'public', true), set_config('role', 'service_role', true),
       set_config('request.jwt.claims', '{"role":"service_role"}', true), set_config('request.method', 'POST', true),
       set_config('request.path', '/rpc/get_member_transactions', true), set_config('request.headers', '{}', true);
SELECT count(*) FROM public.get_member_transactions(
    p_member_id := (SELECT member_id FROM mps_bench.cards WHERE n = :n), p_limit := 20);
END;
