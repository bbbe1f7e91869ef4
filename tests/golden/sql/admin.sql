-- Golden contract: accounts, administration, identifier writers, search, maintenance.
\pset tuples_only on
\pset format unaligned
BEGIN;
SELECT create_member_profile('Gus', '0955000001', 'gus@example.com', 'gus-password-1') AS gus \gset
SELECT create_member_profile('Hal', '0955000002', 'hal@example.com', 'hal-password-1') AS hal \gset
SELECT create_merchant('GOLD-INN', 'Gold Inn', NULL, 'inn-password-1') AS inn \gset
SELECT member_login('0955000001', 'gus-password-1') ->> 'session_id' AS gus_sid \gset

-- result shapes
SELECT * FROM get_all_members() \gdesc
SELECT * FROM search_members('x') \gdesc
SELECT * FROM get_member_detail(NULL) \gdesc
SELECT * FROM apply_retention() \gdesc

-- a member changes their own account: the current password is needed
SELECT golden.act_as('anon');
SELECT golden.outcome(format('SELECT update_member_profile(%L, %L, %L, NULL, %L)', :'gus', 'Gus B', '0955000009', :'gus_sid'));
SELECT golden.outcome(format('SELECT update_member_profile(%L, %L, %L, NULL, %L, %L)', :'gus', 'Gus B', '0955000009',
                             :'gus_sid', 'gus-password-1'));
SELECT golden.outcome(format('SELECT update_member_profile(%L, NULL, %L, NULL, %L, %L)', :'gus', '0955000002',
                             :'gus_sid', 'gus-password-1'));
SELECT golden.outcome(format('SELECT update_member_profile(%L, %L, NULL, NULL, %L)', :'hal', 'Not Mine', :'gus_sid'));
SELECT golden.outcome(format('SELECT set_member_password(%L, %L, %L)', :'gus', 'new-password-1', :'gus_sid'));
SELECT golden.outcome(format('SELECT set_member_password(%L, %L, %L, %L)', :'gus', 'new-password-1', :'gus_sid',
                             'wrong-password'));
SELECT golden.outcome(format('SELECT set_member_password(%L, %L, %L, %L)', :'gus', 'new-password-1', :'gus_sid',
                             'gus-password-1'));
SELECT golden.outcome(format('SELECT name, phone, status FROM get_member_detail(%L, %L)', :'gus', :'gus_sid'));
SELECT golden.outcome(format('SELECT name FROM get_member_detail(%L, %L)', :'hal', :'gus_sid'));
SELECT golden.outcome(format('SELECT admin_suspend_member(%L, %L)', :'hal', :'gus_sid'));
SELECT golden.outcome(format('SELECT delete_test_member(%L, %L)', :'hal', :'gus_sid'));
RESET ROLE;

SELECT golden.act_as('service_role');
SELECT golden.outcome(format('SELECT admin_suspend_member(%L)', :'hal'));
SELECT golden.outcome(format('SELECT member_no, name, status FROM get_all_members(10, 0, %L)', 'suspended'));
SELECT golden.outcome(format('SELECT admin_activate_member(%L)', :'hal'));
SELECT golden.outcome('SELECT admin_suspend_member(''00000000-0000-0000-0000-000000000009'')');
SELECT golden.outcome(format('SELECT admin_suspend_merchant(%L)', :'inn'));
SELECT golden.outcome('SELECT merchant_login(''GOLD-INN'', ''inn-password-1'') ? ''session_id'' AS r');
SELECT golden.outcome(format('SELECT admin_activate_merchant(%L)', :'inn'));
SELECT golden.outcome(format('SELECT set_merchant_password(%L, %L)', :'inn', 'inn-password-2'));
SELECT golden.outcome('SELECT member_no, name FROM search_members(''Ha'') ORDER BY member_no');
SELECT golden.outcome('SELECT member_no, name FROM search_members_advanced(NULL, ''0955000002'')');
SELECT golden.outcome('SELECT get_member_by_identifier(''0955000002'') ->> ''name'' AS name');
SELECT golden.outcome('SELECT get_member_by_identifier(''0999999999'')');
SELECT golden.outcome('SELECT update_member_by_identifier(''0955000002'', ''Hal C'')');
SELECT golden.outcome('SELECT set_member_password_by_identifier(''0955000002'', ''hal-password-2'')');
SELECT golden.outcome('SELECT toggle_member_status_by_identifier(''0955000002'', ''suspended'')');
SELECT golden.outcome('SELECT toggle_card_status_by_card_no(''NO-SUCH-CARD'', ''inactive'')');
SELECT golden.outcome(format('SELECT delete_test_member(%L)', :'hal'));
SELECT golden.outcome(format('SELECT delete_test_merchant(%L)', :'inn'));
SELECT golden.outcome('SELECT * FROM schedule_maintenance()');
-- Days are UTC days whatever the session's time zone: today has not ended; the day before
-- yesterday has, and no movement of this suite falls into it.
SELECT golden.outcome('SELECT generate_daily_settlements((now() AT TIME ZONE ''UTC'')::date)');
SELECT golden.outcome('SELECT generate_daily_settlements((now() AT TIME ZONE ''UTC'')::date - 2)');
SELECT golden.outcome('SELECT create_transaction_partitions(0)');
SELECT golden.outcome('SELECT table_name, rows_removed, done FROM apply_retention()');
ROLLBACK;
