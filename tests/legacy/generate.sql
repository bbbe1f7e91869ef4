-- tests/legacy/generate.sql
--
-- Set-based generator of a realistic ORIGINAL-MPS data set (no per-row RPC calls), written the way the
-- original's RPCs would have written it (contract §4/§5). Run after original_schema.sql (and optionally
-- original_functions.sql) on an EMPTY database:
--
--   psql -v ON_ERROR_STOP=1 -v members=100000 -v transactions=1000000 -f generate.sql
--
-- Defaults: members=1000, transactions=10000. Deterministic shape (setseed); uuids are random.
--
-- Planted anomalies (each exactly once; see the queries at the bottom of this file):
--   A1 hand-edited card balance (balance <> sum of movements)            -> no tag, find by invariant
--   A2 payment over-refunded by two "concurrent" refunds, stays completed -> tag fixture_anomaly=concurrent_over_refund
--   A3 points adjust that clamped (ledger change -999999, after 0)       -> point_ledger.change = -999999
--   A4 idempotency key pointing at a tx id that does not exist (§4.4/8) -> idempotency_registry anti-join
--   A5 payment whose status is still 'processing'                         -> tag fixture_anomaly=stuck_processing

\set ON_ERROR_STOP 1
\if :{?members}
\else
\set members 1000
\endif
\if :{?transactions}
\else
\set transactions 10000
\endif

SET client_min_messages = warning;
SET search_path = public, extensions;
SET synchronous_commit = off;
SET work_mem = '256MB';
SET maintenance_work_mem = '512MB';
SELECT setseed(0.20251201) \g /dev/null

BEGIN;

-- ---------------------------------------------------------------------------------------------
-- parameters
-- ---------------------------------------------------------------------------------------------
CREATE TEMP TABLE g_par AS
SELECT m, t,
       greatest(3, round(m / 1000.0))::int            AS n_merch,
       greatest(1, m / 2000)::int                      AS n_corp,
       greatest(1, m / 200)::int                       AS n_vch,
       round(t * 0.035)::bigint - 2                    AS n_refund,   -- +2 planted (A2)
       round(t * 0.15)::bigint                         AS n_recharge_target,
       t_end, t0,
       extensions.crypt('password123', extensions.gen_salt('bf', 4)) AS pw_hash,
       extensions.crypt('qr-token-fixture-aaaaaaaaaaaaaaaaaaaaaaaaaaaa=', extensions.gen_salt('bf', 4)) AS qr_hash
FROM (SELECT :members::int AS m, :transactions::bigint AS t,
             date_trunc('second', now()) - interval '10 minutes' AS t_end,
             date_trunc('day', now()) - interval '14 months'     AS t0) s;

-- ---------------------------------------------------------------------------------------------
-- merchants (~10 per 10k members) + one inactive merchant without transactions
-- ---------------------------------------------------------------------------------------------
CREATE TEMP TABLE g_merchant AS
SELECT i AS midx, gen_random_uuid() AS id, 'SHOP' || lpad(i::text, 4, '0') AS code,
       (ARRAY['咖啡','餐廳','書店','超市','藥局','麵包','服飾','文具'])[1 + i % 8] || '商店 ' || i AS name,
       CASE WHEN i % 3 = 0 THEN NULL ELSE '02-' || lpad((27000000 + i * 131)::text, 8, '0') END AS contact,
       CASE WHEN i > p.n_merch THEN 'inactive' ELSE 'active' END AS status,
       CASE WHEN i % 5 = 4 THEN NULL ELSE p.pw_hash END AS password_hash,
       p.t0 - make_interval(days => 30 - (i % 20)) AS created_at
FROM g_par p, generate_series(1, p.n_merch + 1) i;

-- ---------------------------------------------------------------------------------------------
-- members (member_no in creation order), one standard card each
-- ---------------------------------------------------------------------------------------------
CREATE TEMP TABLE g_member AS
SELECT i AS idx, gen_random_uuid() AS id, 'M' || lpad(i::text, 8, '0') AS member_no,
       (ARRAY['陳','林','黃','張','李','王','吳','劉','蔡','楊'])[1 + i % 10]
         || (ARRAY['志明','雅婷','家豪','怡君','俊傑','淑芬','建宏','美玲','冠宇','欣怡'])[1 + (i / 10) % 10] AS name,
       '09' || lpad(i::text, 8, '0') AS phone,
       CASE WHEN i % 5 = 0 THEN NULL ELSE 'member' || i || '@example.com' END AS email,
       CASE WHEN i % 100 = 37 THEN 'suspended' WHEN i % 200 = 11 THEN 'inactive' ELSE 'active' END::member_status AS status,
       CASE WHEN i % 10 < 8 THEN p.pw_hash END AS password_hash,
       p.t0 + (p.t_end - p.t0) * 0.97 * power((i - 1)::float8 / p.m, 1.5) + make_interval(secs => i * 0.001) AS created_at,
       ((i::bigint * 2654435761) % 100) < 88 AS is_active_user
