"""The observation quota rule (听课节数要求): data the bureau keeps, not code.

A rule says: people of ``role`` in a jurisdiction (a county, or the whole city when
``county_id`` is NULL) must observe ``required`` class periods per ``period`` (a school year
from 1 September, or a semester), counting final observations of the ``kinds`` listed (all
kinds when the list is empty), at most ``max_periods_per_record`` periods from one record
(no cap when NULL). A county's active rule for a role overrides the city's. The engine lives
in ``quota.py``.

Rules go by role only: the user model has no post narrower than the role (vice-principal, head
of teaching, new teacher...); ``User.title`` is the professional title (职称), not a post. A
``position`` column belongs here once accounts record posts.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..core.models import TimestampMixin
from ..extensions import db
from ..org.models import County

QUOTA_ROLES = ("principal", "researcher", "teacher")
QUOTA_PERIODS = ("school_year", "semester")
MAX_REQUIRED = 500


class QuotaRule(TimestampMixin, db.Model):
    __tablename__ = "quota_rules"
    __table_args__ = (
        CheckConstraint(f"role IN {QUOTA_ROLES!r}", name="role"),
        CheckConstraint(f"period IN {QUOTA_PERIODS!r}", name="period"),
        CheckConstraint(f"required BETWEEN 1 AND {MAX_REQUIRED}", name="required"),
        CheckConstraint("max_periods_per_record IS NULL OR max_periods_per_record BETWEEN 1 AND 4",
                        name="max_periods_per_record"),
        # Finding the rule of a person: active rules of a role, city-wide or of their county.
        Index("ix_quota_rules_role_active_county", "role", "active", "county_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), default="")
    county_id: Mapped[int | None] = mapped_column(ForeignKey("counties.id"))
    role: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(12), default="school_year")
    required: Mapped[int] = mapped_column(SmallInteger)
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every kind counts
    max_periods_per_record: Mapped[int | None] = mapped_column(SmallInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Optimistic locking (core/locking.py): each ORM update adds one, and fails if another changed it first.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}

    county: Mapped[County | None] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def is_builtin(self) -> bool:
        """The documented default used when the bureau has stored no rule (never saved)."""
        return self.id is None

    def counts_kind(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds

    def __repr__(self) -> str:
        return f"<QuotaRule {self.role} county={self.county_id} {self.required}/{self.period}>"
