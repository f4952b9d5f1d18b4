"""Users, API tokens and in-app notifications."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.authz import ROLES
from ..core.models import TimestampMixin, UTCDateTime
from ..extensions import db
from ..org.models import County, School

TITLES = ("none", "third", "second", "first", "senior", "professor")


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(f"role IN {ROLES!r}", name="role"),
        # Coverage and exchange ratios count active people of a role, school by school.
        Index("ix_users_role_active_school", "role", "active", "school_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    # Bureau staff and researchers work for a county (NULL: the whole city).
    county_id: Mapped[int | None] = mapped_column(ForeignKey("counties.id"), index=True)
    subjects: Mapped[list[str]] = mapped_column(JSON, default=list)
    title: Mapped[str] = mapped_column(String(16), default="none")
    phone: Mapped[str] = mapped_column(String(20), default="")
    is_backbone: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # Rotated on logout, password change, role change and deactivation: every cookie
    # (session or remember-me) carries it, so old cookies stop working at once.
    session_nonce: Mapped[str] = mapped_column(String(32), default=new_nonce)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    school: Mapped[School | None] = relationship()
    county: Mapped[County | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:  # Flask-Login alternative id
        return f"{self.id}:{self.session_nonce}"

    @property
    def scope_county_id(self) -> int | None:
        """The county this person's view is limited to (their school's, or their own for staff)."""
        if self.school is not None:
            return self.school.county_id
        return self.county_id

    def __repr__(self) -> str:
        return f"<User {self.username}>"


# The people list (active first, then role and username) is read in index order; name is in the
# index so a search of username or name filters index entries instead of table rows.
Index("ix_users_listing", User.active.desc(), User.role, User.username, User.name)


class ApiToken(TimestampMixin, db.Model):
    """A bearer token; only its SHA-256 is stored, so a database leak leaks no usable token."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(60), default="")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class Notification(TimestampMixin, db.Model):
    """An in-app message. Its text is a catalogue key plus parameters, so it is shown in the
    reader's language (see accounts.notifications.MESSAGES)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    link: Mapped[str] = mapped_column(String(300), default="")
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
