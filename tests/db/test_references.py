"""References a money movement makes without a foreign key (sql/18_references.sql): a card,
merchant or registry row that movements, points rows or requests point to cannot be deleted
or re-keyed (23503, as a foreign key), a card's points rows go with it, a merchant is deleted
only after its movements in flight, and verify_ledger() reports a row that points nowhere."""

import threading
import time
import uuid
from decimal import Decimal

import psycopg
import pytest

from conftest import Shop
from mps import Api

D = Decimal
FOREIGN_KEY = "23503"


def refused(admin_sql, statement, params):
    """Runs `statement`, which must fail as a foreign key would; returns its DETAIL."""
    with pytest.raises(psycopg.Error) as e:
        admin_sql.execute(statement, params)
    assert e.value.sqlstate == FOREIGN_KEY, e.value
    return e.value.diag.message_detail


def exists(admin_sql, statement, params):
    return admin_sql.execute(f"select exists ({statement}) as e", params).fetchone()["e"]


def test_a_card_with_movements_is_neither_deleted_nor_rekeyed(admin_sql, shop):
    shop.charge(D("10"))
    detail = refused(admin_sql, "delete from member_cards where id = %s", (shop.card,))
    assert detail == f"Key (id)=({shop.card}) is still referenced from table public.transactions."
    refused(admin_sql, "update member_cards set id = gen_random_uuid() where id = %s", (shop.card,))
    assert exists(admin_sql, "select from member_cards where id = %s", (shop.card,))
    assert exists(admin_sql, "select from point_ledger where card_id = %s", (shop.card,))


def test_a_card_without_movements_takes_its_points_rows_along(api, admin_sql, member, merchant):
    shop = Shop(api, member, merchant, amount=None)
    assert shop.svc.scalar("update_points_and_level", p_card_id=shop.card, p_delta_points=1200) is True
    assert exists(admin_sql, "select from point_ledger where card_id = %s", (shop.card,))
    assert admin_sql.execute("delete from member_cards where id = %s", (shop.card,)).rowcount == 1
    assert not exists(admin_sql, "select from point_ledger where card_id = %s", (shop.card,))


def test_a_merchant_with_movements_is_neither_deleted_nor_rekeyed(admin_sql, shop):
    shop.charge(D("10"))
    merchant = shop.merchant["id"]
    detail = refused(admin_sql, "delete from merchants where id = %s", (merchant,))
    assert detail == f"Key (id)=({merchant}) is still referenced from table public.transactions."
    refused(admin_sql, "update merchants set id = gen_random_uuid() where id = %s", (merchant,))
    assert exists(admin_sql, "select from merchants where id = %s", (merchant,))


def test_a_merchant_is_deleted_only_after_its_movement_in_flight(database, admin_sql, shop):
    """The delete waits for a charge that has not committed yet, then sees it and is refused:
    without the merchant's settlement lock it would see nothing and leave an orphan."""
    merchant = shop.merchant["id"]
    qr = shop.qr()
    charging, deleting = Api(database), psycopg.connect(admin_sql.info.dsn, autocommit=True)
    outcome = {}

    def delete():
        try:
            deleting.execute("delete from merchants where id = %s", (merchant,))
            outcome["deleted"] = True
        except psycopg.Error as e:
            outcome["error"] = e.sqlstate

    try:
        with charging.conn.transaction():
            paid = charging.as_service().rows("merchant_charge_by_qr", p_merchant_code=shop.merchant["code"],
                                              p_qr_plain=qr, p_raw_amount=D("25"))[0]
            worker = threading.Thread(target=delete)
            worker.start()
            for _ in range(200):  # until the delete waits for the charge's lock
                if exists(admin_sql, "select from pg_stat_activity where pid = %s and wait_event_type = 'Lock'",
                          (deleting.info.backend_pid,)):
                    break
                time.sleep(0.05)
            else:
                pytest.fail("the delete did not wait for the charge in flight")
            assert outcome == {}
        worker.join(10)
        assert outcome == {"error": FOREIGN_KEY}
    finally:
        charging.close()
        deleting.close()
    assert exists(admin_sql, "select from transactions where id = %s and merchant_id = %s", (paid["tx_id"], merchant))


def test_registry_rows_of_points_and_requests_are_not_deleted(admin_sql, shop, unique):
    paid = shop.charge(D("10"), p_idempotency_key=f"ref-{unique}")
    tx = paid["tx_id"]
    detail = refused(admin_sql, "delete from tx_registry where tx_id = %s", (tx,))
    assert detail == f"Key (tx_id)=({tx}) is still referenced from table public.point_ledger."
    refused(admin_sql, "update tx_registry set tx_id = gen_random_uuid() where tx_id = %s", (tx,))
    with pytest.raises(psycopg.Error) as e:  # the points row gone, the request still holds it
        with admin_sql.transaction():
            admin_sql.execute("delete from point_ledger where tx_id = %s", (tx,))
            admin_sql.execute("delete from tx_registry where tx_id = %s", (tx,))
    assert e.value.sqlstate == FOREIGN_KEY
    assert e.value.diag.message_detail == f"Key (tx_id)=({tx}) is still referenced from table " \
                                          "public.idempotency_registry."
    assert exists(admin_sql, "select from tx_registry where tx_id = %s", (tx,))


def test_verify_ledger_finds_rows_that_point_nowhere(admin_sql, shop, unique):
    paid = shop.charge(D("10"), p_idempotency_key=f"orphan-{unique}")
    nowhere = uuid.uuid4()

    class Undo(Exception):
        pass

    with pytest.raises(Undo):
        with admin_sql.transaction():
            admin_sql.execute("update transactions set merchant_id = %s where id = %s", (nowhere, paid["tx_id"]))
            admin_sql.execute("insert into point_ledger (card_id, tx_id, change, balance_before, balance_after)"
                              " values (%s, %s, 0, 0, 0)", (nowhere, nowhere))
            admin_sql.execute("update idempotency_registry set tx_id = %s where tx_id = %s", (nowhere, paid["tx_id"]))
            admin_sql.execute("update transactions set card_id = %s where id = %s", (nowhere, paid["tx_id"]))
            found = {(r["check_name"], r["card_id"], r["expected"], r["actual"])
                     for r in admin_sql.execute("select * from verify_ledger()").fetchall()
                     if r["check_name"] in ("movement_card", "movement_merchant", "points_card",
                                            "points_movement", "request_movement")}
            assert found == {
                ("movement_card", nowhere, str(nowhere), "missing"),
                ("movement_merchant", nowhere, str(nowhere), "missing"),
                ("points_card", nowhere, str(nowhere), "missing"),
                ("points_movement", nowhere, str(nowhere), "missing"),
                ("request_movement", None, str(nowhere), "missing"),
            }
            raise Undo
