"""Runs a command (a pgbench run) and meanwhile samples, every --interval seconds, what the
active client backends of database --db wait on ("CPU": on nothing); then writes {event:
samples} as JSON to --out and exits with the command's status. It connects to the postgres
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

QUERY = """SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') FROM pg_stat_activity
            WHERE state = 'active' AND backend_type = 'client backend' AND datname = %s
              AND pid <> pg_backend_pid()"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--interval", type=float, default=0.02)
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    command = a.command[1:] if a.command[:1] == ["--"] else a.command

    counts = Counter()
    # autocommit: pg_stat_activity is read once per transaction, so each poll needs its own
    with psycopg.connect(dbname="postgres", autocommit=True) as conn:
        proc = subprocess.Popen(command)
        while proc.poll() is None:
            counts.update(event for (event,) in conn.execute(QUERY, (a.db,)))
            time.sleep(a.interval)
    with open(a.out, "w") as f:
        json.dump(counts, f)
    sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
