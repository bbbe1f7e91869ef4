#!/usr/bin/env bash
# Sets up everything this machine lacks, builds and installs mps_ext, starts a PostgreSQL 15
# cluster under .cluster/demo, creates database mps_demo with the extension and runs the
# demo flow, printing each step. `bash scripts/demo.sh stop` stops the demo cluster.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ "${1:-}" = stop ]; then
    stop_cluster_dir "$ROOT/.cluster/demo"
    exit 0
fi

ensure_toolchain
ensure_python
install_extension
start_cluster demo "${MPS_DEMO_PORT:-5488}"
create_database mps_demo
log "demo flow"
MPS_DEMO_DB=mps_demo "$PYTHON" "$ROOT/demo/demo.py"
log "the demo cluster keeps running: psql -h $CLUSTER_SOCK -p $CLUSTER_PORT -U postgres mps_demo"
log "stop it with: bash scripts/demo.sh stop"
