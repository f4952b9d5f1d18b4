"""Counties, schools, classrooms, terms and per-school bell schedules."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import TimestampMixin
from ..extensions import db

SCHOOL_KINDS = ("urban", "township", "village", "teaching_point")
# Rural, as the policy counts it: township schools, village schools and teaching points.
RURAL_KINDS = ("township", "village", "teaching_point")
STAGES = ("primary", "junior", "nine_year", "senior", "twelve_year")
SEMESTERS = ("autumn", "spring")


class County(TimestampMixin, db.Model):
    __tablename__ = "counties"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    code: Mapped[str | None] = mapped_column(String(12), unique=True)

    schools: Mapped[list[School]] = relationship(back_populates="county")

    def __repr__(self) -> str:
        return f"<County {self.name}>"


class School(TimestampMixin, db.Model):
    __tablename__ = "schools"
    __table_args__ = (
        UniqueConstraint("county_id", "name"),
        CheckConstraint(f"kind IN {SCHOOL_KINDS!r}", name="kind"),
        CheckConstraint(f"stage IN {STAGES!r}", name="stage"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), index=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    county_id: Mapped[int] = mapped_column(ForeignKey("counties.id"), index=True)
    is_weak: Mapped[bool] = mapped_column(Boolean, default=False)
    student_count: Mapped[int] = mapped_column(Integer, default=0)
    address: Mapped[str] = mapped_column(String(200), default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)

    county: Mapped[County] = relationship(back_populates="schools")
    classrooms: Mapped[list[Classroom]] = relationship(
        back_populates="school", order_by="(Classroom.grade, Classroom.name)"
    )

    @property
    def is_rural(self) -> bool:
        return self.kind in RURAL_KINDS

    def __repr__(self) -> str:
        return f"<School {self.name}>"


class Classroom(TimestampMixin, db.Model):
    """A class (班级) of a school; later also the receiving room of a dual-teacher class."""

    __tablename__ = "classrooms"
    __table_args__ = (
        UniqueConstraint("school_id", "grade", "name"),
        CheckConstraint("grade BETWEEN 1 AND 12", name="grade"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    grade: Mapped[int] = mapped_column(SmallInteger)
    name: Mapped[str] = mapped_column(String(40))
    student_count: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    school: Mapped[School] = relationship(back_populates="classrooms")


class Term(TimestampMixin, db.Model):
    """A semester (学期). The school year starts on 1 September: autumn, then spring."""

    __tablename__ = "terms"
    __table_args__ = (
        UniqueConstraint("school_year", "semester"),
        CheckConstraint("start_date < end_date", name="dates"),
        CheckConstraint(f"semester IN {SEMESTERS!r}", name="semester"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    school_year: Mapped[int] = mapped_column(Integer, index=True)
    semester: Mapped[str] = mapped_column(String(8))
    start_date: Mapped[date] = mapped_column(Date, index=True)
    end_date: Mapped[date] = mapped_column(Date)


class BellSchedule(TimestampMixin, db.Model):
    """A school's timetable of periods (作息时间). Schools often keep a summer and a winter one:
    a schedule may apply to a yearly range of month-days; one without a range is the default."""

    __tablename__ = "bell_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    # "MM-DD" bounds, inclusive; both empty means all year. A range may wrap the new year.
    from_month_day: Mapped[str | None] = mapped_column(String(5))
    to_month_day: Mapped[str | None] = mapped_column(String(5))

    school: Mapped[School] = relationship()
    periods: Mapped[list[BellPeriod]] = relationship(
        back_populates="schedule", order_by="BellPeriod.number", cascade="all, delete-orphan"
    )

    def applies_on(self, day: date) -> bool:
        return month_day_in(month_day(day), self.from_month_day, self.to_month_day)


def month_day(day: date) -> str:
    """The day as "MM-DD" (``strftime`` costs several times as much, and the timetables and the
    bell warnings ask for every session of a term)."""
    return f"{day.month:02d}-{day.day:02d}"


def month_day_in(md: str, start: str | None, end: str | None) -> bool:
    """Whether "MM-DD" falls in a bell schedule's yearly range (both ends or neither: no range
    means always); a range from a later to an earlier day wraps the new year."""
    if not start or not end:
        return True
    if start <= end:
        return start <= md <= end
    return md >= start or md <= end


class BellPeriod(db.Model):
    __tablename__ = "bell_periods"
    __table_args__ = (
        UniqueConstraint("schedule_id", "number"),
        CheckConstraint("start_time < end_time", name="times"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("bell_schedules.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(SmallInteger)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)

    schedule: Mapped[BellSchedule] = relationship(back_populates="periods")
