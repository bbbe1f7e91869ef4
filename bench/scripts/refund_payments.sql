-- Lists in mps_bench.payments, numbered from 1, the payments refund.sql picks from: all of
-- merchant :shop's so far but those on the 10 hot cards (refunds then spread over the cards
-- as charges do). Every payment is at least 1.00 less its discount, and a run makes a few
-- refunds of 0.01 per payment, so none is refunded past its amount.
TRUNCATE mps_bench.payments RESTART IDENTITY;
INSERT INTO mps_bench.payments (tx_no)
SELECT t.tx_no FROM public.transactions t JOIN public.merchants m ON m.id = t.merchant_id
 WHERE t.tx_type = 'payment' AND m.code = :'shop'
   AND t.card_id NOT IN (SELECT card_id FROM mps_bench.cards WHERE n <= 10);
