"""UTCDateTime on SQLite binds the very text SQLAlchemy's DATETIME stores (stored times are
compared as text), whatever the offset it is given; naive times are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime
from sqlalchemy.dialects import sqlite

from portal.core.models import UTCDateTime


@pytest.mark.parametrize("moment", [
    datetime(2026, 9, 5, 8, 30, tzinfo=UTC),
    datetime(2026, 9, 5, 8, 30, 0, 123456, tzinfo=timezone(timedelta(hours=8))),
    datetime(1999, 12, 31, 23, 59, 59, 1, tzinfo=timezone(timedelta(hours=-5))),
    datetime(987, 1, 2, 3, 4, 5, tzinfo=UTC),
])
def test_sqlite_binds_the_text_sqlalchemy_stores(moment):
    dialect = sqlite.dialect()
    stored = DateTime().dialect_impl(dialect).bind_processor(dialect)(moment.astimezone(UTC).replace(tzinfo=None))
    assert UTCDateTime().dialect_impl(dialect).bind_processor(dialect)(moment) == stored


def test_a_naive_time_is_refused():
    dialect = sqlite.dialect()
    with pytest.raises(ValueError):
        UTCDateTime().dialect_impl(dialect).bind_processor(dialect)(datetime(2026, 9, 5, 8, 30))
