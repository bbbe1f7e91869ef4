-- Membership levels (contract §1.6). Thresholds are data: a level's range is
-- [min_points, max_points], NULL max = open-ended.
INSERT INTO public.membership_levels (level, name, min_points, max_points, discount, is_active) VALUES
    (0, '普通會員', 0,     999,  1.000, true),
    (1, '銀卡會員', 1000,  4999, 0.950, true),
    (2, '金卡會員', 5000,  9999, 0.900, true),
    (3, '鑽石會員', 10000, NULL, 0.850, true)
ON CONFLICT (level) DO NOTHING;
