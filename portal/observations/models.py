"""Lesson observations (听课评课): records, the rubric templates they are scored with, audited
amendments of finalised records, attachments and action steps for the observed teacher.

The quota engine (``quota.py``) counts final observations; its own model lives there.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..core.models import TimestampMixin, UTCDateTime, utcnow
from ..extensions import db
from ..org.models import Classroom, School

KINDS = (
    "drop_in",  # 推门课
    "open",  # 公开课
    "standard",  # 达标课
    "demonstration",  # 示范课
    "live",  # 双师课堂直播
    "recording",  # 录像课
)
STATUSES = ("draft", "final")
GRADES = ("excellent", "good", "fair", "poor")  # 优 / 良 / 中 / 差
MIN_PERIODS, MAX_PERIODS = 1, 4
STEP_STATUSES = ("open", "met", "not_yet")
# Fields an amendment may correct (the rest — observer, status, template — never change).
AMENDABLE_FIELDS = (
    "observed_on", "periods", "subject", "topic", "kind", "classroom_id", "record_html",
    "strengths", "problems", "suggestions", "grade", "scores",
)


class RubricTemplate(TimestampMixin, db.Model):
    """One version of a rubric. Editing a template adds a new version of the same ``family``
    (the old one stays, so a record keeps the version it was scored with); ``is_current``
    marks the version new records use.

    ``dimensions`` is a list of ``{"code", "label", "weight", "min", "max", "levels":
    [{"score", "label"}...]}``; scores are integers in ``min..max``.
    """

    __tablename__ = "rubric_templates"
    __table_args__ = (
        UniqueConstraint("family", "version"),
        CheckConstraint("version >= 1", name="version"),
        Index("ix_rubric_templates_family_current", "family", "is_current"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    family: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer, default=1)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    dimensions: Mapped[list] = mapped_column(JSON, default=list)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)  # the family new records use
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    created_by: Mapped[User | None] = relationship()

    def dimension(self, code: str) -> dict | None:
        return next((d for d in self.dimensions if d.get("code") == code), None)

    def __repr__(self) -> str:
        return f"<RubricTemplate {self.family} v{self.version}>"


class Observation(TimestampMixin, db.Model):
    __tablename__ = "observations"
    __table_args__ = (
        CheckConstraint(f"kind IN {KINDS!r}", name="kind"),
        CheckConstraint(f"status IN {STATUSES!r}", name="status"),
        CheckConstraint(f"periods BETWEEN {MIN_PERIODS} AND {MAX_PERIODS}", name="periods"),
        CheckConstraint(f"grade IS NULL OR grade IN {GRADES!r}", name="grade"),
        UniqueConstraint("observer_id", "client_key"),
        # periods too: who-is-behind sums each observer's periods over the year from the index alone.
        Index("ix_observations_observer_status_date_periods", "observer_id", "status", "observed_on", "periods"),
        Index("ix_observations_school_date", "school_id", "observed_on"),
        Index("ix_observations_teacher_date", "observed_teacher_id", "observed_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    observer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    observed_teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    classroom_id: Mapped[int | None] = mapped_column(ForeignKey("classrooms.id"), index=True)
    subject: Mapped[str] = mapped_column(String(20))
    topic: Mapped[str] = mapped_column(String(120), default="")  # 课题
    kind: Mapped[str] = mapped_column(String(20), default="drop_in")
    observed_on: Mapped[date] = mapped_column(Date)
    periods: Mapped[int] = mapped_column(SmallInteger, default=1)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    finalized_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    live_session_id: Mapped[int | None] = mapped_column(ForeignKey("live_sessions.id", ondelete="SET NULL"),
                                                        index=True)
    rubric_template_id: Mapped[int] = mapped_column(ForeignKey("rubric_templates.id"), index=True)
    scores: Mapped[dict] = mapped_column(JSON, default=dict)  # dimension code → integer score
    total_score: Mapped[float | None] = mapped_column(Float)  # weighted, 0–100
    grade: Mapped[str | None] = mapped_column(String(10))
    record_html: Mapped[str] = mapped_column(Text, default="")  # the running record (sanitised)
    strengths: Mapped[str] = mapped_column(Text, default="")
    problems: Mapped[str] = mapped_column(Text, default="")
    suggestions: Mapped[str] = mapped_column(Text, default="")
    private_notes: Mapped[str] = mapped_column(Text, default="")  # the observer's only
    # Feedback from the observed teacher.
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    teacher_reply: Mapped[str] = mapped_column(Text, default="")
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Drafts saved as you type: a key the browser makes for a new draft (a retried first save
    # finds the same row) and a revision bumped on every save.
    client_key: Mapped[str | None] = mapped_column(String(40))
    revision: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    observer: Mapped[User] = relationship(foreign_keys=[observer_id])
    observed_teacher: Mapped[User] = relationship(foreign_keys=[observed_teacher_id])
    school: Mapped[School] = relationship()
    classroom: Mapped[Classroom | None] = relationship()
    rubric_template: Mapped[RubricTemplate] = relationship()
    attachments: Mapped[list[ObservationAttachment]] = relationship(
        back_populates="observation", cascade="all, delete-orphan", order_by="ObservationAttachment.id")
    amendments: Mapped[list[ObservationAmendment]] = relationship(
        back_populates="observation", cascade="all, delete-orphan", order_by="ObservationAmendment.id")
    action_steps: Mapped[list[ActionStep]] = relationship(
        back_populates="observation", cascade="all, delete-orphan", order_by="ActionStep.id",
        foreign_keys="ActionStep.observation_id")

    @property
    def is_final(self) -> bool:
        return self.status == "final"

    def __repr__(self) -> str:
        return f"<Observation {self.id} {self.observed_on} {self.status}>"


class ObservationAmendment(TimestampMixin, db.Model):
    """A correction of a finalised record: one row per changed field, with the reason."""

    __tablename__ = "observation_amendments"

    id: Mapped[int] = mapped_column(primary_key=True)
    observation_id: Mapped[int] = mapped_column(ForeignKey("observations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(String(500))

    observation: Mapped[Observation] = relationship(back_populates="amendments")
    user: Mapped[User | None] = relationship()


class ObservationAttachment(TimestampMixin, db.Model):
    """A photo of the board, a lesson plan...: stored by core.uploads outside the web root."""

    __tablename__ = "observation_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    observation_id: Mapped[int] = mapped_column(ForeignKey("observations.id", ondelete="CASCADE"), index=True)
    stored_name: Mapped[str] = mapped_column(String(120))
    original_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    observation: Mapped[Observation] = relationship(back_populates="attachments")


class ActionStep(TimestampMixin, db.Model):
    """A suggestion the observer made an action step; the next observation of the same teacher
    checks it (met / not yet)."""

    __tablename__ = "observation_action_steps"
    __table_args__ = (
        CheckConstraint(f"status IN {STEP_STATUSES!r}", name="status"),
        Index("ix_observation_action_steps_teacher_status", "teacher_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    observation_id: Mapped[int] = mapped_column(ForeignKey("observations.id", ondelete="CASCADE"), index=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(10), default="open")
    checked_in_id: Mapped[int | None] = mapped_column(ForeignKey("observations.id", ondelete="SET NULL"), index=True)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    observation: Mapped[Observation] = relationship(back_populates="action_steps", foreign_keys=[observation_id])
    teacher: Mapped[User] = relationship()
