-- Exactly :n live QR codes, for cards 1..:n of mps_bench.cards: the code of card n is the
-- base64 of sha256('bench-qr-' || n) (charge.sql presents it), stored as the hex digest of
-- that text, as rotate_card_qr stores a code; live for a day.
TRUNCATE public.card_qr_state, mps_internal.card_qr_tokens;
INSERT INTO mps_internal.card_qr_tokens (card_id, token_hash, expires_at)
SELECT card_id, encode(sha256(convert_to(encode(sha256(convert_to('bench-qr-' || n, 'UTF8')), 'base64'), 'UTF8')), 'hex'),
       now() + interval '1 day'
  FROM mps_bench.cards WHERE n <= :n;
INSERT INTO public.card_qr_state (card_id, expires_at) SELECT card_id, expires_at FROM mps_internal.card_qr_tokens;
