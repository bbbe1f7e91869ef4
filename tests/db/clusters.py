"""Throwaway PostgreSQL 15 clusters for tests that need server settings of their own (the
main test cluster is scripts/test.sh's). Owned by the postgres OS user, as initdb demands."""

import contextlib
import os
import shutil
import subprocess
import tempfile

import psycopg
from psycopg.rows import dict_row

PGBIN = "/usr/lib/postgresql/15/bin"


def as_postgres(*cmd: str) -> None:
    runner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else ["sudo", "-u", "postgres"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUST_")}
    subprocess.run([*runner, *cmd], check=True, env=env, stdout=subprocess.DEVNULL)


@contextlib.contextmanager
def scratch_cluster(port: int, settings: dict[str, str]):
    """A fresh cluster on 127.0.0.1:`port` with `settings`; yields a connect(dbname) function
    (superuser, autocommit)."""
    root = tempfile.mkdtemp(prefix="mps-scratch-")
    shutil.chown(root, "postgres", "postgres")
    data, sock = os.path.join(root, "data"), root
    as_postgres(f"{PGBIN}/initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
    options = " ".join(f"-c {k}={v}" for k, v in {"listen_addresses": "127.0.0.1", **settings}.items())
    as_postgres(f"{PGBIN}/pg_ctl", "-D", data, "-l", os.path.join(root, "log"), "-w", "-o",
                f"-p {port} -k {sock} {options}", "start")

    def connect(dbname: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(f"host={sock} port={port} dbname={dbname} user=postgres", autocommit=True,
                               row_factory=dict_row)
    try:
        yield connect
    finally:
        as_postgres(f"{PGBIN}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)
