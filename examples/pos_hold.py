"""A restaurant's POS with a hold: when the member shows the QR code, the meal is reserved on
the card; after the tip the final amount is captured (a smaller one is priced at the rate of
the reservation and the rest released); an abandoned order is voided instead. Like
pos_psycopg.py it logs in as `mps_pos` (a member of `anon` only) with a merchant session.

    MPS_DSN="host=... dbname=... user=mps_pos password=..." python examples/pos_hold.py CODE PASSWORD QR
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
        (login,) = call(conn, "select public.merchant_login(%s, %s)", (code, password))
        session = login["session_id"]
        hold = call(conn, "select hold_no, amount, expires_at from public.merchant_authorize_by_qr("
                          "p_merchant_code := %s, p_qr_plain := %s, p_raw_amount := %s,"
                          " p_idempotency_key := %s, p_ttl_seconds := %s, p_session_id := %s)",
                    (code, qr, Decimal("60.00"), f"hold-{uuid.uuid4()}", 3600, session))
        print("held", hold[0], hold[1])
        # the bill comes to 55.00 with the tip: that is captured, the other 5.00 released
        paid = call(conn, "select tx_no, final_amount from public.merchant_capture_hold("
                          "p_merchant_code := %s, p_hold_no := %s, p_raw_amount := %s,"
                          " p_idempotency_key := %s, p_session_id := %s)",
                    (code, hold[0], Decimal("55.00"), f"capture-{hold[0]}", session))
        print("captured", paid[0], paid[1])
        second = call(conn, "select hold_no from public.merchant_authorize_by_qr("
                            "p_merchant_code := %s, p_qr_plain := %s, p_raw_amount := %s, p_session_id := %s)",
                      (code, qr, Decimal("20.00"), session))
        (released,) = call(conn, "select public.merchant_void_hold(p_merchant_code := %s, p_hold_no := %s,"
                                 " p_session_id := %s)", (code, second[0], session))
        print("voided", second[0], released)
        try:
            call(conn, "select * from public.merchant_capture_hold(p_merchant_code := %s, p_hold_no := %s,"
                       " p_session_id := %s)", (code, second[0], session))
        except psycopg.errors.RaiseException as e:
            print("refused", e.diag.message_primary, "-", e.diag.message_detail)


if __name__ == "__main__":
    main(*sys.argv[1:4])
