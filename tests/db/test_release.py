"""The release's loose ends, kept tied: one version in Cargo.toml, the installed control file,
the newest upgrade script and the changelog; an upgrade path from every archived version;
and the `mps.` setting prefix reserved to the library."""

import pathlib
import re
import tomllib

import psycopg
import pytest

from mps import admin_connect

ROOT = pathlib.Path(__file__).resolve().parents[2]


def version_key(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in v.split("."))


def test_one_version_everywhere(database):
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())["package"]["version"]
    upgrades = [re.fullmatch(r"mps_ext--([\d.]+)--([\d.]+)\.sql", p.name).groups()
                for p in (ROOT / "sql").glob("mps_ext--*--*.sql")]
    archived = sorted((re.fullmatch(r"mps_ext--([\d.]+)\.sql", p.name).group(1)
                       for p in (ROOT / "sql" / "archive").glob("mps_ext--*.sql")), key=version_key)
    changelog = re.findall(r"^## ([\d.]+)", (ROOT / "CHANGELOG.md").read_text(), re.M)
    with admin_connect(database) as conn:
        available = conn.execute("select default_version from pg_available_extensions where name = 'mps_ext'") \
            .fetchone()["default_version"]
        installed = conn.execute("select extversion from pg_extension where extname = 'mps_ext'") \
            .fetchone()["extversion"]

    assert available == installed == cargo
    assert max((to for _, to in upgrades), key=version_key) == cargo
    assert changelog == sorted([*archived, cargo], key=version_key, reverse=True)
    # each archived version upgrades, step by step, to the next and finally to this one
    steps = dict(upgrades)
    for old in archived:
        v = old
        while v != cargo:
            assert v in steps, f"no upgrade script from {v}"
            v = steps[v]


def test_the_mps_setting_prefix_is_reserved(admin_sql):
    admin_sql.execute("set mps.login_max_failures = 7")  # a setting the library defines
    with pytest.raises(psycopg.errors.InvalidName) as e:
        admin_sql.execute("set mps.login_max_failure = 7")  # misspelt
    assert e.value.diag.message_detail == '"mps" is a reserved prefix.'
    admin_sql.execute("reset mps.login_max_failures")
