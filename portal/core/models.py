"""Column types and mixins shared by every feature's models."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import DateTime, TypeDecorator, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


def plain_rows(stmt, params: dict):
    """A statement's plain rows from the session's connection, without the ORM's statement and
    result handling (pages read them on every view), once the session has written what it holds,
    as its own ``execute`` would have (a flush with nothing pending returns at once)."""
    db.session.flush()
    return db.session.connection().execute(stmt, params)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in Python, stored as naive UTC so SQLite and PostgreSQL agree."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)

    def bind_processor(self, dialect):
        """On SQLite, the text SQLAlchemy's DATETIME stores, written in one step: its %-format of
        seven fields after the conversion above was ~2 us a value, and creating a class binds
        ~120 (its sessions, the clash check's ranges)."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value):
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

        return process


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


# --- work to do once the transaction is committed (socket pushes, disconnects) -------------


def after_commit(fn, *args) -> None:
    """Run ``fn(*args)`` after the current transaction commits; forget it on rollback.

    Pushing to sockets before the commit would announce something that may yet be undone.
    """
    from ..extensions import db

    db.session.info.setdefault("after_commit", []).append((fn, args))


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    for fn, args in session.info.pop("after_commit", []):
        try:
            fn(*args)
        except Exception:  # a failed push must not undo or hide a committed change
            logging.getLogger("portal").exception("after-commit hook failed")


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_commit(session: Session, previous_transaction) -> None:
    session.info.pop("after_commit", None)
