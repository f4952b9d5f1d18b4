"""The live room's timeline and what is derived from it.

``LiveEvent`` is the source of truth: every accepted event of a session, numbered by ``seq``.
``LiveRoomState`` is the fold of those events kept in step with them (same transaction, a
compare-and-set on ``last_seq``), so checking an event against the room's state and numbering it
costs one row instead of a replay of the whole lesson; ``room.rebuild_state`` folds the events
again and must give the same state (tested). ``LiveConnection`` is one open socket joined to a
session (sid → person), shared by every process through the database: presence is derived from
it, never from one process's memory.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..core.models import TimestampMixin, UTCDateTime, utcnow
from ..extensions import db


class LiveEvent(TimestampMixin, db.Model):
    __tablename__ = "live_events"
    __table_args__ = (
        UniqueConstraint("session_id", "seq"),
        # A client's replay after a reconnect carries the same cid: stored once.
        UniqueConstraint("session_id", "user_id", "cid"),
        Index("ix_live_events_session_kind", "session_id", "kind", "seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    classroom_id: Mapped[int | None] = mapped_column(ForeignKey("classrooms.id"))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    cid: Mapped[str | None] = mapped_column(String(64))


class LiveRoomState(db.Model):
    """The current state of a session's room: the fold of its events up to ``last_seq``."""

    __tablename__ = "live_room_states"

    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class LiveConnection(db.Model):
    """An open socket in a session's room. Removed on disconnect; a process that dies leaves
    rows behind, which stop counting once ``last_seen_at`` is older than the presence TTL."""

    __tablename__ = "live_connections"
    __table_args__ = (Index("ix_live_connections_session_seen", "session_id", "last_seen_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    connected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
