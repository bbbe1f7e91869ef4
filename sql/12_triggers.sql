-- updated_at maintenance on the nine tables that have the column, card numbers, and the
-- registry's copy of a movement's stamp.

-- No SET search_path: a function with SET clauses saves and restores its settings around
-- every call, and this one runs once per updated row (each money movement updates its card).
-- It names pg_catalog's now() itself and is not SECURITY DEFINER.
--
-- The triggers fire only when an UPDATE leaves updated_at as it was: the money movements'
-- card update sets it itself (src/store/transactions.rs), sparing a PL/pgSQL call per
-- movement (the call cost 2-4 % of a movement's server CPU, bench/results/2026-12-03-run4.md).
-- A writer that sets updated_at to a new value keeps it.
CREATE FUNCTION mps_internal.set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := pg_catalog.now();
    RETURN NEW;
END
$$;

CREATE TRIGGER trg_member_profiles_updated_at BEFORE UPDATE ON public.member_profiles
    FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at)
    EXECUTE FUNCTION mps_internal.set_updated_at();
CREATE TRIGGER trg_member_ext_ids_updated_at BEFORE UPDATE ON public.member_external_identities
    FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at)
    EXECUTE FUNCTION mps_internal.set_updated_at();
CREATE TRIGGER trg_membership_levels_updated_at BEFORE UPDATE ON public.membership_levels
    FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at)
    EXECUTE FUNCTION mps_internal.set_updated_at();
CREATE TRIGGER trg_member_cards_updated_at BEFORE UPDATE ON public.member_cards
    FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at)
    EXECUTE FUNCTION mps_internal.set_updated_at();
CREATE TRIGGER trg_merchants_updated_at BEFORE UPDATE ON public.merchants
    FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at)
    EXECUTE FUNCTION mps_internal.set_updated_at();
CREATE TRIGGER trg_transactions_updated_at BEFORE UPDATE ON public.transactions
    FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at)
    EXECUTE FUNCTION mps_internal.set_updated_at();
CREATE TRIGGER trg_settlements_updated_at BEFORE UPDATE ON public.settlements
    FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at)
    EXECUTE FUNCTION mps_internal.set_updated_at();
CREATE TRIGGER trg_card_holds_updated_at BEFORE UPDATE ON public.card_holds
    FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at)
    EXECUTE FUNCTION mps_internal.set_updated_at();
CREATE TRIGGER trg_admin_users_updated_at BEFORE UPDATE ON public.admin_users
    FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at)
    EXECUTE FUNCTION mps_internal.set_updated_at();

-- Follow-ups find a movement's month through tx_registry (src/store/transactions.rs), which
-- carries the movement's stamp: a movement re-stamped by hand (back-dated by an operator, or
-- by a test) takes its registry row along. Fires only when an UPDATE sets created_at.
CREATE FUNCTION mps_internal.restamp_registry() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE public.tx_registry SET created_at = NEW.created_at WHERE tx_id = NEW.id;
    RETURN NEW;
END
$$;

CREATE TRIGGER trg_transactions_restamp_registry BEFORE UPDATE OF created_at ON public.transactions
    FOR EACH ROW WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at)
    EXECUTE FUNCTION mps_internal.restamp_registry();

-- A card inserted without a number gets the next one for its type (format in Rust).
CREATE FUNCTION mps_internal.fill_card_no() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NEW.card_no IS NULL OR NEW.card_no = '' THEN
        NEW.card_no := mps_internal.card_no(NEW.card_type, nextval('public.seq_card_no'));
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER trg_member_cards_fill_card_no BEFORE INSERT ON public.member_cards
    FOR EACH ROW EXECUTE FUNCTION mps_internal.fill_card_no();
