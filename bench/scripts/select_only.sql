-- The reference for reads, on the tpcb database: one primary-key SELECT on pgbench_accounts
-- shaped like a PostgREST request (GET /pgbench_accounts?aid=eq.N), in the same READ ONLY
-- transaction with the same prologue as history.sql.
\set aid random(1, :accounts)
BEGIN READ ONLY;
SELECT set_config('search_path', 'public', true), set_config('role', 'service_role', true),
       set_config('request.jwt.claims', '{"role":"service_role"}', true), set_config('request.method', 'GET', true),
       set_config('request.path', '/pgbench_accounts', true), set_config('request.headers', '{}', true);
SELECT aid, bid, abalance FROM pgbench_accounts WHERE aid = :aid;
END;
