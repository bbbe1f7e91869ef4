#!/usr/bin/env python3
"""README's "Who may call what" table, generated from the RPC manifest (src/rpc/manifest.tsv).

    python3 scripts/rpc_matrix.py           # print the table
    python3 scripts/rpc_matrix.py --write   # regenerate the block between the markers in README.md

tests/db/test_rpc_matrix.py checks that README.md holds exactly what this script writes."""

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "src" / "rpc" / "manifest.tsv"
README = ROOT / "README.md"
BEGIN, END = "<!-- rpc-matrix:begin -->", "<!-- rpc-matrix:end -->"

# Caller kinds in the manifest's `allowed` column, with their column headings.
CALLER_KINDS = {
    "anon": "anon",
    "member": "member",
    "other_member": "other member",
    "merchant": "merchant",
    "other_merchant": "other merchant",
    "jwt_member": "JWT member",
    "jwt_staff": "JWT staff",
    "service_role": "service_role",
    "superuser": "psql superuser",
}
GRANTS = {"anon": "anon", "signed_in": "signed in"}


def manifest(path: Path = MANIFEST) -> list[dict]:
    """The manifest's rows: function, arguments, grant, allowed (a list of caller kinds)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    for row in rows:
        row["allowed"] = row["allowed"].split()
        unknown = set(row["allowed"]) - set(CALLER_KINDS)
        if row["grant"] not in GRANTS or unknown:
            raise ValueError(f"manifest row {row['function']}: grant {row['grant']!r}, unknown kinds {unknown}")
    return rows


def table(rows: list[dict]) -> str:
    head = ["function", "EXECUTE", *CALLER_KINDS.values()]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        marks = ["✓" if kind in row["allowed"] else "–" for kind in CALLER_KINDS]
        lines.append("| " + " | ".join([f"`{row['function']}`", GRANTS[row["grant"]], *marks]) + " |")
    return "\n".join(lines) + "\n"


def block(readme: str) -> str:
    """What README.md holds between the markers (exclusive)."""
    start, end = readme.index(BEGIN) + len(BEGIN) + 1, readme.index(END)
    return readme[start:end]


def write(readme_path: Path = README) -> None:
    readme = readme_path.read_text()
    start, end = readme.index(BEGIN) + len(BEGIN) + 1, readme.index(END)
    readme_path.write_text(readme[:start] + table(manifest()) + readme[end:])


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write()
    elif sys.argv[1:]:
        sys.exit(__doc__)
    else:
        sys.stdout.write(table(manifest()))
