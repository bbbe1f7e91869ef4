-- Logical backups. pg_dump writes an extension's objects as one CREATE EXTENSION and,
-- unless told otherwise here, none of their rows: every table that holds data, and every
-- number sequence, is registered so that pg_dump writes its rows (its value) after that
-- CREATE EXTENSION. The monthly partitions of transactions are not part of the extension
-- (sql/14_partitions.sql) and are dumped whole, like any table.
--
-- membership_levels is dumped whole too: on restore each dumped level takes the place of
-- the default CREATE EXTENSION has just installed for its number (sql/13_seed.sql).
SELECT pg_catalog.pg_extension_config_dump('public.member_profiles', '');
SELECT pg_catalog.pg_extension_config_dump('public.member_external_identities', '');
SELECT pg_catalog.pg_extension_config_dump('public.membership_levels', '');
SELECT pg_catalog.pg_extension_config_dump('public.member_cards', '');
SELECT pg_catalog.pg_extension_config_dump('public.card_bindings', '');
SELECT pg_catalog.pg_extension_config_dump('public.merchants', '');
SELECT pg_catalog.pg_extension_config_dump('public.admin_users', '');
SELECT pg_catalog.pg_extension_config_dump('public.merchant_users', '');
SELECT pg_catalog.pg_extension_config_dump('public.app_sessions', '');
SELECT pg_catalog.pg_extension_config_dump('public.card_qr_state', '');
SELECT pg_catalog.pg_extension_config_dump('public.card_qr_history', '');
SELECT pg_catalog.pg_extension_config_dump('public.tx_registry', '');
SELECT pg_catalog.pg_extension_config_dump('public.card_holds', '');
SELECT pg_catalog.pg_extension_config_dump('public.events', '');
SELECT pg_catalog.pg_extension_config_dump('public.idempotency_registry', '');
SELECT pg_catalog.pg_extension_config_dump('public.merchant_order_registry', '');
SELECT pg_catalog.pg_extension_config_dump('mps_internal.transactions_default', '');
SELECT pg_catalog.pg_extension_config_dump('public.point_ledger', '');
SELECT pg_catalog.pg_extension_config_dump('public.settlements', '');
SELECT pg_catalog.pg_extension_config_dump('audit.event_log', '');
SELECT pg_catalog.pg_extension_config_dump('mps_internal.member_passwords', '');
SELECT pg_catalog.pg_extension_config_dump('mps_internal.merchant_passwords', '');
SELECT pg_catalog.pg_extension_config_dump('mps_internal.card_binding_passwords', '');
SELECT pg_catalog.pg_extension_config_dump('mps_internal.card_qr_tokens', '');
SELECT pg_catalog.pg_extension_config_dump('mps_internal.legacy_import', '');
SELECT pg_catalog.pg_extension_config_dump('mps_internal.legacy_anomalies', '');
-- the number sequences: pg_dump writes their values
SELECT pg_catalog.pg_extension_config_dump('public.seq_member_no', '');
SELECT pg_catalog.pg_extension_config_dump('public.seq_card_no', '');
SELECT pg_catalog.pg_extension_config_dump('public.seq_tx_no', '');
SELECT pg_catalog.pg_extension_config_dump('public.seq_hold_no', '');
SELECT pg_catalog.pg_extension_config_dump('audit.event_log_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('mps_internal.legacy_anomalies_id_seq', '');
