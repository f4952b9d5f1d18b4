"""Dual-teacher classes (双师课堂 / 专递课堂), their sessions, and the school calendar they follow."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..core.models import TimestampMixin, UTCDateTime
from ..extensions import db
from ..org.models import Classroom, Term

DAY_KINDS = ("holiday", "workday")  # 放假; 调休 (a weekend day that follows another weekday's timetable)
SESSION_STATUSES = ("scheduled", "cancelled", "done")
BOOKING_KINDS = ("teacher", "classroom")


class CalendarDay(TimestampMixin, db.Model):
    """A day off the normal week: a holiday with no lessons, or a make-up working day (调休) that
    follows the timetable of ``follows_weekday``. City-wide unless a county is named."""

    __tablename__ = "calendar_days"
    __table_args__ = (
        UniqueConstraint("day", "county_id"),
        CheckConstraint(f"kind IN {DAY_KINDS!r}", name="kind"),
        CheckConstraint("follows_weekday IS NULL OR follows_weekday BETWEEN 1 AND 7", name="weekday"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(10))
    follows_weekday: Mapped[int | None] = mapped_column(SmallInteger)  # ISO: 1 Monday … 7 Sunday
    name: Mapped[str] = mapped_column(String(60), default="")
    county_id: Mapped[int | None] = mapped_column(ForeignKey("counties.id"))


class LiveClass(TimestampMixin, db.Model):
    """A weekly dual-teacher class: a main teacher and room, receiving rooms with assistants."""

    __tablename__ = "live_classes"
    __table_args__ = (
        CheckConstraint("first_date <= last_date", name="dates"),
        CheckConstraint("grade IS NULL OR grade BETWEEN 1 AND 12", name="grade"),
        # The class list: current or ended classes (by last date), by subject; newest first (first
        # date, then id) read until the page is full (migration 0017).
        Index("ix_live_classes_last_date", "last_date"),
        Index("ix_live_classes_subject_last_date", "subject", "last_date"),
        Index("ix_live_classes_first_date", "first_date", "id"),
        Index("ix_live_classes_subject_first_date", "subject", "first_date", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(20))
    grade: Mapped[int | None] = mapped_column(SmallInteger)
    title: Mapped[str] = mapped_column(String(120), default="")
    main_teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    main_classroom_id: Mapped[int] = mapped_column(ForeignKey("classrooms.id"), index=True)
    term_id: Mapped[int | None] = mapped_column(ForeignKey("terms.id"), index=True)
    first_date: Mapped[date] = mapped_column(Date)
    last_date: Mapped[date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Optimistic locking (core/locking.py): each ORM update adds one, and fails if another changed it first.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}

    main_teacher: Mapped[User] = relationship(foreign_keys=[main_teacher_id])
    main_classroom: Mapped[Classroom] = relationship()
    term: Mapped[Term | None] = relationship()
    slots: Mapped[list[ClassSlot]] = relationship(cascade="all, delete-orphan", order_by="ClassSlot.weekday")
    receiving: Mapped[list[ReceivingClassroom]] = relationship(cascade="all, delete-orphan",
                                                               order_by="ReceivingClassroom.id")


class ClassSlot(db.Model):
    """A weekly time of a class: weekday and local wall-clock times (a class may meet twice a week)."""

    __tablename__ = "live_class_slots"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 1 AND 7", name="weekday"),
        CheckConstraint("start_time < end_time", name="times"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    live_class_id: Mapped[int] = mapped_column(ForeignKey("live_classes.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)


class ReceivingClassroom(db.Model):
    __tablename__ = "receiving_classrooms"
    __table_args__ = (UniqueConstraint("live_class_id", "classroom_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    live_class_id: Mapped[int] = mapped_column(ForeignKey("live_classes.id", ondelete="CASCADE"))
    classroom_id: Mapped[int] = mapped_column(ForeignKey("classrooms.id"), index=True)
    assistant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)

    classroom: Mapped[Classroom] = relationship()
    assistant: Mapped[User] = relationship()


class LiveSession(TimestampMixin, db.Model):
    """One occurrence. Moved occurrences keep where they came from; cancelled ones stay (the
    calendar feed tells calendar programs to drop them)."""

    __tablename__ = "live_sessions"
    __table_args__ = (
        CheckConstraint(f"status IN {SESSION_STATUSES!r}", name="status"),
        CheckConstraint("starts_at < ends_at", name="times"),
        Index("ix_live_sessions_class_start", "live_class_id", "starts_at"),
        Index("ix_live_sessions_start", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    live_class_id: Mapped[int] = mapped_column(ForeignKey("live_classes.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default="scheduled")
    # The date the recurrence gave it (local): moving keeps it, so the series knows it is covered.
    occurrence_date: Mapped[date] = mapped_column(Date)
    moved: Mapped[bool] = mapped_column(default=False)
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # iCalendar SEQUENCE: bumped on change
    note: Mapped[str] = mapped_column(String(200), default="")
    # Cancelled because the series changed (not by hand): a later change of the series that
    # brings its date back revives it (same UID in calendars) instead of leaving it cancelled.
    series_removed: Mapped[bool] = mapped_column(default=False)

    live_class: Mapped[LiveClass] = relationship()


class Booking(db.Model):
    """Who and which room a session occupies, one row each, so a clash is one indexed range
    lookup: (kind, resource_id) whose time overlaps. Kept by the scheduling services."""

    __tablename__ = "live_bookings"
    __table_args__ = (
        CheckConstraint(f"kind IN {BOOKING_KINDS!r}", name="kind"),
        Index("ix_live_bookings_lookup", "kind", "resource_id", "starts_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"), index=True)
    live_class_id: Mapped[int] = mapped_column(ForeignKey("live_classes.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    resource_id: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(20))  # main_teacher, assistant, main_classroom, receiving_classroom
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SessionAttendance(TimestampMixin, db.Model):
    """Who was there in one receiving classroom after a session, recorded by its assistant: the
    students present of the class size and a short feedback. A session with attendance is a
    delivered period for that receiving school."""

    __tablename__ = "live_attendance"
    __table_args__ = (
        UniqueConstraint("session_id", "classroom_id"),
        CheckConstraint("present >= 0", name="present"),
        CheckConstraint("class_size >= 1 AND present <= class_size", name="class_size"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"))
    classroom_id: Mapped[int] = mapped_column(ForeignKey("classrooms.id"), index=True)
    present: Mapped[int] = mapped_column(Integer)
    class_size: Mapped[int] = mapped_column(Integer)
    feedback: Mapped[str] = mapped_column(String(500), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    classroom: Mapped[Classroom] = relationship()
    recorded_by: Mapped[User | None] = relationship()
