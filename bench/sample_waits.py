"""Runs a command (a pgbench run) and meanwhile samples, every --interval seconds, what the
active client backends of database --db wait on ("CPU": on nothing) and what autovacuum does
there (on two cores a worker vacuuming a large table takes CPU from the run); then writes
{"waits": {event: samples}, "autovacuum": {what: polls}, "polls": n} as JSON to --out and
exits with the command's status. It connects to the postgres
database (libpq's PG* environment), before the command starts, so that its own polls stay out
of the benchmarked database's statistics.
    sample_waits.py --db mps --out run.waits -- pgbench ..."""

import argparse
import json
import subprocess
import sys
import time
from collections import Counter

import psycopg

QUERY = """SELECT backend_type = 'autovacuum worker',
                   CASE WHEN backend_type = 'autovacuum worker' THEN regexp_replace(query, '^autovacuum: ', '')
                        ELSE coalesce(wait_event_type || ':' || wait_event, 'CPU') END
              FROM pg_stat_activity
             WHERE datname = %s AND pid <> pg_backend_pid()
               AND (backend_type = 'client backend' AND state = 'active' OR backend_type = 'autovacuum worker')"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--interval", type=float, default=0.02)
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    command = a.command[1:] if a.command[:1] == ["--"] else a.command

    waits, autovacuum, polls = Counter(), Counter(), 0
    # autocommit: pg_stat_activity is read once per transaction, so each poll needs its own
    with psycopg.connect(dbname="postgres", autocommit=True) as conn:
        proc = subprocess.Popen(command)
        while proc.poll() is None:
            for is_autovacuum, what in conn.execute(QUERY, (a.db,)):
                (autovacuum if is_autovacuum else waits)[what] += 1
            polls += 1
            time.sleep(a.interval)
    with open(a.out, "w") as f:
        json.dump({"waits": waits, "autovacuum": autovacuum, "polls": polls}, f)
    sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
