-- mps_ext 0.5.0 → 0.6.0: migration from the original MPS (the import's report tables, legacy
-- idempotency keys that replay as they did). The statements mirror the 0.6.0 install script;
-- tests/db/test_upgrade_and_partitions.py checks that an upgraded database and a fresh one
-- have the same schema.

-- The import from the original MPS (migrate/from_legacy.sql; docs/migration.md): when it ran,
-- and every anomaly it found in the legacy data with what it booked for it. verify_ledger()
-- accepts the refund anomalies listed here (the original let refunds race past a payment);
-- the other bookings are ordinary rows (opening balances, opening point-ledger rows).
CREATE TABLE mps_internal.legacy_import (
    single      boolean PRIMARY KEY DEFAULT true CHECK (single),  -- a database imports once
    imported_at timestamptz NOT NULL DEFAULT now(),
    imported_by text NOT NULL DEFAULT current_user,
    rows        jsonb NOT NULL  -- rows imported, per table
);

CREATE TABLE mps_internal.legacy_anomalies (
    id         bigserial PRIMARY KEY,
    kind       text NOT NULL,
    table_name text NOT NULL,   -- the legacy table of the row
    row_key    text NOT NULL,   -- its id, number or key
    card_id    uuid,
    tx_id      uuid,
    detail     jsonb NOT NULL,  -- what was found, with the legacy values
    booked     text NOT NULL    -- what the import did about it
);
CREATE INDEX idx_legacy_anomalies_tx ON mps_internal.legacy_anomalies (tx_id) WHERE tx_id IS NOT NULL;

ALTER TABLE mps_internal.legacy_import ENABLE ROW LEVEL SECURITY;
ALTER TABLE mps_internal.legacy_anomalies ENABLE ROW LEVEL SECURITY;
SELECT pg_catalog.pg_extension_config_dump('mps_internal.legacy_import', '');
SELECT pg_catalog.pg_extension_config_dump('mps_internal.legacy_anomalies', '');
SELECT pg_catalog.pg_extension_config_dump('mps_internal.legacy_anomalies_id_seq', '');
