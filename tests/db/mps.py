"""A client that talks to the database the way PostgREST does for `POST /rpc/<fn>`:
one transaction per request, the transaction-scoped set_config prologue (role, JWT claims,
request method/path/headers), named arguments."""

import json
import os

import psycopg
from psycopg import sql
from psycopg.rows import dict_row


def dsn(database: str, user: str, host: str | None = None, port: int | None = None) -> str:
    """The test cluster's (PGHOST, PGPORT), or another server's (a hot standby)."""
    host = host or os.environ.get("PGHOST", "/tmp")
    port = port or os.environ.get("PGPORT", "5432")
    return f"host={host} port={port} dbname={database} user={user}"


def admin_connect(database: str) -> psycopg.Connection:
    return psycopg.connect(dsn(database, "postgres"), row_factory=dict_row)


def drop_database(name: str) -> None:
    with admin_connect("postgres") as conn:
        conn.autocommit = True
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def recreate_database(name: str, version: str | None = None, extension: bool = True) -> None:
    """A new, empty database `name`, with mps_ext (at `version`, default the latest) unless
    `extension` is false, and the login roles of scripts/lib.sh's create_database:
    PostgREST's `authenticator`, able to switch to the API roles as on Supabase, and
    `mps_pos`, the POS and script login, a member of `anon` only."""
    drop_database(name)
    with admin_connect("postgres") as conn:
        conn.autocommit = True
        for role in ("authenticator", "mps_pos"):
            conn.execute(f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}')"
                         f" THEN CREATE ROLE {role} LOGIN NOINHERIT; END IF; END $$")
        conn.execute(f"CREATE DATABASE {name}")
    if extension:
        with admin_connect(name) as conn:
            conn.execute("CREATE EXTENSION mps_ext" + (f" VERSION '{version}'" if version else ""))
            if version is None:  # the set-up step after CREATE EXTENSION (sql/14_partitions.sql)
                conn.execute("SELECT create_transaction_partitions()")
            conn.execute("GRANT anon, authenticated, service_role TO authenticator")
            conn.execute("GRANT anon TO mps_pos")
            conn.commit()


ANON = {"role": "anon"}
SERVICE = {"role": "service_role"}


def user_claims(sub) -> dict:
    return {"role": "authenticated", "sub": str(sub), "aud": "authenticated"}


class Request:
    """One identity (role + claims) over an Api connection."""

    def __init__(self, api: "Api", claims: dict | None, xids: dict | None = None):
        self.api = api
        self.claims = claims
        # When given: each call's transaction id, if it got one (txid_current_if_assigned), by function.
        self.xids = xids

    def _run(self, fn: str, args: dict, query):
        conn = self.api.conn
        role = (self.claims or {}).get("role")
        try:
            with conn.transaction():
                with conn.cursor() as cur:
                    cur.execute(
                        "select set_config('search_path', 'public', true),"
                        " set_config('role', %s, true),"
                        " set_config('request.jwt.claims', %s, true),"
                        " set_config('request.method', 'POST', true),"
                        " set_config('request.path', %s, true),"
                        " set_config('request.headers', '{}', true)",
                        (role or "none", json.dumps(self.claims) if self.claims else "", f"/rpc/{fn}"),
                    )
                    named = sql.SQL(", ").join(
                        sql.SQL("{} := {}").format(sql.Identifier(k), sql.Placeholder(k)) for k in args
                    )
                    cur.execute(query.format(fn=sql.Identifier(fn), args=named), args)
                    rows = cur.fetchall()
                    if self.xids is not None:
                        self.xids[fn] = cur.execute("select txid_current_if_assigned() as xid").fetchone()["xid"]
                    return rows
        except psycopg.Error:
            raise

    def rows(self, fn: str, **args) -> list[dict]:
        """A set- or table-returning RPC: every row as a dict."""
        return self._run(fn, args, sql.SQL("select * from public.{fn}({args})"))

    def scalar(self, fn: str, **args):
        """A scalar RPC: its value."""
        rows = self._run(fn, args, sql.SQL("select public.{fn}({args}) as value"))
        return rows[0]["value"]

    def execute(self, statement: str, params=None) -> list[dict]:
        """Plain SQL under this identity (the table API)."""
        conn = self.api.conn
        role = (self.claims or {}).get("role")
        with conn.transaction():
            with conn.cursor() as cur:
                cur.execute("select set_config('role', %s, true), set_config('request.jwt.claims', %s, true)",
                            (role or "none", json.dumps(self.claims) if self.claims else ""))
                cur.execute(statement, params)
                return cur.fetchall() if cur.description else []


class Api:
    def __init__(self, database: str, user: str = "authenticator", host: str | None = None, port: int | None = None):
        self.conn = psycopg.connect(dsn(database, user, host, port), row_factory=dict_row)

    def close(self):
        self.conn.close()

    def as_anon(self) -> Request:
        return Request(self, ANON)

    def as_service(self) -> Request:
        return Request(self, SERVICE)

    def as_user(self, sub) -> Request:
        return Request(self, user_claims(sub))

    def as_claims(self, claims: dict | None) -> Request:
        return Request(self, claims)


def fails(call, *args, **kwargs) -> tuple[str, str]:
    """Calls `call`, which must raise; returns (SQLSTATE, message). Every error of ours (all
    but PostgreSQL's own "permission denied for …") must carry a DETAIL."""
    import pytest

    with pytest.raises(psycopg.Error) as e:
        call(*args, **kwargs)
    if not e.value.diag.message_primary.startswith("permission denied for"):
        assert e.value.diag.message_detail, "every error of ours carries a DETAIL"
    return error_of(e)


def error_of(excinfo) -> tuple[str, str]:
    """(SQLSTATE, message) of a psycopg error caught by pytest.raises."""
    e = excinfo.value
    return e.sqlstate, e.diag.message_primary
