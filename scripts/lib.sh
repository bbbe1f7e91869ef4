# Shared set-up steps for scripts/demo.sh and scripts/test.sh. Source it; do not run it.
# Everything here is idempotent: a ready machine skips every install in seconds.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PGRX_VERSION=0.18.1
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config   # not /usr/bin/pg_config: that is a wrapper
PGBIN=/usr/lib/postgresql/15/bin
APT_PACKAGES=(postgresql-15 postgresql-server-dev-15 postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl postgresql-15-cron
              libclang-dev clang build-essential pkg-config libssl-dev sudo python3-venv pgbouncer)
export DEBIAN_FRONTEND=noninteractive CARGO_TERM_COLOR=never
# rustup's cargo and the system tools (runuser, pg_prove), also where the caller's PATH lacks
# them (CI, cron, sudo)
export PATH="$HOME/.cargo/bin:$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
export USER="${USER:-root}"
# A backtrace in the server's environment would end up in error DETAILs.
unset RUST_BACKTRACE RUSTFLAGS

log() { printf '==> %s\n' "$*"; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

ensure_toolchain() {
    if ! dpkg -s "${APT_PACKAGES[@]}" >/dev/null 2>&1; then
        log "installing Debian packages: ${APT_PACKAGES[*]}"
        as_root apt-get update -qq
        as_root apt-get install -y -qq --no-install-recommends "${APT_PACKAGES[@]}" >/dev/null
    fi
    if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
        log "installing rustfmt and clippy"
        rustup component add rustfmt clippy
    fi
    if ! cargo pgrx --version 2>/dev/null | grep -qx "cargo-pgrx $PGRX_VERSION"; then
        log "installing cargo-pgrx $PGRX_VERSION (about 10 minutes on 2 cores)"
        cargo install cargo-pgrx --version "$PGRX_VERSION" --locked
    fi
    # Re-running init rewrites ~/.pgrx/config.toml and forces a rebuild of pgrx-pg-sys.
    grep -qs "^pg15 = \"$PG_CONFIG\"" ~/.pgrx/config.toml || cargo pgrx init --pg15 "$PG_CONFIG" >/dev/null
}

install_extension() {
    log "building and installing mps_ext (release)"
    mkdir -p "$ROOT/.cluster"
    if ! (cd "$ROOT" && as_root env -u RUST_BACKTRACE "$(command -v cargo)" pgrx install --release \
            --pg-config "$PG_CONFIG") >"$ROOT/.cluster/install.log" 2>&1; then
        tail -40 "$ROOT/.cluster/install.log" >&2
        return 1
    fi
    # Earlier versions' install scripts and the upgrade scripts, for ALTER EXTENSION UPDATE.
    as_root install -m 644 "$ROOT"/sql/archive/mps_ext--*.sql "$ROOT"/sql/mps_ext--*--*.sql \
        "$("$PG_CONFIG" --sharedir)/extension/"
}

ensure_python() {
    local venv="$ROOT/.venv"
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv"
    fi
    if ! "$venv/bin/python" -c 'import psycopg, pytest' 2>/dev/null \
       || ! cmp -s "$ROOT/tests/requirements.txt" "$venv/.requirements"; then
        log "installing Python test dependencies"
        "$venv/bin/pip" install -q -r "$ROOT/tests/requirements.txt"
        cp "$ROOT/tests/requirements.txt" "$venv/.requirements"
    fi
    PYTHON="$venv/bin/python"
}

# start_cluster NAME PORT: a fresh PostgreSQL 15 cluster under .cluster/NAME, owned by the
# postgres OS user (initdb refuses root), listening on 127.0.0.1:PORT and a socket dir.
start_cluster() {
    local name=$1 port=$2
    CLUSTER_DIR="$ROOT/.cluster/$name"
    CLUSTER_PORT=$port
    CLUSTER_SOCK="$CLUSTER_DIR/sock"
    stop_cluster_dir "$CLUSTER_DIR"
    if "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port"; then
        echo "port $port is taken by another server; stop it first" >&2
        exit 1
    fi
    as_root rm -rf "$CLUSTER_DIR"
    as_root install -d -o postgres -g postgres "$CLUSTER_DIR" "$CLUSTER_SOCK"
    # The postgres user must be able to reach the repo directory.
    as_root chmod o+x "$ROOT" "$ROOT/.cluster"
    as_root runuser -u postgres -- "$PGBIN/initdb" -D "$CLUSTER_DIR/data" -U postgres --auth=trust \
        --locale=C.UTF-8 -E UTF8 >/dev/null
    cat "$ROOT/scripts/postgresql.conf" | as_root tee -a "$CLUSTER_DIR/data/postgresql.conf" >/dev/null
    launch_cluster
    export PGHOST="$CLUSTER_SOCK" PGPORT="$port" PGUSER=postgres
}

# launch_cluster: starts the initialized cluster of start_cluster (again, e.g. after a crash).
launch_cluster() {
    as_root env -u RUST_BACKTRACE runuser -u postgres -- "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/data" \
        -l "$CLUSTER_DIR/server.log" -o "-p $CLUSTER_PORT -k $CLUSTER_SOCK -c listen_addresses=127.0.0.1" -w start >/dev/null
}

stop_cluster_dir() {
    local dir=$1
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_root runuser -u postgres -- "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
}

stop_cluster() { stop_cluster_dir "$CLUSTER_DIR"; }

# start_bench_cluster [NAME]: a benchmark's own cluster under .cluster/NAME (bench), with
# bench/postgresql.conf added (stopped when the script exits). A script that may run beside
# bench/run.sh names its own: start_cluster stops and wipes the cluster of its name.
start_bench_cluster() {
    start_cluster "${1:-bench}" "${MPS_BENCH_PORT:-5491}"
    trap stop_cluster EXIT
    cat "$ROOT/bench/postgresql.conf" | as_root tee -a "$CLUSTER_DIR/data/postgresql.conf" >/dev/null
    as_root env -u RUST_BACKTRACE runuser -u postgres -- "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/data" -m fast -w restart \
        -l "$CLUSTER_DIR/server.log" -o "-p $CLUSTER_PORT -k $CLUSTER_SOCK -c listen_addresses=127.0.0.1" >/dev/null
}

# create_database NAME: the API roles and the login roles, then the database with the
# extension and this month's and the next three months' partitions of transactions. The extension itself creates anon/authenticated/service_role/mps_admin where
# they are missing. The login roles are the operator's (roles are cluster-wide):
#   authenticator  PostgREST's own login; may become anon, authenticated and service_role, so
#                  its credentials never leave the PostgREST server;
#   mps_pos        what POS terminals and scripts outside the server log in as: a member of
#                  anon only, so it acts through the RPCs and a merchant or member session.
create_database() {
    local db=$1
    psql -qX -v ON_ERROR_STOP=1 -d postgres <<SQL
DO \$\$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticator') THEN
        CREATE ROLE authenticator LOGIN NOINHERIT;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mps_pos') THEN
        CREATE ROLE mps_pos LOGIN NOINHERIT;
    END IF;
END \$\$;
DROP DATABASE IF EXISTS $db;
CREATE DATABASE $db;
SQL
    psql -qX -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL'
CREATE EXTENSION mps_ext;
SELECT create_transaction_partitions();
GRANT anon, authenticated, service_role TO authenticator;
GRANT anon TO mps_pos;
SQL
}

# load_bench_cards CARDS [HISTORY]: into the database mps (made by the caller), what
# bench/paired.sh, decompose.sh and buffer_waits.sh charge: CARDS members with cards and live QR
# codes, 100 merchants with sessions, HISTORY members (1) with 50 movements each (bench/load.sql).
load_bench_cards() {
    psql -qX -v ON_ERROR_STOP=1 -d mps -v cards="$1" -v history="${2:-1}" -v history_txs=50 -v logins=1 \
        -v merchants=100 -f "$ROOT/bench/load.sql" >/dev/null
    psql -qX -v ON_ERROR_STOP=1 -d mps -v n="$1" -f "$ROOT/bench/scripts/live_codes.sql" >/dev/null
}

# list_refund_payments SHOP: lists in mps_bench.payments the payments the benchmark's refunds
# pick from (merchant SHOP's, bench/scripts/refund_payments.sql); prints how many.
list_refund_payments() {
    psql -qX -v ON_ERROR_STOP=1 -d mps -v shop="$1" -f "$ROOT/bench/scripts/refund_payments.sql" >/dev/null
    psql -qAtX -d mps -c "SELECT count(*) FROM mps_bench.payments"
}

# bench_shop: merchant 1's code and session (bench/load.sql) into SHOP and SESSION: the
# benchmark's refunds and holds are merchant 1's.
bench_shop() {
    IFS='|' read -r SHOP SESSION < <(psql -qAtX -d mps -c "SELECT code, session_id FROM mps_bench.merchants WHERE n = 1")
}

# workload_args WORKLOAD: the pgbench arguments of a benchmark workload (bench/scripts/) into
# the array WORKLOAD_ARGS, for bench/run.sh, paired.sh, decompose.sh and buffer_waits.sh.
# tpcb: pgbench's own TPC-B (no arguments; database tpcb, as select_only). Charges: charge
# (one merchant, CARDS cards), charge_merchants (a random one of MERCHANTS (100) per call),
# charge_hot (10 hot cards); refund (of a random one of the PAYMENTS listed by
# list_refund_payments, merchant SHOP with SESSION, see bench_shop), recharge (CARDS), history
# (of one of HISTORY_MEMBERS (1) members after the CARDS), select_only (TPC-B scale TPCB_SCALE
# (10)), hold (merchant SHOP's holds on CARDS), login (of LOGINS members); the references of
# bench/decompose.sql: charge_reference, refund_reference, recharge_reference.
workload_args() {
    local scripts=$ROOT/bench/scripts
    case $1 in
        tpcb) WORKLOAD_ARGS=(); return ;;
        charge) WORKLOAD_ARGS=(-f "$scripts/charge.sql" -D cards="$CARDS" -D merchants=1) ;;
        charge_merchants) WORKLOAD_ARGS=(-f "$scripts/charge.sql" -D cards="$CARDS" -D merchants="${MERCHANTS:-100}") ;;
        charge_hot) WORKLOAD_ARGS=(-f "$scripts/charge.sql" -D cards=10 -D merchants=1) ;;
        refund | refund_reference)
            WORKLOAD_ARGS=(-f "$scripts/$1.sql" -D payments="$PAYMENTS" -D merchant="$SHOP" -D session="$SESSION") ;;
        recharge | recharge_reference | charge_reference) WORKLOAD_ARGS=(-f "$scripts/$1.sql" -D cards="$CARDS") ;;
        history) WORKLOAD_ARGS=(-f "$scripts/history.sql" -D cards="$CARDS" -D history="${HISTORY_MEMBERS:-1}") ;;
        select_only) WORKLOAD_ARGS=(-f "$scripts/select_only.sql" -D accounts=$(( ${TPCB_SCALE:-10} * 100000 ))) ;;
        hold) WORKLOAD_ARGS=(-f "$scripts/hold.sql" -D cards="$CARDS" -D merchant="$SHOP" -D session="$SESSION") ;;
        login) WORKLOAD_ARGS=(-f "$scripts/login.sql" -D logins="$LOGINS") ;;
        *) echo "unknown workload $1" >&2; return 1 ;;
    esac
    WORKLOAD_ARGS=(-U authenticator "${WORKLOAD_ARGS[@]}")
}

# median_range VALUES…: "MEDIAN MIN MAX" of the numbers among VALUES ("-" and the like are
# skipped; nothing if there is none), for the benchmark scripts' summaries.
median_range() {
    tr ' ' '\n' <<< "$*" | { grep -E '^[0-9.]+$' || true; } | sort -n |
        awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[1], v[NR] }'
}
