-- The contract's indexes, plus one for every column an RLS policy, a foreign key cascade or
-- a hot lookup uses (docs/contract.md P4).

-- unique: one Supabase user is at most one member (the original allowed ambiguity:
-- docs/contract.md B13)
CREATE UNIQUE INDEX idx_member_profiles_auth_user ON public.member_profiles (auth_user_id);

CREATE INDEX idx_cards_status ON public.member_cards (status);
CREATE INDEX idx_cards_owner_type ON public.member_cards (owner_member_id, card_type);

CREATE INDEX idx_bindings_member ON public.card_bindings (member_id);
CREATE INDEX idx_bindings_status ON public.card_bindings (status);
CREATE INDEX idx_bindings_card_status ON public.card_bindings (card_id, status);

CREATE INDEX idx_admin_users_auth_user ON public.admin_users (auth_user_id);
CREATE INDEX idx_admin_users_active ON public.admin_users (is_active);
CREATE INDEX idx_merchant_users_auth_user ON public.merchant_users (auth_user_id);

CREATE INDEX idx_app_sessions_expires ON public.app_sessions (expires_at);
CREATE INDEX idx_app_sessions_user ON public.app_sessions (user_id);
CREATE INDEX idx_app_sessions_member ON public.app_sessions (member_id);
CREATE INDEX idx_app_sessions_merchant ON public.app_sessions (merchant_id);

CREATE INDEX idx_qr_state_expires ON public.card_qr_state (expires_at);
CREATE INDEX idx_qr_hist_card_time ON public.card_qr_history (card_id, issued_at DESC);
CREATE INDEX idx_qr_hist_issued_at ON public.card_qr_history (issued_at);

-- transactions: each partition's own indexes, in sql/14_partitions.sql. tx_no and the
-- movement id are unique across partitions through tx_registry, which is read only by those
-- keys (its created_at says which partition holds the movement): no index on its stamp,
-- which every movement would pay for.

CREATE INDEX idx_point_ledger_card_time ON public.point_ledger (card_id, created_at DESC);
CREATE INDEX idx_point_ledger_tx ON public.point_ledger (tx_id);

CREATE INDEX idx_settlements_merchant_period ON public.settlements (merchant_id, period_start);

CREATE INDEX idx_event_object ON audit.event_log (object_type, object_id);
CREATE INDEX idx_event_happened_at ON audit.event_log (happened_at);

-- Holds: the active ones of a card (every charge and authorization sums them), a merchant's
-- list, and authorization keys (unique per merchant).
CREATE INDEX idx_events_member ON public.events (member_id, id) WHERE member_id IS NOT NULL;
CREATE INDEX idx_events_merchant ON public.events (merchant_id, id) WHERE merchant_id IS NOT NULL;

CREATE INDEX idx_card_holds_active ON public.card_holds (card_id) WHERE status = 'active';
CREATE INDEX idx_card_holds_merchant ON public.card_holds (merchant_id, created_at DESC);
CREATE UNIQUE INDEX idx_card_holds_key ON public.card_holds (merchant_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