FROM g_par p, generate_series(1, p.m) i;
CREATE INDEX ON g_member(idx);

-- cards: standard (1 per member), corporate, voucher
CREATE TEMP TABLE g_card0 AS
SELECT gen_random_uuid() AS id, 'standard'::card_type AS card_type, m.idx AS owner_idx, m.id AS owner_id,
       NULL::text AS name, 0::numeric(12,2) AS init_balance, NULL::numeric(4,3) AS fixed_discount,
       NULL::text AS bpw, NULL::timestamptz AS expires_at, m.created_at, NULL::int AS k
FROM g_member m
UNION ALL
SELECT gen_random_uuid(), 'corporate', m.idx, m.id, '企業卡 ' || k,
       (1000 + (k * 7919) % 49000)::numeric(12,2),
       (ARRAY[0.800, 0.850, NULL, 0.900])[1 + k % 4]::numeric(4,3),
       CASE WHEN k % 3 = 0 THEN p.pw_hash END, NULL, m.created_at + interval '1 hour', k
FROM g_par p CROSS JOIN LATERAL generate_series(1, p.n_corp) k JOIN g_member m ON m.idx = k
UNION ALL
SELECT gen_random_uuid(), 'voucher', m.idx, m.id, '禮券 ' || k,
       (100 + 50 * (k % 19))::numeric(12,2), NULL, NULL,
       m.created_at + interval '2 days' + interval '180 days', LEAST(m.created_at + interval '2 days', p.t_end), k
FROM g_par p CROSS JOIN LATERAL generate_series(1, p.n_vch) k JOIN g_member m ON m.idx = 1 + ((k::bigint * 104729) % p.m);

CREATE TEMP TABLE g_card AS
SELECT c.*, row_number() OVER (ORDER BY c.created_at, c.card_type, c.owner_idx, c.k) AS cseq
FROM g_card0 c;

-- corporate bindings (~2% of members, bound at sign-up) -> corporate_discount on their standard card
CREATE TEMP TABLE g_corp_bind AS
SELECT m.idx AS member_idx, m.id AS member_id, c.id AS corp_id, c.fixed_discount,
       greatest(m.created_at, c.created_at) + interval '1 minute' AS bound_at
FROM g_par p JOIN g_member m ON m.idx % 50 = 7 AND m.idx > p.n_corp
JOIN g_card c ON c.card_type = 'corporate' AND c.k = 1 + (m.idx / 50) % p.n_corp;

-- active cards that transact (standard cards of "active users"), ranked by age
CREATE TEMP TABLE g_active AS
SELECT row_number() OVER (ORDER BY m.idx)::int AS rk, c.id AS card_id, m.idx AS member_idx,
       greatest(m.created_at + interval '1 hour', b.bound_at + interval '1 minute') AS start_ts,
       b.fixed_discount AS corp_disc
FROM g_member m JOIN g_card c ON c.owner_idx = m.idx AND c.card_type = 'standard'
LEFT JOIN g_corp_bind b ON b.member_idx = m.idx
WHERE m.is_active_user;
CREATE UNIQUE INDEX ON g_active(rk);
ANALYZE g_active;

-- ---------------------------------------------------------------------------------------------
-- payments + recharges (refunds later): random card (skewed to older members), random time
-- ---------------------------------------------------------------------------------------------
CREATE TEMP TABLE g_ev AS
SELECT s.e AS ev, a.card_id, a.corp_disc,
       a.start_ts + s.u * (p.t_end - a.start_ts) AS ts,
       s.r1, s.r2, s.r3, s.r4
FROM g_par p,
     (SELECT e, 1 + floor(power(random(), 1.6) * (SELECT count(*) FROM g_active))::int AS rk,
             random() AS u, random() AS r1, random() AS r2, random() AS r3, random() AS r4
        FROM g_par, generate_series(1, (SELECT t - n_refund - 2 FROM g_par)) e) s
