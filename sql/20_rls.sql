-- Row Level Security. Every table has it on. API roles may only SELECT, and only their own
-- rows; no policy lets an API role write. The table owner (and so every SECURITY DEFINER
-- RPC) bypasses RLS; service_role bypasses it as on Supabase.
-- Caller resolution is the RPCs' own (mps_auth.*), wrapped in (SELECT …) so it runs once
-- per statement, not once per row.

ALTER TABLE public.member_profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.member_external_identities ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.membership_levels ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.member_cards ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.card_bindings ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.merchants ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.admin_users ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.merchant_users ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.app_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.card_qr_state ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.card_qr_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.tx_registry ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.idempotency_registry ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.merchant_order_registry ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.transactions ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.card_holds ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.events ENABLE ROW LEVEL SECURITY;
ALTER TABLE mps_internal.transactions_default ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.point_ledger ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.settlements ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit.event_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE mps_internal.member_passwords ENABLE ROW LEVEL SECURITY;
ALTER TABLE mps_internal.merchant_passwords ENABLE ROW LEVEL SECURITY;
ALTER TABLE mps_internal.card_binding_passwords ENABLE ROW LEVEL SECURITY;
ALTER TABLE mps_internal.card_qr_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE mps_internal.legacy_import ENABLE ROW LEVEL SECURITY;
ALTER TABLE mps_internal.legacy_anomalies ENABLE ROW LEVEL SECURITY;

-- Readable by every signed-in user (anon has no table privileges, 90_grants.sql).
CREATE POLICY levels_public ON public.membership_levels FOR SELECT TO authenticated
    USING (true);
-- Merchant staff their own merchant.
CREATE POLICY merchants_own ON public.merchants FOR SELECT TO authenticated
    USING (id = (SELECT mps_auth.caller_merchant_id()) OR (SELECT mps_auth.caller_is_super_admin()));

-- A member's own rows.
CREATE POLICY member_profiles_own ON public.member_profiles FOR SELECT TO authenticated
    USING (id = (SELECT mps_auth.caller_member_id()) OR (SELECT mps_auth.caller_is_super_admin()));
CREATE POLICY member_external_identities_own ON public.member_external_identities FOR SELECT TO authenticated
    USING (member_id = (SELECT mps_auth.caller_member_id()) OR (SELECT mps_auth.caller_is_super_admin()));
CREATE POLICY card_bindings_own ON public.card_bindings FOR SELECT TO authenticated
    USING (member_id = (SELECT mps_auth.caller_member_id()) OR (SELECT mps_auth.caller_is_super_admin()));
-- Cards the member owns or is actively bound to.
CREATE POLICY member_cards_own ON public.member_cards FOR SELECT TO authenticated
    USING (owner_member_id = (SELECT mps_auth.caller_member_id())
           OR id IN (SELECT b.card_id FROM public.card_bindings b
                      WHERE b.member_id = (SELECT mps_auth.caller_member_id()) AND b.status = 'active')
           OR (SELECT mps_auth.caller_is_super_admin()));
CREATE POLICY card_qr_state_own ON public.card_qr_state FOR SELECT TO authenticated
    USING (card_id IN (SELECT c.id FROM public.member_cards c
                        WHERE c.owner_member_id = (SELECT mps_auth.caller_member_id()))
           OR (SELECT mps_auth.caller_is_super_admin()));
CREATE POLICY card_qr_history_own ON public.card_qr_history FOR SELECT TO authenticated
    USING (card_id IN (SELECT c.id FROM public.member_cards c
                        WHERE c.owner_member_id = (SELECT mps_auth.caller_member_id()))
           OR (SELECT mps_auth.caller_is_super_admin()));
CREATE POLICY point_ledger_own ON public.point_ledger FOR SELECT TO authenticated
    USING (card_id IN (SELECT c.id FROM public.member_cards c
                        WHERE c.owner_member_id = (SELECT mps_auth.caller_member_id()))
           OR (SELECT mps_auth.caller_is_super_admin()));

-- Transactions: the member's cards' or the merchant staff's own merchant's.
CREATE POLICY transactions_own ON public.transactions FOR SELECT TO authenticated
    USING (card_id IN (SELECT c.id FROM public.member_cards c
                        WHERE c.owner_member_id = (SELECT mps_auth.caller_member_id()))
           OR merchant_id = (SELECT mps_auth.caller_merchant_id())
           OR (SELECT mps_auth.caller_is_super_admin()));

-- Holds: on the member's cards (owned or actively bound), or the merchant staff's own merchant's.
CREATE POLICY card_holds_own ON public.card_holds FOR SELECT TO authenticated
    USING (card_id IN (SELECT c.id FROM public.member_cards c
                        WHERE c.owner_member_id = (SELECT mps_auth.caller_member_id()))
           OR card_id IN (SELECT b.card_id FROM public.card_bindings b
                           WHERE b.member_id = (SELECT mps_auth.caller_member_id()) AND b.status = 'active')
           OR merchant_id = (SELECT mps_auth.caller_merchant_id())
           OR (SELECT mps_auth.caller_is_super_admin()));

-- The event feed: as get_events (the member's cards, the merchant staff's own merchant's);
-- Supabase Realtime applies it to postgres_changes subscribers.
CREATE POLICY events_own ON public.events FOR SELECT TO authenticated
    USING (member_id = (SELECT mps_auth.caller_member_id())
           OR merchant_id = (SELECT mps_auth.caller_merchant_id())
           OR (SELECT mps_auth.caller_is_super_admin()));

-- Merchant staff: their own merchant's rows.
CREATE POLICY merchant_users_own ON public.merchant_users FOR SELECT TO authenticated
    USING (merchant_id = (SELECT mps_auth.caller_merchant_id()) OR (SELECT mps_auth.caller_is_super_admin()));
CREATE POLICY settlements_own ON public.settlements FOR SELECT TO authenticated
    USING (merchant_id = (SELECT mps_auth.caller_merchant_id()) OR (SELECT mps_auth.caller_is_super_admin()));

-- Super admins only.
CREATE POLICY admin_users_admin ON public.admin_users FOR SELECT TO authenticated
    USING ((SELECT mps_auth.caller_is_super_admin()));

-- app_sessions, the three registries and audit.event_log have no policy:
-- no API role reads them.
