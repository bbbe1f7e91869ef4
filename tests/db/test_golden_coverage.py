"""The golden contract files (tests/golden, run by scripts/golden.sh) show every error token of
src/domain/error.rs with its SQLSTATE, DETAIL and HINT, except the few whose set-up a single
transaction cannot make; those are named here with the test that raises them instead."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
ELSEWHERE = {
    "CARD_OWNER_NOT_DEFINED": "test_cards_and_qr.py",  # a corporate card without its owner binding
    "EXTENSION_UPDATE_REQUIRED": "test_upgrade_and_partitions.py",  # a database at an older version
    "LOGIN_TEMPORARILY_UNAVAILABLE": "test_attempt_guard.py",  # a server without the preloaded guard
    "MOVEMENT_IN_SETTLED_PERIOD": "test_settlement_periods.py",  # a clock behind a settlement
    "NEGATIVE_SETTLEMENT_AMOUNT": "test_settlement_periods.py",  # refunds of earlier payments
}


def test_every_error_token_is_in_the_golden_files():
    tokens = set(re.findall(r'=> "([A-Z_]+)"', (ROOT / "src/domain/error.rs").read_text()))
    expected = "".join(p.read_text() for p in (ROOT / "tests/golden/expected").glob("*.out"))
    shown = set(re.findall(r"^ERROR (?:P0001|42501) ([A-Z_]+)", expected, re.M))
    assert sorted(tokens - shown - set(ELSEWHERE)) == []
    for token, test in ELSEWHERE.items():
        assert token in (ROOT / "tests/db" / test).read_text(), (token, test)
    # every golden call ran: no psql-level error (a broken file, not the contract) in the output
    assert not re.search(r"^ERROR:  ", expected, re.M)
