"""Periodic work: daily T+1 settlements, and the maintenance jobs registered with and run by
a real pg_cron (the test cluster preloads it for database mps_cron)."""

import time
from datetime import date, timedelta
from decimal import Decimal

import psycopg
import pytest

from conftest import Shop
from mps import Api, admin_connect, error_of


def test_daily_settlements(api, admin_sql, member, merchant):
    shop = Shop(api, member, merchant)
    paid = shop.charge(Decimal("40"))
    refund = shop.refund(paid["tx_no"], Decimal("15"))
    yesterday = date.today() - timedelta(days=1)
    for tx in (paid["tx_id"], refund["refund_tx_id"]):
        admin_sql.execute("update transactions set created_at = (current_date - 1)::timestamp at time zone 'UTC'"
                          " + interval '12 hours' where id = %s", (tx,))
    svc = api.as_service()
    assert svc.scalar("generate_daily_settlements", p_day=yesterday) >= 1
    row = admin_sql.execute("select total_amount, total_tx_count, mode::text from settlements where merchant_id = %s",
                            (merchant["id"],)).fetchall()
    assert row == [{"total_amount": Decimal("25.00"), "total_tx_count": 2, "mode": "t_plus_1"}]
    assert svc.scalar("generate_daily_settlements", p_day=yesterday) == 0  # idempotent
    with pytest.raises(psycopg.Error) as e:
        api.as_anon().scalar("generate_daily_settlements")
    assert error_of(e)[0] == "42501"


def test_schedule_maintenance_needs_pg_cron(api):
    with pytest.raises(psycopg.Error) as e:
        api.as_service().rows("schedule_maintenance")
    assert error_of(e) == ("P0001", "PG_CRON_NOT_INSTALLED")


def fresh_cron_database():
    """mps_cron with a fresh mps_ext and pg_cron without jobs. The database itself is kept:
    dropping it would stop pg_cron's scheduler until the server restarts."""
    with admin_connect("postgres") as conn:
        conn.autocommit = True
        if conn.execute("select count(*) as n from pg_database where datname = 'mps_cron'").fetchone()["n"] == 0:
            conn.execute("create database mps_cron")
    with admin_connect("mps_cron") as conn:
        conn.autocommit = True
        conn.execute("create extension if not exists pg_cron")
        conn.execute("select cron.unschedule(jobid) from cron.job")
        conn.execute("set mps.allow_drop_with_data = on")  # the earlier run's data goes deliberately
        conn.execute("drop extension if exists mps_ext cascade")
        conn.execute("create extension mps_ext")
        conn.execute("grant anon, authenticated, service_role to authenticator")


def test_pg_cron_registers_and_runs_the_jobs():
    fresh_cron_database()
    try:
        client = Api("mps_cron")
        try:
            jobs = client.as_service().rows("schedule_maintenance")
            assert [(j["job_name"], j["schedule"]) for j in jobs] == [("mps-maintenance", "*/5 * * * *"),
                                                                       ("mps-daily-settlements", "10 0 * * *"),
                                                                       ("mps-partitions", "0 1 * * *"),
                                                                       ("mps-retention", "30 2 * * *")]
            client.as_service().rows("schedule_maintenance")  # again: updated, not duplicated
        finally:
            client.close()
        with admin_connect("mps_cron") as conn:
            conn.autocommit = True
            registered = conn.execute("select jobname, command from cron.job order by jobname").fetchall()
            assert registered == [
                {"jobname": "mps-daily-settlements", "command": "SELECT public.generate_daily_settlements()"},
                {"jobname": "mps-maintenance", "command": "SELECT public.cron_rotate_qr_tokens()"},
                {"jobname": "mps-partitions", "command": "SELECT public.create_transaction_partitions(3)"},
                {"jobname": "mps-retention", "command": "CALL mps_internal.run_retention()"}]
            # an audit row past its retention, for the retention job to remove
            conn.execute("insert into audit.event_log (happened_at, action, object_type)"
                         " values (now() - interval '2556 days', 'TEST_OLD', 'system')")
            # let pg_cron run the maintenance and retention jobs now (every minute) and wait for them
            jobs = ["mps-maintenance", "mps-retention"]
            conn.execute("select cron.alter_job(jobid, schedule := '* * * * *') from cron.job"
                         " where jobname = any(%s)", (jobs,))
            deadline = time.time() + 75
            finished = {}
            while time.time() < deadline and len(finished) < len(jobs):
                time.sleep(2)
                for row in conn.execute("select distinct on (j.jobname) j.jobname, d.status, d.return_message"
                                        "  from cron.job_run_details d join cron.job j using (jobid)"
                                        " where j.jobname = any(%s) order by j.jobname, d.runid desc", (jobs,)):
                    if row["status"] in ("succeeded", "failed"):
                        finished[row["jobname"]] = row
            assert [finished.get(job, {}).get("status") for job in jobs] == ["succeeded", "succeeded"], finished
            audited = conn.execute("select action, count(*) as n from audit.event_log"
                                   " where action in ('QR_CRON_ROTATE', 'APPLY_RETENTION')"
                                   " and actor_role = 'super_admin' group by action order by action").fetchall()
            assert [r["action"] for r in audited] == ["APPLY_RETENTION", "QR_CRON_ROTATE"]
            assert conn.execute("select count(*) as n from audit.event_log where action = 'TEST_OLD'").fetchone()["n"] \
                == 0
    finally:
        with admin_connect("mps_cron") as conn:
            conn.autocommit = True
            conn.execute("select cron.unschedule(jobid) from cron.job")
