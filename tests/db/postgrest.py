"""PostgREST's `POST /rpc/<fn>` (and the simple table reads `GET /<table>?select=*&col=eq.v`)
reproduced on a real connection, per PostgREST's source
(Query/PreQuery.hs, Query/QueryBuilder.hs, Query/Statements.hs) and docs (errors.rst):

* one transaction, READ ONLY unless the function is VOLATILE;
* one `select set_config(...)` statement with the transaction-local request settings;
* the JSON body bound as one parameter and exploded with json_to_record into the
  function's named arguments (arguments absent from the body are left to their defaults);
* the result wrapped as PostgREST shapes it: a JSON array for set-returning functions, an
  object for a composite, a bare value for a scalar;
* errors mapped from SQLSTATE to the HTTP status PostgREST answers with."""

import json
from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from mps import dsn


def http_status(sqlstate: str, authenticated: bool) -> int:
    """PostgREST's SQLSTATE → HTTP table (docs/references/errors.rst)."""
    exact = {"23503": 409, "23505": 409, "25006": 405, "P0001": 400, "42883": 404, "42P01": 404, "42P17": 500,
             "53400": 500}
    if sqlstate in exact:
        return exact[sqlstate]
    if sqlstate == "42501":
        return 403 if authenticated else 401
    prefix = sqlstate[:2]
    by_class = {"08": 503, "09": 500, "0L": 403, "0P": 403, "25": 500, "28": 403, "2D": 500, "38": 500, "39": 500,
                "3B": 500, "40": 500, "53": 503, "54": 500, "55": 500, "57": 500, "58": 500, "F0": 500, "HV": 500,
                "XX": 500}
    if prefix in by_class:
        return by_class[prefix]
    if prefix == "P0":
        return 500
    return 400


@dataclass
class Response:
    status: int
    body: object


@dataclass
class Signature:
    arguments: list[tuple[str, str]]  # (name, type) in declaration order
    returns_set: bool
    returns_composite: bool
    volatile: bool


