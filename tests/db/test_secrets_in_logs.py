"""No secrets in the server log (README, "Operations: backups, read replicas, dropping, logs").
Under the default log_min_error_statement the server logs the statement of every failing
call, and a psql or script call with literal arguments carries passwords, session ids and QR
codes in that statement: mps_ext's errors are logged without it."""

import os
import uuid
from pathlib import Path

import psycopg
import pytest

from mps import admin_connect

LOG = Path(os.environ.get("PGHOST", "/nonexistent")).parent / "server.log"


def log_after(mark: int) -> str:
    with open(LOG, "rb") as f:
        f.seek(mark)
        return f.read().decode(errors="replace")


def test_failing_calls_with_literal_secrets_leave_them_out_of_the_log(database, member):
    secret = f"pw-{uuid.uuid4().hex}"
    session = f"sid-{uuid.uuid4().hex}"
    marker = f"marker-{uuid.uuid4().hex}"
    assert LOG.exists(), f"scripts/test.sh's cluster writes its log to {LOG}"
    mark = LOG.stat().st_size
    with admin_connect(database) as conn:
        conn.autocommit = True
        cur = psycopg.ClientCursor(conn)  # literal arguments in the statement text, as psql sends them
        for statement in (
            f"select public.member_login('{member['phone']}', '{secret}')",
            f"select public.merchant_login('NO-SUCH-SHOP', '{secret}')",
            f"select public.set_member_password('{member['id']}', '{secret[:5]}')",
            f"select public.get_user_role('{session}')",
            f"select 1 / 0, '{marker}'",  # PostgreSQL's own error: its statement is logged
        ):
            with pytest.raises(psycopg.Error):
                cur.execute(statement)
    logged = log_after(mark)
    assert "INVALID_PASSWORD" in logged and "SESSION_INVALID" in logged and "PASSWORD_TOO_SHORT" in logged
    assert marker in logged  # the log does record statements: the next assertions can fail
    assert secret not in logged and secret[:5] + "'" not in logged
    assert session not in logged
