-- Five references every money movement makes are kept from the referenced side instead of
-- by foreign keys: a movement's card and merchant (transactions.card_id, .merchant_id), a
-- points row's card and movement (point_ledger.card_id, .tx_id) and a request's movement
-- (idempotency_registry.tx_id). A foreign key checks every inserted row with a query of its
-- own: five per charge, 6 % of its server CPU (bench/results/2026-12-02-history-run3.md).
-- Here a card, a merchant or a registry row that such rows point to cannot be deleted or
-- given another key, with the error a foreign key gives (23503), and a card's points rows go
-- with it as before (ON DELETE CASCADE). The inserting side needs no check: a movement writes
-- its registry row in the same statement and holds its card's row locked
-- (src/store/transactions.rs), and a merchant is deleted only after the movements in flight:
-- the trigger takes the merchant's settlement lock, which every movement of the merchant
-- holds shared while it is recorded (src/domain/settlements.rs, lock_name). verify_ledger()
-- reports any row that points nowhere all the same (one written by hand, with the triggers
-- disabled, …).

-- TG_ARGV: the key column, the prefix of an advisory-lock name to take exclusively before
-- looking (the key follows it; '' for none), then (table, column, on delete) for each
-- reference: 'restrict' refuses, 'cascade' deletes the referencing rows. Changing the key
-- is refused while any reference holds it. It runs after the row, at the end of the
-- statement, as a foreign key's check does: a statement that deletes the referencing rows
-- too (src/store/test_cleanup.rs) passes whichever part of it runs first.
CREATE FUNCTION mps_internal.keep_references() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    key_column text := TG_ARGV[0];
    lock_prefix text := TG_ARGV[1];
    old_key text := to_jsonb(OLD) ->> key_column;
    referenced boolean;
BEGIN
    IF TG_OP = 'UPDATE' AND to_jsonb(NEW) ->> key_column IS NOT DISTINCT FROM old_key THEN
        RETURN NULL;
    END IF;
    IF lock_prefix <> '' THEN
        PERFORM pg_advisory_xact_lock(hashtextextended(lock_prefix || old_key, 0));
    END IF;
    FOR i IN 2 .. TG_NARGS - 1 BY 3 LOOP
        CONTINUE WHEN TG_OP = 'DELETE' AND TG_ARGV[i + 2] = 'cascade';
        EXECUTE format('SELECT EXISTS (SELECT FROM %s WHERE %I = $1::uuid)', TG_ARGV[i], TG_ARGV[i + 1])
           INTO referenced USING old_key;
        IF referenced THEN
            RAISE foreign_key_violation USING
                MESSAGE = format('update or delete on table "%s" would leave rows of %s without their %s',
                                 TG_TABLE_NAME, TG_ARGV[i], TG_ARGV[i + 1]),
                DETAIL = format('Key (%s)=(%s) is still referenced from table %s.', key_column, old_key, TG_ARGV[i]);
        END IF;
    END LOOP;
    IF TG_OP = 'DELETE' THEN
        FOR i IN 2 .. TG_NARGS - 1 BY 3 LOOP
            CONTINUE WHEN TG_ARGV[i + 2] <> 'cascade';
            EXECUTE format('DELETE FROM %s WHERE %I = $1::uuid', TG_ARGV[i], TG_ARGV[i + 1]) USING old_key;
        END LOOP;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER trg_member_cards_keep_references AFTER DELETE OR UPDATE OF id ON public.member_cards
    FOR EACH ROW EXECUTE FUNCTION mps_internal.keep_references(
        'id', '',
        'public.transactions', 'card_id', 'restrict',
        'public.point_ledger', 'card_id', 'cascade');
CREATE TRIGGER trg_merchants_keep_references AFTER DELETE OR UPDATE OF id ON public.merchants
    FOR EACH ROW EXECUTE FUNCTION mps_internal.keep_references(
        'id', 'mps:settlement:',
        'public.transactions', 'merchant_id', 'restrict');
CREATE TRIGGER trg_tx_registry_keep_references AFTER DELETE OR UPDATE OF tx_id ON public.tx_registry
    FOR EACH ROW EXECUTE FUNCTION mps_internal.keep_references(
        'tx_id', '',
        'public.point_ledger', 'tx_id', 'restrict',
        'public.idempotency_registry', 'tx_id', 'restrict');
