"""PostgreSQL connection settings (portal/core/postgres.py); on SQLite there is nothing to check."""

import pytest
from sqlalchemy import text


def test_postgresql_connections_run_without_jit(db):
    """JIT compiling cost seconds on the coverage figures for a fraction of that in work
    (docs/query-plans.md): every connection of the portal's pool has it off."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    with db.engine.connect() as first, db.engine.connect() as second:
        assert first.execute(text("SHOW jit")).scalar() == "off"
        assert second.execute(text("SHOW jit")).scalar() == "off"
    assert db.session.execute(text("SHOW jit")).scalar() == "off"
