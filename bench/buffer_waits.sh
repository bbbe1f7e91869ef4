#!/usr/bin/env bash
# Which buffers do charges wait on? `LWLock:BufferContent` in pg_stat_activity names no buffer;
# this traces the server's LWLockAcquire with bpftrace (uprobes, no debug symbols needed) while
# pgbench charges, and adds up, per relation and lock mode, the buffer content locks taken and
# the time spent taking them, with the blocks of the slow ones (over 20 µs).
#   bash bench/buffer_waits.sh                        (16 clients, one merchant, CPU-bound)
# Knobs: WAITS_CLIENTS (16), WAITS_MERCHANTS (1; 100: a random one per charge), WAITS_CARDS
# (20000), WAITS_SECONDS traced (10), MPS_BENCH_PORT (5503). Needs root (uprobes) and a kernel
# with uprobes; installs bpftrace. A probe costs a few µs per lock taken, so throughput falls
# and lock hold times grow while tracing: read the figures as a ranking, not as timings.
#
# PostgreSQL 15's layout, which the probe reads: an LWLock starts with its tranche id (uint16;
# 56 is LWTRANCHE_BUFFER_CONTENT), and a buffer's content lock sits 36 bytes into its
# BufferDesc, after the buffer tag (tablespace, database, relfilenode, fork, block: 5 × 4
# bytes), buf_id, state, wait_backend_pgprocno and freeNext.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

CLIENTS=${WAITS_CLIENTS:-16}
MERCHANTS=${WAITS_MERCHANTS:-1}
CARDS=${WAITS_CARDS:-20000}
TRACED=${WAITS_SECONDS:-10}
export MPS_BENCH_PORT=${MPS_BENCH_PORT:-5503}

ensure_toolchain
command -v bpftrace >/dev/null || as_root apt-get install -y -qq --no-install-recommends bpftrace >/dev/null
[ -e /sys/kernel/tracing/uprobe_events ] || as_root mount -t tracefs nodev /sys/kernel/tracing
install_extension
start_bench_cluster buffer-waits
OUT="$CLUSTER_DIR/trace"
mkdir -p "$OUT"

log "loading $CARDS cards, 100 merchants"
create_database mps >/dev/null
load_bench_cards "$CARDS"

if [ "$MERCHANTS" = 1 ]; then workload_args charge; else workload_args charge_merchants; fi
charges() {  # charges SECONDS: pgbench charges, CPU-bound, new connections
    PGOPTIONS="-c synchronous_commit=off" "$PGBIN/pgbench" -n -M prepared -c "$CLIENTS" -j 2 -T "$1" \
        "${WORKLOAD_ARGS[@]}" mps
}
# A warm-up, then ANALYZE: a foreign key's check is planned once per connection, and planned
# while a table is nearly empty it scans the table on every check until an ANALYZE replans it.
log "warming up"
charges 5 >/dev/null
psql -qX -v ON_ERROR_STOP=1 -d mps -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
log "charging with $CLIENTS clients, tracing ${TRACED}s of it"
charges $((TRACED + 10)) > "$OUT/pgbench.txt" 2>&1 &
pgbench_pid=$!
sleep 5
as_root bpftrace -e "
uprobe:$PGBIN/postgres:LWLockAcquire / *(uint16 *)arg0 == 56 / {
  @since[tid] = nsecs; @lock[tid] = arg0; @mode[tid] = arg1;
}
uretprobe:$PGBIN/postgres:LWLockAcquire /@since[tid]/ {
  \$took = nsecs - @since[tid];
  \$rel = *(uint32 *)(@lock[tid] - 28);
  @taken[\$rel, @mode[tid]] = count();
  @ns[\$rel, @mode[tid]] = sum(\$took);
  if (\$took > 20000) { @slow[\$rel, *(uint32 *)(@lock[tid] - 20), @mode[tid]] = count(); }
  delete(@since[tid]); delete(@lock[tid]); delete(@mode[tid]);
}
interval:s:$TRACED { exit(); }
END { clear(@since); clear(@lock); clear(@mode); }" > "$OUT/trace.txt" 2> "$OUT/bpftrace.err"
wait "$pgbench_pid"
grep -E '^tps' "$OUT/pgbench.txt"
psql -qAtX -d mps -c "SELECT relfilenode, oid::regclass FROM pg_class WHERE relfilenode <> 0" > "$OUT/relations.txt"

python3 - "$OUT" <<'PY'
import collections, re, sys
out = sys.argv[1]
names = dict(line.rstrip("\n").split("|", 1) for line in open(f"{out}/relations.txt"))
text = open(f"{out}/trace.txt").read()
def table(name):
    return {tuple(k.split(", ")): int(v) for k, v in re.findall(r"@%s\[([^\]]*)\]: (\d+)" % name, text)}
taken, ns, slow = table("taken"), table("ns"), table("slow")
if not taken:
    sys.exit("no buffer content lock was traced: " + open(f"{out}/bpftrace.err").read())
MODES = {"0": "exclusive", "1": "shared"}  # LW_EXCLUSIVE, LW_SHARED
total = sum(ns.values()) or 1
print(f"buffer content locks: {sum(taken.values()):,} taken, {total / 1e6:,.0f} ms taking them")
print("  ms taking | share | taken | mode | relation | slow (> 20 µs): count, top blocks")
slow_by = collections.defaultdict(collections.Counter)
for (rel, block, mode), n in slow.items():
    slow_by[rel, mode][block] += n
for (rel, mode), t in sorted(ns.items(), key=lambda kv: -kv[1])[:20]:
    blocks = slow_by[rel, mode]
    top = ", ".join(f"{b} ({n})" for b, n in blocks.most_common(3))
    print(f"  {t / 1e6:9.0f} | {t / total:5.1%} | {taken[rel, mode]:7,} | {MODES.get(mode, mode):9} | {names.get(rel, rel)}"
          f" | {sum(blocks.values()):,}{': ' + top if top else ''}")
PY
