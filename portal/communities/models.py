"""名师+ and 名校长+ communities: members, activities, training hours, discussions, projects."""

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
from ..core.models import TimestampMixin, UTCDateTime, utcnow
from ..extensions import db
from ..org.models import County

KINDS = ("teacher", "principal")  # 名师+ / 名校长+
LEVELS = ("city", "county")
MEMBER_ROLES = ("leader", "core", "member")
# pending: asked to join; active: in; declined: the request was refused; left / removed: out again.
STATUSES = ("pending", "active", "declined", "left", "removed")
# The activity types the bureau documents name; the bureau may add its own (ActivityType).
ACTIVITY_KINDS = (
    "seminar",  # 主题研讨
    "lesson_polishing",  # 课例研磨
    "training",  # 专题培训
    "online_research",  # 网络教研
    "diagnosis",  # 教学诊断
    "demonstration",  # 名师示范课
    "governance_forum",  # 乡村校长治校论坛
    "school_tour",  # 乡村学校巡礼
    "custom",  # a bureau-defined type, named by custom_type
)
PROJECT_STATUSES = ("proposed", "in_progress", "concluded", "suspended")
PROJECT_LEVELS = ("school", "county", "city", "province", "national")


def hours_text(tenths: int) -> str:
    """1.5 for 15 tenths, 2 for 20: hours as people write them."""
    whole, rest = divmod(int(tenths or 0), 10)
    return f"{whole}.{rest}" if rest else str(whole)


