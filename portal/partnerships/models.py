"""School pairings (结对帮扶), education groups, trusteeship and rural clusters; their activity log,
teacher exchanges (交流轮岗, 走教) and teaching researchers' school contacts and visits."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..core.models import TimestampMixin, UTCDateTime
from ..extensions import db
from ..org.models import School

# The forms the bureau documents name.
KINDS = (
    "multi",  # 名校+多校
    "new_school",  # 名校+新校
    "weak_school",  # 名校+弱校
    "rural_school",  # 名校+乡村学校
    "central_points",  # 乡镇中心校带动教学点
    "group",  # 教育集团 (总校长 over member schools)
    "trusteeship",  # 托管
    "cluster",  # 片区 (a centre school runs nearby small schools and teaching points; 走教)
)
# Kinds whose lead school carries its members: a member is paired when the lead is (SPEC: 片区, 集团).
CARRYING_KINDS = ("central_points", "group", "cluster")
ACTIVITY_KINDS = (
    "send_lessons",  # 送教下乡
    "shadowing",  # 跟岗学习
    "joint_research",  # 联合教研
    "secondment",  # 挂职
    "rotation",  # 交流轮岗
    "shared_lesson",  # 共享课堂
    "visit",  # 互访
    "other",
)
EXCHANGE_KINDS = (
    "rotation",  # 交流轮岗: a year or more at the other school
    "support",  # 支教: an urban teacher teaching at a rural or weak school
    "shadowing",  # 跟岗实习: a new rural teacher placed at a county-town or central school
    "secondment",  # 挂职: a cadre placed at the other school
    "travelling",  # 走教: a specialist teacher who teaches at several schools each week
)
VISIT_KINDS = ("guidance", "observation", "research", "training", "other")


class Partnership(TimestampMixin, db.Model):
    __tablename__ = "partnerships"
    __table_args__ = (
        CheckConstraint(f"kind IN {KINDS!r}", name="kind"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates"),
        Index("ix_partnerships_dates", "start_date", "end_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(100))
    lead_school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    # The lead school's county, kept for scoping lists (bureau staff of a county see their own).
    county_id: Mapped[int] = mapped_column(ForeignKey("counties.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)  # NULL: open-ended
    description_html: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Optimistic locking (core/locking.py): each ORM update adds one, and fails if another changed it first.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}

    lead_school: Mapped[School] = relationship()
    members: Mapped[list[PartnershipSchool]] = relationship(
        back_populates="partnership", cascade="all, delete-orphan", order_by="PartnershipSchool.id"
    )
    people: Mapped[list[PartnershipPerson]] = relationship(
        back_populates="partnership", cascade="all, delete-orphan", order_by="PartnershipPerson.id"
    )

    def is_active_on(self, day: date) -> bool:
        return self.start_date <= day and (self.end_date is None or self.end_date >= day)

    def __repr__(self) -> str:
        return f"<Partnership {self.kind} {self.name}>"


class PartnershipSchool(db.Model):
    """A member school (the lead school is on the partnership itself)."""

    __tablename__ = "partnership_schools"
    __table_args__ = (UniqueConstraint("partnership_id", "school_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)

    partnership: Mapped[Partnership] = relationship(back_populates="members")
    school: Mapped[School] = relationship()


class PartnershipPerson(db.Model):
    """Someone responsible: the 总校长 of a group, a liaison at a member school..."""

    __tablename__ = "partnership_people"
    __table_args__ = (UniqueConstraint("partnership_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    duty: Mapped[str] = mapped_column(String(40), default="")

    partnership: Mapped[Partnership] = relationship(back_populates="people")
    user: Mapped[User] = relationship()


class PartnershipGoal(TimestampMixin, db.Model):
    """The goals of one school year (the year it starts)."""

    __tablename__ = "partnership_goals"
    __table_args__ = (UniqueConstraint("partnership_id", "school_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"))
    school_year: Mapped[int] = mapped_column(Integer)
    goals_html: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class PairingActivity(TimestampMixin, db.Model):
    """One entry of a partnership's activity log: 送教下乡, 跟岗学习, 联合教研..."""

    __tablename__ = "pairing_activities"
    __table_args__ = (
        CheckConstraint(f"kind IN {ACTIVITY_KINDS!r}", name="kind"),
        Index("ix_pairing_activities_partnership_date", "partnership_id", "happened_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(120))
    happened_on: Mapped[date] = mapped_column(Date)
    notes_html: Mapped[str] = mapped_column(Text, default="")
    other_people: Mapped[str] = mapped_column(String(300), default="")  # people without an account
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    partnership: Mapped[Partnership] = relationship()
    author: Mapped[User | None] = relationship()
    schools: Mapped[list[PairingActivitySchool]] = relationship(cascade="all, delete-orphan")
    people: Mapped[list[PairingActivityPerson]] = relationship(cascade="all, delete-orphan")
    attachments: Mapped[list[PairingAttachment]] = relationship(cascade="all, delete-orphan",
                                                                order_by="PairingAttachment.id")


class PairingActivitySchool(db.Model):
    __tablename__ = "pairing_activity_schools"
    __table_args__ = (UniqueConstraint("activity_id", "school_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("pairing_activities.id", ondelete="CASCADE"))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)

    school: Mapped[School] = relationship()


class PairingActivityPerson(db.Model):
    __tablename__ = "pairing_activity_people"
    __table_args__ = (UniqueConstraint("activity_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("pairing_activities.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)

    user: Mapped[User] = relationship()


class PairingAttachment(TimestampMixin, db.Model):
    """A file attached to a log entry, stored under UPLOAD_DIR by its content hash."""

    __tablename__ = "pairing_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("pairing_activities.id", ondelete="CASCADE"), index=True)
    original_name: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(100))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class TeacherExchange(TimestampMixin, db.Model):
    """A teacher placed at another school for a time: rotation, support, shadowing, secondment, 走教."""

    __tablename__ = "teacher_exchanges"
    __table_args__ = (
        CheckConstraint(f"kind IN {EXCHANGE_KINDS!r}", name="kind"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates"),
        CheckConstraint("from_school_id <> to_school_id", name="schools"),
        Index("ix_teacher_exchanges_dates", "start_date", "end_date"),
        # The list, newest first (start date, then id), read until its page is full: placements
        # mostly begin on a term's first day, and with the dates' index the thousands of one day
        # were joined and sorted for each page (migration 0017).
        Index("ix_teacher_exchanges_start", "start_date", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    from_school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    to_school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    partnership_id: Mapped[int | None] = mapped_column(ForeignKey("partnerships.id", ondelete="SET NULL"),
                                                       index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    days_per_week: Mapped[int | None] = mapped_column(Integer)  # for 走教
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    from_school: Mapped[School] = relationship(foreign_keys=[from_school_id])
    to_school: Mapped[School] = relationship(foreign_keys=[to_school_id])
    partnership: Mapped[Partnership | None] = relationship()


class ResearcherSchool(TimestampMixin, db.Model):
    """A teaching researcher's contact school (教研员联系学校)."""

    __tablename__ = "researcher_schools"
    __table_args__ = (UniqueConstraint("researcher_id", "school_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    researcher_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    since: Mapped[date] = mapped_column(Date)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    researcher: Mapped[User] = relationship()
    school: Mapped[School] = relationship()


class SchoolVisit(TimestampMixin, db.Model):
    """A researcher's visit to a school (下校指导)."""

    __tablename__ = "school_visits"
    __table_args__ = (
        CheckConstraint(f"kind IN {VISIT_KINDS!r}", name="kind"),
        Index("ix_school_visits_researcher_date", "researcher_id", "visited_on"),
        Index("ix_school_visits_school_date", "school_id", "visited_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    researcher_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    visited_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16), default="guidance")
    notes_html: Mapped[str] = mapped_column(Text, default="")

    researcher: Mapped[User] = relationship()
    school: Mapped[School] = relationship()
