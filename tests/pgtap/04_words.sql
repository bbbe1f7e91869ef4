-- The words of the event feed and of the idempotency registry are enum types (they replaced
-- CHECK (... IN (...)) lists, which PostgreSQL plans anew in every writing statement): the
-- tables still refuse any other word, whoever writes.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(6);

SELECT enum_has_labels('public', 'event_type', ARRAY[
    'payment', 'refund', 'recharge', 'points_adjusted', 'card_frozen', 'card_unfrozen',
    'settlement_generated', 'hold_authorized', 'hold_captured', 'hold_voided', 'hold_expired'],
    'the feed''s event types, in the order of src/domain/events.rs');
SELECT enum_has_labels('public', 'request_operation', ARRAY['payment', 'recharge', 'refund', 'capture'],
    'the operations an idempotency key or order id is scoped to');
SELECT enum_has_labels('public', 'request_key_kind', ARRAY['key', 'order'],
    'an idempotency key or an external order id');

SELECT throws_ok($$ INSERT INTO public.events (event_type) VALUES ('withdrawal') $$, '22P02',
                 'invalid input value for enum event_type: "withdrawal"',
                 'the feed refuses an unknown event type');
SELECT throws_ok($$ INSERT INTO public.idempotency_registry (operation, scope_id, key_kind, idempotency_key, tx_id)
                    VALUES ('withdrawal', gen_random_uuid(), 'key', 'k-1', gen_random_uuid()) $$, '22P02',
                 'invalid input value for enum request_operation: "withdrawal"',
                 'the idempotency registry refuses an unknown operation');
SELECT throws_ok($$ INSERT INTO public.idempotency_registry (operation, scope_id, key_kind, idempotency_key, tx_id)
                    VALUES ('payment', gen_random_uuid(), 'ticket', 'k-1', gen_random_uuid()) $$, '22P02',
                 'invalid input value for enum request_key_kind: "ticket"',
                 'the idempotency registry refuses an unknown key kind');

SELECT * FROM finish();
ROLLBACK;
