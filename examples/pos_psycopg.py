"""A point-of-sale client with psycopg: the merchant logs in, charges a QR code idempotently
and refunds part of it. It logs in as `mps_pos`, a role that is a member of `anon` only (the
set-up creates it), acts as `anon` in each transaction, as a Supabase anon key would, and is
authorized by its merchant session alone. Never give a POS `authenticator`'s credentials:
that role may become service_role, a super admin.

    MPS_DSN="host=... dbname=... user=mps_pos password=..." python examples/pos_psycopg.py CODE PASSWORD QR
"""

import os
import sys
import uuid
from decimal import Decimal

import psycopg


def call(conn, query, params):
    with conn.transaction():
        conn.execute("select set_config('role', 'anon', true), "
                     "set_config('request.jwt.claims', '{\"role\":\"anon\"}', true)")
        return conn.execute(query, params).fetchone()


def main(code, password, qr):
    with psycopg.connect(os.environ["MPS_DSN"]) as conn:
        (login,) = call(conn, "select member_login from (select public.merchant_login(%s, %s) as member_login) x",
                        (code, password))
        session = login["session_id"]
        key = f"pos-{uuid.uuid4()}"
        charge = call(conn, "select tx_no, final_amount from public.merchant_charge_by_qr("
                            "p_merchant_code := %s, p_qr_plain := %s, p_raw_amount := %s,"
                            " p_idempotency_key := %s, p_session_id := %s)",
                      (code, qr, Decimal("42.00"), key, session))
        print("charged", charge[0], charge[1])
        retry = call(conn, "select tx_no from public.merchant_charge_by_qr("
                           "p_merchant_code := %s, p_qr_plain := %s, p_raw_amount := %s,"
                           " p_idempotency_key := %s, p_session_id := %s)",
                     (code, qr, Decimal("42.00"), key, session))
        print("retried", retry[0], "(same transaction)" if retry[0] == charge[0] else "(DIFFERENT!)")
        refund = call(conn, "select refund_tx_no, refunded_amount from public.merchant_refund_tx("
                            "p_merchant_code := %s, p_original_tx_no := %s, p_refund_amount := %s,"
                            " p_session_id := %s)", (code, charge[0], Decimal("2.00"), session))
        print("refunded", refund[0], refund[1])
        try:
            call(conn, "select * from public.merchant_refund_tx(p_merchant_code := %s, p_original_tx_no := %s,"
                       " p_refund_amount := %s, p_session_id := %s)", (code, charge[0], Decimal("999"), session))
        except psycopg.errors.RaiseException as e:
            print("refused", e.diag.message_primary, "-", e.diag.message_detail)


if __name__ == "__main__":
    main(*sys.argv[1:4])
