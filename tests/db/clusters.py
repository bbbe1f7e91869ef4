"""Throwaway PostgreSQL 15 clusters for tests that need server settings of their own (the
main test cluster is scripts/test.sh's). Owned by the postgres OS user, as initdb demands."""

import contextlib
import dataclasses
import os
import shutil
import subprocess
import tempfile

import psycopg
from psycopg.rows import dict_row

PGBIN = "/usr/lib/postgresql/15/bin"


def as_postgres(*cmd: str, check: bool = True) -> int:
    runner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else ["sudo", "-u", "postgres"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUST_")}
    return subprocess.run([*runner, *cmd], check=check, env=env, stdout=subprocess.DEVNULL).returncode


@dataclasses.dataclass
class Cluster:
    host: str  # the socket directory, also the directory of `data`
    port: int

    @property
    def postmaster_pid(self) -> int:
        with open(os.path.join(self.host, "data", "postmaster.pid")) as f:
            return int(f.readline())

    def connect(self, dbname: str = "postgres") -> psycopg.Connection:
        """A superuser connection, autocommit."""
        return psycopg.connect(f"host={self.host} port={self.port} dbname={dbname} user=postgres", autocommit=True,
                               row_factory=dict_row)


@contextlib.contextmanager
def scratch_cluster(port: int, settings: dict[str, str], standby_of: tuple[str, str] | None = None):
    """A fresh cluster on 127.0.0.1:`port` with `settings`: a new one (initdb), or a streaming
    hot standby of the server at `standby_of` = (host, port) (pg_basebackup -R)."""
    root = tempfile.mkdtemp(prefix="mps-scratch-")
    shutil.chown(root, "postgres", "postgres")
    data = os.path.join(root, "data")
    if standby_of:
        host, primary_port = standby_of
        as_postgres(f"{PGBIN}/pg_basebackup", "-h", host, "-p", str(primary_port), "-U", "postgres", "-D", data,
                    "-R", "-X", "stream", "-c", "fast")
    else:
        as_postgres(f"{PGBIN}/initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
    options = " ".join(f"-c {k}={v}" for k, v in {"listen_addresses": "127.0.0.1", **settings}.items())
    as_postgres(f"{PGBIN}/pg_ctl", "-D", data, "-l", os.path.join(root, "log"), "-w", "-o",
                f"-p {port} -k {root} {options}", "start")
    try:
        yield Cluster(root, port)
    finally:
        # fails when the test has killed the server already
        as_postgres(f"{PGBIN}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(root, ignore_errors=True)
