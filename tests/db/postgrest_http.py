"""A PostgREST HTTP endpoint for tests: `POST /rpc/<fn>` and `GET /<table>?select=…&col=eq.…` with
a Bearer JWT (HS256), served by
the protocol reproduction in postgrest.py, so unmodified PostgREST clients can be run."""

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt

from postgrest import PostgREST

JWT_SECRET = "mps-test-jwt-secret-at-least-32-characters"


def key_for(role: str, **claims) -> str:
    return jwt.encode({"role": role, **claims}, JWT_SECRET, algorithm="HS256")


class Server:
    def __init__(self, database: str):
        self.database = database
        local = threading.local()

        def backend():
            if not hasattr(local, "server"):
                local.server = PostgREST(database)
            return local.server

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def claims(self):
                """The verified claims, or None. Like PostgREST without `jwt-aud`, any `aud` is
                accepted (Supabase Auth tokens always carry one); `exp` is checked."""
                token = (self.headers.get("authorization") or "").removeprefix("Bearer ").strip()
                try:
                    return jwt.decode(token, JWT_SECRET, algorithms=["HS256"], options={"verify_aud": False}) \
                        if token else {"role": "anon"}
                except jwt.InvalidTokenError:
                    return None

            def do_POST(self):
                fn = self.path.split("?")[0].rsplit("/rpc/", 1)[-1]
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                if (claims := self.claims()) is None:
                    return self._send(401, {"code": "PGRST301", "message": "JWT invalid"})
                response = backend().rpc(fn, body, claims)
                self._send(response.status, response.body)

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                table = url.path.rsplit("/", 1)[-1]
                query = dict(urllib.parse.parse_qsl(url.query))
                columns = query.pop("select", "*")
                if (claims := self.claims()) is None:
                    return self._send(401, {"code": "PGRST301", "message": "JWT invalid"})
                response = backend().read(table, columns, query, claims)
                self._send(response.status, response.body)

            def _send(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
