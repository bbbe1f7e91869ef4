"""The same calls through PostgREST with postgrest-py, the client behind supabase-py's
`supabase.rpc(...)` (supabase-js' `supabase.rpc(...)` sends the identical request).

    MPS_POSTGREST_URL=http://localhost:3000 MPS_ANON_KEY=<anon JWT> MPS_SERVICE_KEY=<service JWT> \\
        python examples/supabase_py.py
"""

import os

from postgrest import SyncPostgrestClient
from postgrest.exceptions import APIError


def client(key):
    return SyncPostgrestClient(os.environ["MPS_POSTGREST_URL"],
                               headers={"apikey": key, "Authorization": f"Bearer {key}"})


def main():
    admin = client(os.environ["MPS_SERVICE_KEY"])   # server side: the service_role key
    pos = client(os.environ["MPS_ANON_KEY"])        # POS and member apps: the anon key

    member_id = admin.rpc("create_member_profile", {"p_name": "Eve", "p_phone": "0922333444",
                                                    "p_email": None, "p_password": "eve-password"}).execute().data
    admin.rpc("create_merchant", {"p_code": "PY-SHOP", "p_name": "Py Bakery",
                                  "p_password": "shop-password"}).execute()
    card_id = admin.rpc("get_member_cards", {"p_member_id": member_id}).execute().data[0]["id"]
    admin.rpc("user_recharge_card", {"p_card_id": card_id, "p_amount": 200}).execute()

    me = pos.rpc("member_login", {"p_identifier": "0922333444", "p_password": "eve-password"}).execute().data
    qr = pos.rpc("rotate_card_qr", {"p_card_id": card_id, "p_session_id": me["session_id"]}).execute().data[0]

    shop = pos.rpc("merchant_login", {"p_merchant_code": "PY-SHOP", "p_password": "shop-password"}).execute().data
    paid = pos.rpc("merchant_charge_by_qr", {
        "p_merchant_code": "PY-SHOP", "p_qr_plain": qr["qr_plain"], "p_raw_amount": 88.8,
        "p_idempotency_key": "py-example-1", "p_tag": {"source": "example"},
        "p_session_id": shop["session_id"]}).execute().data[0]
    print("charged", paid["tx_no"], paid["final_amount"], "discount", paid["discount"])

    try:
        pos.rpc("merchant_charge_by_qr", {"p_merchant_code": "PY-SHOP", "p_qr_plain": qr["qr_plain"],
                                          "p_raw_amount": 5000, "p_session_id": shop["session_id"]}).execute()
    except APIError as e:
        print("refused", e.code, e.message)


if __name__ == "__main__":
    main()
