-- get_member_transactions (first page) of a random member, READ ONLY as PostgREST runs a STABLE function.
\set card random(1, :cards)
BEGIN READ ONLY;
SELECT set_config('search_path', 'public', true), set_config('role', 'service_role', true),
       set_config('request.jwt.claims', '{"role":"service_role"}', true), set_config('request.method', 'POST', true),
       set_config('request.path', '/rpc/get_member_transactions', true), set_config('request.headers', '{}', true);
SELECT count(*) FROM public.get_member_transactions(
    p_member_id := (SELECT member_id FROM mps_bench.cards WHERE n = :card), p_limit := 20);
END;
