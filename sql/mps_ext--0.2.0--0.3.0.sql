-- mps_ext 0.2.0 → 0.3.0: security hardening (pending member recharges, one settlement
-- history per merchant, a lockout that holds, current password for own credential changes,
-- no oracles in errors).
-- The statements mirror the 0.3.0 install script (sql/10–90); tests/db/test_upgrade_and_partitions.py
-- checks that an upgraded database and a fresh one have the same schema.

-- Attempt guard (logins, current passwords, binding passwords): the counts live in shared
-- memory (shared_preload_libraries = 'mps_ext'); the worker-written table is gone.
DROP TABLE mps_internal.login_attempts;

