"""Runs a command (a pgbench run) and meanwhile samples, every --interval seconds, what the
active client backends of database --db wait on ("CPU": on nothing) and what autovacuum does
there (on two cores a worker vacuuming a large table takes CPU from the run). It also measures
the CPU the run cost: the command's own (pgbench's), and the server's, as the CPU time of the
server processes that ended during the run (its client backends, which end when pgbench
disconnects, and any autovacuum worker: one that was running already counts only the CPU it
used after the run started), which the postmaster collects when it reaps them;
that needs the server on this machine and every such process reaped within a minute, else
"server_s" is null. Then it writes
{"waits": {event: samples}, "autovacuum": {what: polls}, "polls": n,
 "cpu": {"server_s": s, "client_s": s}} as JSON to --out and exits with the command's status.
`sample_waits.py --figures PGBENCH_OUTPUT OUT` prints what a run of pgbench made of it: its TPS
and the server's CPU per transaction in µs ("-" if not measured), as `figures()` reads them.
It connects to the postgres database (libpq's PG* environment), before the command starts, so
that its own polls stay out of the benchmarked database's statistics, and its own backend,
alive until the end, out of the server's CPU.
    sample_waits.py --db mps --out run.waits -- pgbench ..."""

import argparse
import json
import os
import re
import resource
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


def proc_stat(pid):
    """Fields of /proc/PID/stat after the command name (field 3 onwards), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def reaped_cpu_s(postmaster):
    """CPU seconds of the postmaster's children that have ended (cutime + cstime), or None."""
    fields = proc_stat(postmaster) if postmaster else None
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK") if fields else None


def own_cpu_s(pid):
    """CPU seconds process PID has used so far (utime + stime), or 0 if it is gone."""
    fields = proc_stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") if fields else 0.0


def children(parent):
    """PIDs of the processes whose parent is PARENT, ended but not yet reaped ones included."""
    pids = set()
    for entry in os.listdir("/proc"):
        fields = proc_stat(entry) if entry.isdigit() else None
        if fields and int(fields[1]) == parent:
            pids.add(int(entry))
    return pids


def wait_reaped(postmaster, lasting, timeout=60.0):
    """Waits until the postmaster has reaped every child but LASTING (those that were there
    before the run), so that their CPU is in its cutime: after a run with many clients the
    backends take a while to end, and an autovacuum worker may be busy. Whether it has."""
    deadline = time.monotonic() + timeout
    while children(postmaster) - lasting:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def figures(pgbench_output, waits):
    """A pgbench run's TPS and transactions (from its output) and the server's and pgbench's
    CPU per transaction in µs (from the --out file of its sampling; the server's None when it
    could not be measured)."""
    with open(pgbench_output) as f:
        out = f.read()
    tps = re.search(r"tps = ([0-9.]+)", out)
    done = re.search(r"number of transactions actually processed: (\d+)", out)
    transactions = int(done.group(1)) if done else 0
    with open(waits) as f:
        cpu = json.load(f).get("cpu") or {}
    per = {k: (v / transactions * 1e6 if v is not None and transactions else None) for k, v in cpu.items()}
    return {"tps": float(tps.group(1)) if tps else 0.0, "transactions": transactions,
            "server_us": per.get("server_s"), "client_us": per.get("client_s")}


def main():
    if sys.argv[1:2] == ["--figures"]:
        run = figures(*sys.argv[2:4])
        print(run["tps"], "-" if run["server_us"] is None else round(run["server_us"]))
        return
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
        own = proc_stat(conn.info.backend_pid)  # our backend's parent is the postmaster
        postmaster = int(own[1]) if own else None
        lasting = children(postmaster) if postmaster else set()
        # a process already running (an autovacuum worker) that ends during the run brings all
        # its CPU into the postmaster's cutime: what it had used before the run is not the run's
        used_before = {pid: own_cpu_s(pid) for pid in lasting}
        server_before = reaped_cpu_s(postmaster)
        proc = subprocess.Popen(command)
        while proc.poll() is None:
            for is_autovacuum, what in conn.execute(QUERY, (a.db,)):
                (autovacuum if is_autovacuum else waits)[what] += 1
            polls += 1
            time.sleep(a.interval)
        # a child still running would be missing from the figure: none then, not a wrong one
        server_after = reaped_cpu_s(postmaster) if postmaster and wait_reaped(postmaster, lasting) else None
        if server_after is not None:
            ended = lasting - children(postmaster)
            server_after -= sum(used_before[pid] for pid in ended)
    client = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = {"server_s": None if server_before is None or server_after is None else server_after - server_before,
           "client_s": client.ru_utime + client.ru_stime}
    with open(a.out, "w") as f:
        json.dump({"waits": waits, "autovacuum": autovacuum, "polls": polls, "cpu": cpu}, f)
    sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