JOIN g_active a ON a.rk = s.rk;

-- type: the first event of a card is a recharge; others are recharges with probability q
CREATE TEMP TABLE g_ev2 AS
WITH x AS (
  SELECT e.*, row_number() OVER (PARTITION BY card_id ORDER BY ts, ev) AS rn FROM g_ev e),
q AS (
  SELECT greatest(0, p.n_recharge_target - (SELECT count(DISTINCT card_id) FROM g_ev))::float8
         / greatest(1, (SELECT count(*) FROM g_ev) - (SELECT count(DISTINCT card_id) FROM g_ev)) AS q
  FROM g_par p)
SELECT x.ev, x.card_id, x.corp_disc, x.ts, x.r3, x.r4,
       (x.rn = 1 OR x.r1 < q.q) AS is_rch,
       CASE WHEN x.r3 < 0.3 THEN round(exp(ln(5) + x.r2 * ln(100)))::numeric
            ELSE round(exp(ln(5) + x.r2 * ln(100))::numeric, 2) END AS raw_pay
FROM x, q;
DROP TABLE g_ev;

-- points before each payment, recharge group
CREATE TEMP TABLE g_ev3 AS
SELECT e.*,
       coalesce(sum(CASE WHEN NOT e.is_rch THEN floor(e.raw_pay)::int END)
                OVER (PARTITION BY card_id ORDER BY ts, ev ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)::int AS pts_before,
       sum(e.is_rch::int) OVER (PARTITION BY card_id ORDER BY ts, ev ROWS UNBOUNDED PRECEDING) AS grp
FROM g_ev2 e;
DROP TABLE g_ev2;

-- discount (seed levels) and final amount of payments
CREATE TEMP TABLE g_pay AS
SELECT e.ev, e.card_id, e.ts, e.grp, e.r3, e.r4, e.raw_pay AS raw, e.pts_before,
       d.disc, round(e.raw_pay * d.disc, 2) AS final, floor(e.raw_pay)::int AS pts,
       1 + floor(power(e.r4, 1.5) * (SELECT n_merch FROM g_par))::int AS midx
FROM g_ev3 e,
LATERAL (SELECT LEAST(CASE WHEN e.pts_before >= 10000 THEN 0.850 WHEN e.pts_before >= 5000 THEN 0.900
                           WHEN e.pts_before >= 1000 THEN 0.950 ELSE 1.000 END,
                      coalesce(e.corp_disc, 1.000))::numeric(4,3) AS disc) d
WHERE NOT e.is_rch;

-- recharges: each covers the payments of its group plus a margin, in round amounts
CREATE TEMP TABLE g_rch AS
SELECT e.ev, e.card_id, e.ts,
       greatest(100, ceil((coalesce(g.need, 0) + 50 + 300 * e.r3) / 100) * 100)::numeric(12,2) AS amount,
       CASE WHEN e.r4 < 0.55 THEN 'wechat' WHEN e.r4 < 0.90 THEN 'alipay' ELSE 'cash' END::pay_method AS method
FROM g_ev3 e
LEFT JOIN (SELECT card_id, grp, sum(final) AS need FROM g_pay GROUP BY 1, 2) g
       ON g.card_id = e.card_id AND g.grp = e.grp
WHERE e.is_rch;
DROP TABLE g_ev3;

-- ---------------------------------------------------------------------------------------------
-- refunds: single full / single partial / two partials reaching the total
-- ---------------------------------------------------------------------------------------------
CREATE TEMP TABLE g_refpick AS
SELECT ev, row_number() OVER () AS n FROM (
  SELECT ev FROM g_pay ORDER BY random()
  LIMIT (SELECT n_refund - n_refund / 10 FROM g_par)) s;   -- n1 + n2 payments
CREATE TEMP TABLE g_ref AS
WITH pk AS (
  SELECT p.ev AS orig_ev, p.card_id, p.midx, p.final, p.ts AS pay_ts,
         CASE WHEN k.n <= (SELECT n_refund / 10 FROM g_par) THEN 'double'
              WHEN random() < 0.65 THEN 'full' ELSE 'partial' END AS kind,
         random() AS a, random() AS b, random() AS c
  FROM g_refpick k JOIN g_pay p ON p.ev = k.ev),
r1 AS (
  SELECT pk.*, pk.pay_ts + least(interval '7 days' * pk.a, (g.t_end - pk.pay_ts) * 0.5) + interval '1 second' AS ts1
  FROM pk, g_par g)
SELECT orig_ev, card_id, midx, 1 AS part, ts1 AS ts,
       CASE kind WHEN 'full' THEN final
                 WHEN 'partial' THEN greatest(0.01, round((final * (0.2 + 0.6 * b))::numeric, 2))
                 ELSE greatest(0.01, round(final * 0.4, 2)) END AS amount, kind, final
FROM r1
UNION ALL
SELECT orig_ev, card_id, midx, 2, ts1 + least(interval '2 days' * c, (g.t_end - ts1) * 0.5) + interval '1 second',
       final - greatest(0.01, round(final * 0.4, 2)), kind, final
FROM r1, g_par g WHERE kind = 'double';
DROP TABLE g_refpick;

-- A2: two concurrent refunds of 60% each on one (not otherwise refunded) payment
CREATE TEMP TABLE g_anom AS
SELECT (SELECT ev FROM g_pay p, g_par g
         WHERE p.final >= 20 AND p.ts < g.t_end - interval '30 days'
           AND NOT EXISTS (SELECT 1 FROM g_ref r WHERE r.orig_ev = p.ev)
         ORDER BY ev LIMIT 1) AS over_ev;
ALTER TABLE g_anom ADD COLUMN stuck_ev bigint;
UPDATE g_anom SET stuck_ev = (SELECT ev FROM g_pay p
         WHERE p.ev <> g_anom.over_ev AND NOT EXISTS (SELECT 1 FROM g_ref r WHERE r.orig_ev = p.ev)
         ORDER BY ev DESC LIMIT 1);

INSERT INTO g_ref
SELECT p.ev, p.card_id, p.midx, n, p.ts + interval '1 day' + make_interval(secs => 0.2 * n),
       round(p.final * 0.6, 2), 'over', p.final
FROM g_pay p JOIN g_anom a ON p.ev = a.over_ev, generate_series(1, 2) n;

-- ---------------------------------------------------------------------------------------------
-- unified transaction list, numbered from the shared tx counter in time order
-- ---------------------------------------------------------------------------------------------
CREATE TEMP TABLE g_tx0 AS
SELECT p.ev AS key, gen_random_uuid() AS id, 'payment'::tx_type AS tx_type, p.card_id, p.midx,
       p.raw, p.disc, p.final, p.pts, p.ts, NULL::bigint AS orig_key, 'balance'::pay_method AS method,
       CASE WHEN p.ev = a.stuck_ev THEN '{"fixture_anomaly":"stuck_processing"}'::jsonb
            WHEN p.r3 > 0.9 THEN '{"source":"pos"}'::jsonb ELSE '{}'::jsonb END AS tag,
       p.pts_before, p.r4 AS rr
FROM g_pay p, g_anom a
UNION ALL
SELECT r.ev, gen_random_uuid(), 'recharge', r.card_id, NULL, r.amount, 1.000, r.amount, 0, r.ts, NULL,
       r.method, '{}'::jsonb, NULL, random()
FROM g_rch r
UNION ALL
SELECT (SELECT t FROM g_par) + row_number() OVER (ORDER BY f.ts, f.orig_ev, f.part), gen_random_uuid(), 'refund',
       f.card_id, f.midx, f.amount, 1.000, f.amount, 0, f.ts, f.orig_ev, 'balance',
       CASE WHEN f.kind = 'over' THEN '{"fixture_anomaly":"concurrent_over_refund"}'::jsonb ELSE '{}'::jsonb END,
       NULL, random()
FROM g_ref f;

CREATE TEMP TABLE g_tx AS
SELECT t.*, row_number() OVER (ORDER BY t.ts, t.key) AS seqno
FROM g_tx0 t;
DROP TABLE g_tx0;
CREATE UNIQUE INDEX ON g_tx(key);
ANALYZE g_tx;

-- status / updated_at of payments (refunded when refunds reached the final amount)
CREATE TEMP TABLE g_paystat AS
SELECT f.orig_ev AS key, sum(f.amount) AS refunded, max(f.ts) AS last_ts, bool_or(f.kind = 'over') AS over
FROM g_ref f GROUP BY f.orig_ev;
CREATE UNIQUE INDEX ON g_paystat(key);

INSERT INTO public.merchants (id, code, name, contact, status, password_hash, created_at, updated_at)
SELECT id, code, name, contact, status, password_hash, created_at,
       CASE WHEN status = 'inactive' THEN created_at + interval '10 days' ELSE created_at END
FROM g_merchant ORDER BY midx;

INSERT INTO public.member_profiles (id, member_no, name, phone, email, status, password_hash, created_at, updated_at)
SELECT id, member_no, name, phone, email, status, password_hash, created_at,
       CASE WHEN status <> 'active' THEN least(created_at + interval '30 days', (SELECT t_end FROM g_par))
            ELSE created_at END
FROM g_member ORDER BY idx;

INSERT INTO public.member_external_identities (member_id, provider, external_id, meta, created_at, updated_at)
SELECT id, 'wechat', 'wx_' || md5(idx::text), '{}'::jsonb, created_at, created_at
FROM g_member WHERE idx % 33 = 5;

-- final card state from the movements
CREATE TEMP TABLE g_cardstate AS
SELECT t.card_id,
       sum(CASE t.tx_type WHEN 'payment' THEN -t.final ELSE t.final END) AS delta,
       sum(t.pts) AS pts, max(t.ts) AS last_ts
FROM g_tx t GROUP BY t.card_id;
CREATE UNIQUE INDEX ON g_cardstate(card_id);

-- A3 (clamped points adjust) and A1 (hand-edited balance) targets
ALTER TABLE g_anom ADD COLUMN clamp_card uuid, ADD COLUMN edit_card uuid;
UPDATE g_anom SET
  clamp_card = (SELECT s.card_id FROM g_cardstate s JOIN g_card c ON c.id = s.card_id
                 ORDER BY s.pts DESC, c.cseq LIMIT 1);
UPDATE g_anom SET
  edit_card  = (SELECT s.card_id FROM g_cardstate s JOIN g_card c ON c.id = s.card_id
                 WHERE s.card_id <> g_anom.clamp_card
                 ORDER BY c.cseq LIMIT 1 OFFSET 1);

INSERT INTO public.member_cards (id, card_no, card_type, owner_member_id, name, balance, points, level, discount,
                                 corporate_discount, fixed_discount, binding_password_hash, status, expires_at,
                                 created_at, updated_at)
SELECT c.id,
       CASE c.card_type WHEN 'standard' THEN 'STD' WHEN 'voucher' THEN 'VCH' ELSE 'COR' END || lpad(c.cseq::text, 8, '0'),
       c.card_type, c.owner_id, c.name,
       c.init_balance + coalesce(s.delta, 0) + CASE WHEN c.id = a.edit_card THEN 1234.56 ELSE 0 END,
       CASE WHEN c.id = a.clamp_card THEN 0 ELSE coalesce(s.pts, 0) END,
       CASE WHEN c.card_type <> 'standard' OR c.id = a.clamp_card THEN 0 ELSE lv.level END,
       CASE WHEN c.card_type = 'corporate' THEN coalesce(c.fixed_discount, 1.000)
            WHEN c.card_type = 'voucher' OR c.id = a.clamp_card THEN 1.000 ELSE lv.disc END,
       b.fixed_discount, c.fixed_discount, c.bpw,
       CASE WHEN c.card_type = 'standard' AND m.idx % 250 = 17 THEN 'inactive' ELSE 'active' END::card_status,
       c.expires_at, c.created_at,
       CASE WHEN c.id IN (a.clamp_card, a.edit_card) THEN g.t_end + interval '5 minutes'
            WHEN c.card_type = 'standard' AND m.idx % 250 = 17
              THEN least(greatest(c.created_at, s.last_ts) + interval '1 day', g.t_end)
            ELSE greatest(c.created_at, s.last_ts, b.bound_at) END
FROM g_card c CROSS JOIN g_anom a CROSS JOIN g_par g
JOIN g_member m ON m.idx = c.owner_idx
LEFT JOIN g_cardstate s ON s.card_id = c.id
LEFT JOIN g_corp_bind b ON b.member_idx = c.owner_idx AND c.card_type = 'standard'
LEFT JOIN LATERAL (SELECT CASE WHEN coalesce(s.pts, 0) >= 10000 THEN 3 WHEN coalesce(s.pts, 0) >= 5000 THEN 2
                               WHEN coalesce(s.pts, 0) >= 1000 THEN 1 ELSE 0 END AS level,
                          CASE WHEN coalesce(s.pts, 0) >= 10000 THEN 0.850 WHEN coalesce(s.pts, 0) >= 5000 THEN 0.900
                               WHEN coalesce(s.pts, 0) >= 1000 THEN 0.950 ELSE 1.000 END::numeric(4,3) AS disc) lv ON true
ORDER BY c.cseq;

INSERT INTO public.card_bindings (card_id, member_id, role, status, created_at)
SELECT c.id, c.owner_id, 'owner'::bind_role, 'active'::binding_status, c.created_at FROM g_card c
UNION ALL
SELECT b.corp_id, b.member_id, 'member', 'active', b.bound_at FROM g_corp_bind b;

-- transactions
INSERT INTO public.transactions (id, tx_no, tx_type, card_id, merchant_id, raw_amount, discount_applied, final_amount,
                                 points_earned, status, reason, payment_method, tag, created_at, updated_at)
SELECT t.id,
       CASE t.tx_type WHEN 'payment' THEN 'PAY' WHEN 'refund' THEN 'REF' ELSE 'RCG' END || lpad(t.seqno::text, 10, '0'),
       t.tx_type, t.card_id, gm.id, t.raw, t.disc, t.final, t.pts,
       CASE WHEN t.key = a.stuck_ev THEN 'processing'
            WHEN ps.refunded >= t.final AND NOT ps.over THEN 'refunded'
            ELSE 'completed' END::tx_status,
       CASE t.tx_type WHEN 'recharge' THEN 'recharge'
                      WHEN 'refund' THEN 'PAY' || lpad(o.seqno::text, 10, '0') END,
       t.method, t.tag, t.ts,
       CASE WHEN t.tx_type = 'payment' AND ps.refunded >= t.final AND NOT ps.over THEN ps.last_ts ELSE t.ts END
FROM g_tx t CROSS JOIN g_anom a
LEFT JOIN g_merchant gm ON gm.midx = t.midx
LEFT JOIN g_paystat ps ON ps.key = t.key AND t.tx_type = 'payment'
LEFT JOIN g_tx o ON o.key = t.orig_key
ORDER BY t.seqno;

INSERT INTO public.tx_registry (tx_no, tx_id, created_at)
SELECT tx_no, id, created_at FROM public.transactions ORDER BY created_at, tx_no;

-- point ledger: one 'payment_earn' row per payment (also for 0 points), + A3
INSERT INTO public.point_ledger (card_id, tx_id, change, balance_before, balance_after, reason, created_at)
SELECT t.card_id, t.id, t.pts, t.pts_before, t.pts_before + t.pts, 'payment_earn', t.ts
FROM g_tx t WHERE t.tx_type = 'payment' ORDER BY t.seqno;

INSERT INTO public.point_ledger (card_id, tx_id, change, balance_before, balance_after, reason, created_at)
SELECT a.clamp_card, NULL, -999999, s.pts, 0, 'manual_adjust', g.t_end + interval '5 minutes'
FROM g_anom a JOIN g_cardstate s ON s.card_id = a.clamp_card, g_par g;

-- idempotency keys (30% payments, 20% recharges) and external order ids (25% payments, 5% recharges)
INSERT INTO public.idempotency_registry (idempotency_key, tx_id, created_at)
SELECT gen_random_uuid()::text, t.id, t.ts FROM g_tx t
WHERE (t.tx_type = 'payment' AND t.rr < 0.30) OR (t.tx_type = 'recharge' AND t.rr < 0.20);

INSERT INTO public.merchant_order_registry (merchant_id, external_order_id, tx_id, created_at)
SELECT gm.id, 'ORD' || to_char(t.ts, 'YYYYMMDD') || '-' || lpad(t.seqno::text, 10, '0'), t.id, t.ts
FROM g_tx t JOIN g_merchant gm ON gm.midx = t.midx
WHERE t.tx_type = 'payment' AND t.rr >= 0.70 AND t.rr < 0.95
UNION ALL
SELECT NULL, 'WX' || to_char(t.ts, 'YYYYMMDDHH24MISS') || lpad(t.seqno::text, 10, '0'), t.id, t.ts
FROM g_tx t WHERE t.tx_type = 'recharge' AND t.rr >= 0.95;

-- A4: orphan idempotency key: a retry with a fresh key and an already used external order id
INSERT INTO public.idempotency_registry (idempotency_key, tx_id, created_at)
SELECT 'retry-' || r.external_order_id, gen_random_uuid(), r.created_at + interval '3 minutes'
FROM public.merchant_order_registry r
WHERE r.merchant_id IS NOT NULL
ORDER BY r.external_order_id LIMIT 1;

-- QR state/history: the last QR of every card that paid (expired by now, except very recent ones)
CREATE TEMP TABLE g_qr AS
SELECT t.card_id, max(t.ts) - interval '30 seconds' AS issued_at
FROM g_tx t WHERE t.tx_type = 'payment' GROUP BY t.card_id;
INSERT INTO public.card_qr_state (card_id, token_hash, expires_at, updated_at)
SELECT q.card_id, g.qr_hash, q.issued_at + interval '900 seconds', q.issued_at FROM g_qr q, g_par g;
INSERT INTO public.card_qr_history (card_id, token_hash, expires_at, issued_at)
SELECT q.card_id, g.qr_hash, q.issued_at + interval '900 seconds', q.issued_at FROM g_qr q, g_par g;

-- merchant sessions (expired)
INSERT INTO public.app_sessions (session_id, user_role, user_id, merchant_id, expires_at, created_at, last_accessed_at)
SELECT encode(extensions.gen_random_bytes(32), 'base64'), 'merchant', id, id,
       g.t_end - interval '2 days', g.t_end - interval '3 days', g.t_end - interval '2 days 1 hour'
FROM g_merchant, g_par g WHERE password_hash IS NOT NULL AND status = 'active';

-- settlements: monthly, for every other merchant, for each complete month
CREATE TEMP TABLE g_settle AS
WITH months AS (
  SELECT ms AS period_start, ms + interval '1 month' AS period_end
  FROM g_par g, generate_series(date_trunc('month', g.t0), g.t_end, interval '1 month') ms
  WHERE ms + interval '1 month' + interval '1 day' <= g.t_end),
sums AS (
  SELECT gm.midx, gm.id AS merchant_id, mo.period_start, mo.period_end,
         coalesce(sum(CASE WHEN t.tx_type = 'payment' THEN t.final_amount ELSE -t.final_amount END), 0) AS total,
         count(t.id) AS cnt
  FROM g_merchant gm CROSS JOIN months mo
  LEFT JOIN public.transactions t
         ON t.merchant_id = gm.id AND t.created_at >= mo.period_start AND t.created_at < mo.period_end
        AND t.status IN ('completed','refunded')
  WHERE gm.midx % 2 = 1 AND gm.status = 'active'
  GROUP BY 1, 2, 3, 4)
SELECT gen_random_uuid() AS id, s.*, s.period_end + interval '1 day' AS created_at,
       CASE WHEN s.period_end < g.t_end - interval '75 days' THEN 'paid'
            WHEN s.period_end < g.t_end - interval '45 days' THEN 'settled'
            ELSE 'pending' END::settlement_status AS status
FROM sums s, g_par g WHERE s.total >= 0;
INSERT INTO public.settlements (id, merchant_id, mode, period_start, period_end, total_amount, total_tx_count,
                                status, payload, created_at, updated_at)
SELECT id, merchant_id, 'monthly', period_start, period_end, total, cnt, status, '{}'::jsonb, created_at,
       CASE WHEN status = 'pending' THEN created_at ELSE created_at + interval '3 days' END
FROM g_settle ORDER BY created_at, midx;

-- ---------------------------------------------------------------------------------------------
-- audit.event_log (actor_user_id NULL: custom sessions / service), in time order
-- ---------------------------------------------------------------------------------------------
INSERT INTO audit.event_log (happened_at, actor_user_id, action, object_type, object_id, context)
SELECT happened_at, NULL, action, object_type, object_id, context FROM (
  SELECT created_at AS happened_at, 'CREATE_MERCHANT' AS action, 'merchants' AS object_type, id AS object_id,
         jsonb_build_object('code', code, 'name', name) AS context
  FROM g_merchant
  UNION ALL
  SELECT created_at + interval '10 days', 'MERCHANT_SUSPEND', 'merchants', id, '{}'::jsonb
  FROM g_merchant WHERE status = 'inactive'
  UNION ALL
  SELECT g.t_end - interval '3 days', 'LOGIN_SUCCESS', 'merchants', id, jsonb_build_object('code', code)
  FROM g_merchant, g_par g WHERE password_hash IS NOT NULL AND status = 'active'
  UNION ALL
  SELECT created_at, 'CREATE_MEMBER', 'member_profiles', id,
         jsonb_build_object('name', name, 'phone', phone, 'email', email)
  FROM g_member
  UNION ALL
  SELECT least(created_at + interval '30 days', (SELECT t_end FROM g_par)),
         'MEMBER_SUSPEND', 'member_profiles', id, '{}'::jsonb
  FROM g_member WHERE status = 'suspended'
  UNION ALL
  SELECT c.created_at, CASE c.card_type WHEN 'corporate' THEN 'CREATE_CORPORATE_CARD' ELSE 'CREATE_VOUCHER_CARD' END,
         'member_cards', c.id, jsonb_build_object('owner_member_id', c.owner_id, 'name', c.name)
  FROM g_card c WHERE c.card_type <> 'standard'
  UNION ALL
  SELECT c.created_at + interval '1 minute', 'SET_BINDING_PASSWORD', 'member_cards', c.id, '{}'::jsonb
  FROM g_card c WHERE c.bpw IS NOT NULL
  UNION ALL
  SELECT b.bound_at, 'BIND_CARD', 'member_cards', b.corp_id, jsonb_build_object('member_id', b.member_id, 'role', 'member')
  FROM g_corp_bind b
  UNION ALL
  SELECT q.issued_at, 'QR_ROTATE', 'member_cards', q.card_id, '{"ttl": 900}'::jsonb FROM g_qr q
  UNION ALL
  SELECT t.created_at,
         CASE t.tx_type WHEN 'payment' THEN 'PAYMENT' WHEN 'refund' THEN 'REFUND' ELSE 'RECHARGE' END,
         'transactions', t.id,
         CASE t.tx_type WHEN 'payment' THEN jsonb_build_object('merchant', m.code, 'final', t.final_amount)
                        WHEN 'refund' THEN jsonb_build_object('merchant', m.code, 'amount', t.final_amount)
                        ELSE jsonb_build_object('amount', t.final_amount, 'method', t.payment_method) END
  FROM public.transactions t LEFT JOIN public.merchants m ON m.id = t.merchant_id
  WHERE t.status <> 'processing'          -- A5 never reached its audit step
  UNION ALL
  SELECT c.updated_at, 'CARD_FREEZE', 'member_cards', c.id, '{}'::jsonb
  FROM public.member_cards c WHERE c.status = 'inactive'
  UNION ALL
  SELECT s.created_at, 'SETTLEMENT_GENERATE', 'settlements', s.id,
         jsonb_build_object('merchant_id', s.merchant_id, 'total', s.total, 'count', s.cnt)
  FROM g_settle s
  UNION ALL
  SELECT s.created_at + interval '3 days', 'SETTLEMENT_STATUS_UPDATE', 'settlements', s.id,
         jsonb_build_object('new_status', s.status)
  FROM g_settle s WHERE s.status <> 'pending'
  UNION ALL
  SELECT g.t_end + interval '5 minutes', 'POINTS_ADJUST', 'member_cards', a.clamp_card,
         jsonb_build_object('delta', -999999, 'reason', 'manual_adjust')
  FROM g_anom a, g_par g
) ev
ORDER BY happened_at;

-- sequences past the highest numbers used
SELECT setval('public.seq_member_no', (SELECT m FROM g_par)),
       setval('public.seq_card_no', (SELECT max(cseq) FROM g_card)),
       setval('public.seq_tx_no', (SELECT max(seqno) FROM g_tx)) \g /dev/null

COMMIT;

ANALYZE;

-- ---------------------------------------------------------------------------------------------
-- How to find the planted anomalies (not executed):
--
-- A1 hand-edited balance (also catches nothing else):
--   SELECT c.id, c.card_no, c.balance, sum(...) FROM member_cards c ... see tests/legacy/README or:
--   WITH m AS (SELECT card_id, sum(CASE tx_type WHEN 'payment' THEN -final_amount ELSE final_amount END) d
--              FROM transactions GROUP BY card_id)
--   SELECT c.card_no FROM member_cards c LEFT JOIN m ON m.card_id = c.id
--    WHERE c.card_type = 'standard' AND c.balance <> coalesce(m.d, 0);
-- A2 SELECT * FROM transactions WHERE tag->>'fixture_anomaly' = 'concurrent_over_refund';   -- the 2 refunds
--    (original = reason; it stays 'completed' with Σ refunds = 120% of final_amount)
-- A3 SELECT * FROM point_ledger WHERE change = -999999;
-- A4 SELECT * FROM idempotency_registry r WHERE NOT EXISTS (SELECT 1 FROM transactions t WHERE t.id = r.tx_id);
-- A5 SELECT * FROM transactions WHERE status = 'processing';
-- ---------------------------------------------------------------------------------------------