class PostgREST:
    """A PostgREST stand-in on one `authenticator` connection, exposing schema public."""

    def __init__(self, database: str):
        self.conn = psycopg.connect(dsn(database, "authenticator"), autocommit=True, row_factory=dict_row)
        self.signatures: dict[str, Signature] = {}
        self._load_schema_cache()

    def close(self):
        self.conn.close()

    def _load_schema_cache(self):
        rows = self.conn.execute(
            "select p.proname, p.proretset, t.typtype = 'c' as composite, p.provolatile = 'v' as volatile,"
            "       coalesce(array(select format_type(x, null) from unnest(p.proargtypes) x), '{}') as types,"
            "       coalesce(p.proargnames, '{}') as names"
            "  from pg_proc p join pg_type t on t.oid = p.prorettype"
            " where p.pronamespace = 'public'::regnamespace").fetchall()
        for r in rows:
            args = list(zip(r["names"][: len(r["types"])], r["types"]))
            self.signatures[r["proname"]] = Signature(args, r["proretset"], r["composite"], r["volatile"])

    def rpc(self, fn: str, body: dict, claims: dict | None) -> Response:
        sig = self.signatures.get(fn)
        if sig is None or any(k not in dict(sig.arguments) for k in body):
            return Response(404, {"code": "PGRST202", "message": f"Could not find the function public.{fn}"})
        present = [(n, t) for n, t in sig.arguments if n in body]
        record = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t)) for n, t in present)
        columns = sql.SQL(", ").join(sql.Identifier(n) for n, _ in present)
        call_args = sql.SQL(", ").join(
            sql.SQL("{} := pgrst_body.{}").format(sql.Identifier(n), sql.Identifier(n)) for n, _ in present)
        body_sql = (sql.SQL("LATERAL (SELECT {} FROM json_to_record(pgrst_payload.json_data) AS _({}) LIMIT 1) pgrst_body")
                    .format(columns, record) if present else sql.SQL("LATERAL (SELECT 1) pgrst_body"))
        scalar = not sig.returns_set and not sig.returns_composite
        call = sql.SQL("LATERAL {}.{}({}) pgrst_call{}").format(
            sql.Identifier("public"), sql.Identifier(fn), call_args, sql.SQL("(pgrst_scalar)") if scalar else sql.SQL(""))
        if sig.returns_set:
            shape = sql.SQL("coalesce(json_agg(_postgrest_t), '[]')::text")
        elif scalar:
            shape = sql.SQL("coalesce((json_agg(_postgrest_t.pgrst_scalar)->0)::text, 'null')")
        else:
            shape = sql.SQL("coalesce((json_agg(_postgrest_t)->0)::text, 'null')")
        query = sql.SQL(
            "WITH pgrst_source AS (SELECT pgrst_call.* FROM (SELECT %(body)s::json AS json_data) pgrst_payload, {}, {})"
            " SELECT {} AS body FROM (SELECT * FROM pgrst_source) _postgrest_t").format(body_sql, call, shape)
        return self._run(claims, "POST", f"/rpc/{fn}", "READ WRITE" if sig.volatile else "READ ONLY", query,
                         {"body": json.dumps(body, default=str)})

    def read(self, table: str, columns: str, filters: dict[str, str], claims: dict | None) -> Response:
        """`GET /<table>?select=<columns>&<column>=eq.<value>…`: only `*` or a column list, and
        `eq.` filters (what the original client's table reads use)."""
        target = sql.SQL("{}.{}").format(sql.Identifier("public"), sql.Identifier(table))
        picked = sql.SQL("{}.*").format(target) if columns == "*" else sql.SQL(", ").join(
            sql.SQL("{}.{}").format(target, sql.Identifier(c)) for c in columns.split(","))
        where = sql.SQL(" AND ").join(
            sql.SQL("{}.{} = {}").format(target, sql.Identifier(c), sql.Placeholder(c)) for c in filters)
        query = sql.SQL("WITH pgrst_source AS (SELECT {} FROM {}{}) SELECT coalesce(json_agg(_postgrest_t), '[]')::text"
                        " AS body FROM (SELECT * FROM pgrst_source) _postgrest_t").format(
            picked, target, sql.SQL(" WHERE ") + where if filters else sql.SQL(""))
        values = {c: v.removeprefix("eq.") for c, v in filters.items()}
        return self._run(claims, "GET", f"/{table}", "READ ONLY", query, values)

    def _run(self, claims: dict | None, method: str, path: str, access: str, query, params) -> Response:
        """One request: its transaction, the transaction-local request settings, the query."""
        role = (claims or {}).get("role", "anon")
        try:
            with self.conn.transaction():
                self.conn.execute(f"SET TRANSACTION ISOLATION LEVEL READ COMMITTED, {access}")
                self.conn.execute(
                    "select set_config('search_path', 'public, extensions', true), set_config('role', %s, true),"
                    " set_config('request.jwt.claims', %s, true), set_config('request.method', %s, true),"
                    " set_config('request.path', %s, true), set_config('request.headers', %s, true)",
                    (role, json.dumps(claims or {"role": "anon"}), method, path,
                     json.dumps({"content-type": "application/json", "prefer": "return=representation"})))
                text = self.conn.execute(query, params).fetchone()["body"]
                return Response(200, json.loads(text))
        except psycopg.Error as e:
            authenticated = role != "anon"
            return Response(http_status(e.sqlstate or "XX000", authenticated),
                            {"code": e.sqlstate, "message": e.diag.message_primary, "details": e.diag.message_detail,
                             "hint": e.diag.message_hint})


class Caller:
    """The Request interface of mps.py over PostgREST: rows() and scalar() raise on errors."""

    def __init__(self, server: PostgREST, claims: dict | None):
        self.server, self.claims = server, claims
        self.responses: list[tuple[str, Response]] = []

    def _call(self, fn, args):
        response = self.server.rpc(fn, args, self.claims)
        self.responses.append((fn, response))
        if response.status != 200:
            raise RpcError(fn, response)
        return response.body

    def rows(self, fn, **args):
        return self._call(fn, args)

    def scalar(self, fn, **args):
        return self._call(fn, args)


class RpcError(Exception):
    def __init__(self, fn, response):
        super().__init__(f"{fn}: HTTP {response.status} {response.body}")
        self.response = response
