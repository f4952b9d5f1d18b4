"""The shared lesson resource library (优质资源共享): resources, their versions, who they are
shared with, ratings, comments, "used in my class" marks and downloads."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
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
from ..org.models import School

KINDS = (
    "lesson_plan",  # 教案
    "courseware",  # 课件
    "micro_lesson",  # 微课
    "exercise",  # 试题
    "lesson_case",  # 课例 (a recorded lesson)
    "learning_guide",  # 学案
    "other",
)
VISIBILITIES = ("public", "community", "pairing", "private")
EDITIONS = ("pep", "bnu", "jiangsu", "beijing", "shanghai", "hunan", "other")  # 教材版本; see labels


class Resource(TimestampMixin, db.Model):
    __tablename__ = "resources"
    __table_args__ = (
        CheckConstraint(f"kind IN {KINDS!r}", name="kind"),
        CheckConstraint(f"visibility IN {VISIBILITIES!r}", name="visibility"),
        CheckConstraint("grade IS NULL OR grade BETWEEN 1 AND 12", name="grade"),
        # owner_id too: counting what a person may see reads this index alone, not the wide rows.
        Index("ix_resources_listing_owner", "deleted_at", "visibility", "created_at", "owner_id"),
        Index("ix_resources_created", "created_at"),  # newest first, read until a page is full
        # A filtered list read newest first until its page is full, rather than every match sorted
        # or every resource walked for a value few have (migration 0016).
        Index("ix_resources_subject_created", "subject", "created_at"),
        Index("ix_resources_subject_grade_created", "subject", "grade", "created_at"),
        Index("ix_resources_grade_created", "grade", "created_at"),
        Index("ix_resources_stage_created", "stage", "created_at"),
        Index("ix_resources_kind_created", "kind", "created_at"),
        Index("ix_resources_edition_created", "edition", "created_at"),
        Index("ix_resources_owner", "owner_id", "created_at"),
        Index("ix_resources_school", "school_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")  # plain text, paragraphs kept
    kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(20))
    stage: Mapped[str] = mapped_column(String(16))
    grade: Mapped[int | None] = mapped_column(SmallInteger)
    edition: Mapped[str] = mapped_column(String(20), default="")  # 教材版本, e.g. 人教版
    unit: Mapped[str] = mapped_column(String(80), default="")  # 单元 / 章节
    tags: Mapped[str] = mapped_column(String(200), default="")  # space-separated
    # Title, description and tags in one lower-cased column: the search backends index this;
    # no page shows it, so it is read only when asked for.
    search_text: Mapped[str] = mapped_column(Text, default="", deferred=True)
    visibility: Mapped[str] = mapped_column(String(10), default="public")
    link_url: Mapped[str] = mapped_column(String(500), default="")  # an external resource, no file
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The owner's school and county when shared: urban→rural flows are counted from these.
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))
    county_id: Mapped[int | None] = mapped_column(ForeignKey("counties.id"), index=True)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("resource_versions.id", use_alter=True, ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Counters kept by the services, so lists never count rows per resource.
    view_count: Mapped[int] = mapped_column(Integer, default=0)
    download_count: Mapped[int] = mapped_column(Integer, default=0)
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    rating_sum: Mapped[int] = mapped_column(Integer, default=0)
    use_count: Mapped[int] = mapped_column(Integer, default=0)
    comment_count: Mapped[int] = mapped_column(Integer, default=0)
    # Optimistic locking of the metadata (core/locking.py; not the file versions): each ORM update
    # adds one and fails if another changed it first. Counters above are written with plain UPDATEs
    # that leave it alone.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    school: Mapped[School | None] = relationship()
    current_version: Mapped[ResourceVersion | None] = relationship(foreign_keys=[current_version_id],
                                                                  post_update=True)
    audiences: Mapped[list[ResourceAudience]] = relationship(cascade="all, delete-orphan")

    @property
    def rating(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 1) if self.rating_count else None

    @property
    def is_link(self) -> bool:
        return bool(self.link_url)


class ResourceVersion(TimestampMixin, db.Model):
    """One uploaded file of a resource; a new upload adds a version and keeps the old ones."""

    __tablename__ = "resource_versions"
    __table_args__ = (UniqueConstraint("resource_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    stored_name: Mapped[str] = mapped_column(String(100))
    original_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(200), default="")  # what changed
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    uploaded_by: Mapped[User | None] = relationship()


class ResourceAudience(db.Model):
    """Who a community- or pairing-visible resource is shared with: a community or a partnership."""

    __tablename__ = "resource_audiences"
    __table_args__ = (
        CheckConstraint("(community_id IS NULL) <> (partnership_id IS NULL)", name="one_target"),
        Index("ix_resource_audiences_community", "community_id", "resource_id"),
        Index("ix_resource_audiences_partnership", "partnership_id", "resource_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    partnership_id: Mapped[int | None] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"))


class ResourceSearchState(db.Model):
    """One row whose number changes with every write that can change what a search finds or who
    may see a found resource: resources' searchable and visibility columns, and their audiences.
    Database triggers change it (search_ddl), so no writer can forget; each process keeps the
    matches of recent searches while the number stays the one they were read under (search_memory)."""

    __tablename__ = "resource_search_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(BigInteger)


class ResourceRating(db.Model):
    __tablename__ = "resource_ratings"
    __table_args__ = (
        UniqueConstraint("resource_id", "user_id"),
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    stars: Mapped[int] = mapped_column(SmallInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ResourceComment(TimestampMixin, db.Model):
    __tablename__ = "resource_comments"
    __table_args__ = (Index("ix_resource_comments_resource", "resource_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    body_html: Mapped[str] = mapped_column(Text)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    author: Mapped[User] = relationship()


class ResourceUse(TimestampMixin, db.Model):
    """A teacher's "used in my class" mark (one per person and resource)."""

    __tablename__ = "resource_uses"
    __table_args__ = (UniqueConstraint("resource_id", "user_id"), Index("ix_resource_uses_school", "school_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))
    used_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(200), default="")  # e.g. the class and lesson


class ResourceDownload(db.Model):
    """Who downloaded what, when, from which school: the urban→rural flow the bureau watches."""

    __tablename__ = "resource_downloads"
    __table_args__ = (
        Index("ix_resource_downloads_resource", "resource_id", "at"),
        Index("ix_resource_downloads_school", "school_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    version_id: Mapped[int | None] = mapped_column(ForeignKey("resource_versions.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ActivityResource(db.Model):
    """A resource attached to a community activity (课例, 课件 of a seminar...)."""

    __tablename__ = "activity_resources"
    __table_args__ = (UniqueConstraint("activity_id", "resource_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("community_activities.id", ondelete="CASCADE"))
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"), index=True)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))



class LiveClassResource(db.Model):
    """A resource attached to a dual-teacher class (课件, 学案 the receiving rooms need)."""

    __tablename__ = "live_class_resources"
    __table_args__ = (UniqueConstraint("live_class_id", "resource_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    live_class_id: Mapped[int] = mapped_column(ForeignKey("live_classes.id", ondelete="CASCADE"))
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"), index=True)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
