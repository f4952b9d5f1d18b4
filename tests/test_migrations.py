"""The Alembic migrations build exactly the schema the models describe."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

ROOT = Path(__file__).resolve().parent.parent


def _flask(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


@pytest.fixture
def empty_sqlite(tmp_path):
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'm.sqlite3'}", PORTAL_INSTANCE_DIR=str(tmp_path),
               SECRET_KEY="migration-test")
    env.pop("TEST_DATABASE_URL", None)
    return env, tmp_path / "m.sqlite3"


def test_upgrade_builds_the_models_schema_and_check_finds_nothing(empty_sqlite, app):
    env, path = empty_sqlite
    upgrade = _flask(env, "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    check = _flask(env, "db", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr
    from portal.extensions import db

    engine = create_engine(f"sqlite:///{path}")
    tables = set(inspect(engine).get_table_names())
    assert {t.name for t in db.metadata.sorted_tables} <= tables
    # The triggers are built by hand in migrations and by search_ddl for create_all: the same ones.
    from portal.resources import search_ddl

    built = {re.search(r"CREATE TRIGGER IF NOT EXISTS (\w+)", statement).group(1)
             for statement in search_ddl.SQLITE_CREATE + search_ddl.GENERATION_SQLITE
             + search_ddl.GENERATION_SQLITE_AUDIENCES if "TRIGGER" in statement}
    with engine.connect() as conn:
        assert set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").scalars()) == built
        assert conn.exec_driver_sql("SELECT count(*) FROM resource_search_state").scalar() == 1
    engine.dispose()


def test_seed_demo_loads_once_and_then_refuses(empty_sqlite):
    env, _path = empty_sqlite
    assert _flask(env, "db", "upgrade").returncode == 0
    first = _flask(env, "seed", "demo")
    assert first.returncode == 0, first.stderr
    second = _flask(env, "seed", "demo")
    assert second.returncode != 0
    assert "already holds data" in second.stderr
    quiet = _flask(env, "seed", "demo", "--if-empty")
    assert quiet.returncode == 0
