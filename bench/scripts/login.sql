-- member_login at the configured bcrypt cost, for a random member with a password.
\set m random(1, :logins)
BEGIN;
SELECT set_config('search_path', 'public', true), set_config('role', 'anon', true),
       set_config('request.jwt.claims', '{"role":"anon"}', true), set_config('request.method', 'POST', true),
       set_config('request.path', '/rpc/member_login', true), set_config('request.headers', '{}', true);
SELECT member_login((SELECT member_no FROM mps_bench.cards WHERE n = :m), 'bench-password') ->> 'success';
END;