class Community(TimestampMixin, db.Model):
    __tablename__ = "communities"
    __table_args__ = (
        CheckConstraint(f"kind IN {KINDS!r}", name="kind"),
        CheckConstraint(f"level IN {LEVELS!r}", name="level"),
        Index("ix_communities_kind_active", "kind", "is_active"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(8), default="county")
    # County-level communities serve one county; city-level ones (NULL) the whole city.
    county_id: Mapped[int | None] = mapped_column(ForeignKey("counties.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    description_html: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str | None] = mapped_column(String(20))
    stage: Mapped[str | None] = mapped_column(String(16))
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Kept by the membership services so lists never count rows per community.
    member_count: Mapped[int] = mapped_column(Integer, default=0)

    leader: Mapped[User | None] = relationship(foreign_keys=[leader_id])
    county: Mapped[County | None] = relationship()

    def __repr__(self) -> str:
        return f"<Community {self.kind} {self.name}>"


class Membership(TimestampMixin, db.Model):
    __tablename__ = "community_members"
    __table_args__ = (
        UniqueConstraint("community_id", "user_id"),
        CheckConstraint(f"role IN {MEMBER_ROLES!r}", name="role"),
        CheckConstraint(f"status IN {STATUSES!r}", name="status"),
        Index("ix_community_members_community_status", "community_id", "status", "role"),
        Index("ix_community_members_user_status", "user_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(8), default="member")
    status: Mapped[str] = mapped_column(String(10), default="pending")
    note: Mapped[str] = mapped_column(String(200), default="")  # what the person wrote when asking
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    community: Mapped[Community] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class ActivityType(TimestampMixin, db.Model):
    """A bureau-defined activity type beyond the built-in ones."""

    __tablename__ = "activity_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    # Which kind of community may use it (NULL: both).
    community_kind: Mapped[str | None] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class Activity(TimestampMixin, db.Model):
    """A 研修活动: a seminar, a polished lesson, a training, a tour... with attendance and hours."""

    __tablename__ = "community_activities"
    __table_args__ = (
        CheckConstraint(f"kind IN {ACTIVITY_KINDS!r}", name="kind"),
        CheckConstraint("hours_tenths >= 0 AND hours_tenths <= 400", name="hours"),
        CheckConstraint("ends_at > starts_at", name="times"),
        Index("ix_community_activities_community_starts", "community_id", "starts_at"),
        Index("ix_community_activities_starts", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    custom_type_id: Mapped[int | None] = mapped_column(ForeignKey("activity_types.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    is_online: Mapped[bool] = mapped_column(Boolean, default=False)
    place: Mapped[str] = mapped_column(String(200), default="")
    online_url: Mapped[str] = mapped_column(String(300), default="")
    host_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")  # plain text
    capacity: Mapped[int | None] = mapped_column(Integer)
    # 学时 that attending earns, in tenths of an hour so sums stay exact on every database.
    hours_tenths: Mapped[int] = mapped_column(Integer, default=0)
    minutes_html: Mapped[str] = mapped_column(Text, default="")
    minutes_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    minutes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attendance_taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signup_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Optimistic locking (core/locking.py): each ORM update adds one, and fails if another changed it first.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}

    community: Mapped[Community] = relationship()
    host: Mapped[User] = relationship(foreign_keys=[host_id])
    custom_type: Mapped[ActivityType | None] = relationship()

    @property
    def hours(self) -> str:
        return hours_text(self.hours_tenths)

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    def has_started(self, now: datetime | None = None) -> bool:
        return (now or utcnow()) >= self.starts_at


class Participant(db.Model):
    """A person signed up for an activity; ``attended`` is None until the host takes attendance."""

    __tablename__ = "activity_participants"
    __table_args__ = (UniqueConstraint("activity_id", "user_id"), Index("ix_activity_participants_user", "user_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("community_activities.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    signed_up_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attended: Mapped[bool | None] = mapped_column(Boolean)

    activity: Mapped[Activity] = relationship()
    user: Mapped[User] = relationship()


class TrainingRecord(TimestampMixin, db.Model):
    """One line of a person's 学时 ledger: an attended activity, or hours recorded by the bureau."""

    __tablename__ = "training_records"
    __table_args__ = (
        UniqueConstraint("user_id", "activity_id"),
        CheckConstraint("hours_tenths > 0 AND hours_tenths <= 4000", name="hours"),
        Index("ix_training_records_user_year", "user_id", "school_year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("community_activities.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(16), default="activity")  # activity | external
    title: Mapped[str] = mapped_column(String(200))
    hours_tenths: Mapped[int] = mapped_column(Integer)
    earned_on: Mapped[date] = mapped_column(Date)
    school_year: Mapped[int] = mapped_column(Integer)  # the year the school year starts
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    activity: Mapped[Activity | None] = relationship()

    @property
    def hours(self) -> str:
        return hours_text(self.hours_tenths)


class Thread(TimestampMixin, db.Model):
    __tablename__ = "discussion_threads"
    __table_args__ = (Index("ix_discussion_threads_listing", "community_id", "deleted_at", "is_pinned", "last_post_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    body_html: Mapped[str] = mapped_column(Text)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    is_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    last_post_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    community: Mapped[Community] = relationship()
    author: Mapped[User] = relationship()


class Post(TimestampMixin, db.Model):
    """A reply in a thread. Deleted or hidden replies keep their place, shown as such."""

    __tablename__ = "discussion_posts"
    __table_args__ = (Index("ix_discussion_posts_thread", "thread_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("discussion_threads.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    body_html: Mapped[str] = mapped_column(Text)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    thread: Mapped[Thread] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])


class Project(TimestampMixin, db.Model):
    """A research project (课题) run inside a community."""

    __tablename__ = "research_projects"
    __table_args__ = (
        CheckConstraint(f"status IN {PROJECT_STATUSES!r}", name="status"),
        Index("ix_research_projects_community", "community_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(120))
    lead_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    level: Mapped[str] = mapped_column(String(16), default="county")
    summary_html: Mapped[str] = mapped_column(Text, default="")
    started_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)

    community: Mapped[Community] = relationship()
    lead: Mapped[User] = relationship()


class ProjectMember(db.Model):
    __tablename__ = "research_project_members"
    __table_args__ = (UniqueConstraint("project_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("research_projects.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)

    user: Mapped[User] = relationship()


class ProjectOutput(TimestampMixin, db.Model):
    """An output of a project: a report, paper, lesson case... with a link or a note."""

    __tablename__ = "research_project_outputs"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("research_projects.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="other")
    url: Mapped[str] = mapped_column(String(300), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    added_by: Mapped[User | None] = relationship()
