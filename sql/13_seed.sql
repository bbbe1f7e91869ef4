-- Membership levels (docs/contract.md, "Seed levels"). Thresholds are data: a level's
-- range is [min_points, max_points], NULL max = open-ended.

-- The levels CREATE EXTENSION installs.
CREATE FUNCTION mps_internal.default_membership_levels()
RETURNS TABLE (level int, name text, min_points int, max_points int, discount numeric, is_active boolean)
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    VALUES (0, '普通會員', 0,     999,  1.000, true),
           (1, '銀卡會員', 1000,  4999, 0.950, true),
           (2, '金卡會員', 5000,  9999, 0.900, true),
           (3, '鑽石會員', 10000, NULL, 0.850, true)
$$;

-- A level inserted for a number that still holds its installed default replaces that
-- default. This is what lets a restore put back the dumped levels (every row, changed or
-- not) over the defaults its own CREATE EXTENSION has just installed, without duplicates;
-- an operator's own level N likewise takes the place of the shipped one.
CREATE FUNCTION mps_internal.replace_default_level() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM public.membership_levels l
     USING mps_internal.default_membership_levels() d
     WHERE l.level = NEW.level AND d.level = NEW.level
       AND (l.name, l.min_points, l.max_points, l.discount, l.is_active)
           IS NOT DISTINCT FROM (d.name, d.min_points, d.max_points, d.discount, d.is_active);
    RETURN NEW;
END
$$;

CREATE TRIGGER trg_membership_levels_replace_default BEFORE INSERT ON public.membership_levels
    FOR EACH ROW EXECUTE FUNCTION mps_internal.replace_default_level();

INSERT INTO public.membership_levels (level, name, min_points, max_points, discount, is_active)
SELECT * FROM mps_internal.default_membership_levels();
