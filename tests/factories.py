"""Factories: callables with sensible defaults, so a test states only what matters to it."""

from __future__ import annotations

import itertools
from datetime import date

from werkzeug.security import generate_password_hash

from portal.accounts.models import User
from portal.org.models import Classroom, County, School, Term

from .factories_communities import CommunityFactories
from .factories_live import LiveFactories
from .factories_observations import ObservationFactories
from .factories_partnerships import PartnershipFactories
from .factories_quota import QuotaFactories
from .factories_resources import ResourceFactories

PASSWORD = "Test-pass-2026!"
# One real scrypt hash for every test user: hashing per user would dominate the run time.
_HASH = generate_password_hash(PASSWORD)


class Factories(CommunityFactories, PartnershipFactories, ResourceFactories, LiveFactories, QuotaFactories,
                ObservationFactories):
    def __init__(self, db):
        self.db = db
        self._seq = itertools.count(1)

    def _n(self) -> int:
        return next(self._seq)

    def county(self, name: str | None = None) -> County:
        county = County(name=name or f"测试县{self._n()}")
        self.db.session.add(county)
        self.db.session.commit()
        return county

    def school(self, kind: str = "urban", county: County | None = None, name: str | None = None, **kwargs) -> School:
        school = School(
            name=name or f"测试学校{self._n()}",
            kind=kind,
            stage=kwargs.pop("stage", "primary"),
            county=county or self.county(),
            student_count=kwargs.pop("student_count", 300),
            **kwargs,
        )
        self.db.session.add(school)
        self.db.session.commit()
        return school

    def classroom(self, school: School | None = None, grade: int = 3, name: str | None = None, **kwargs) -> Classroom:
        classroom = Classroom(school=school or self.school(), grade=grade, name=name or f"{self._n()}班", **kwargs)
        self.db.session.add(classroom)
        self.db.session.commit()
        return classroom

    def user(
        self,
        role: str = "teacher",
        school: School | None = None,
        username: str | None = None,
        name: str | None = None,
        county: County | None = None,
        **kwargs,
    ) -> User:
        if school is None and role in ("teacher", "principal"):
            school = self.school(kind=kwargs.pop("school_kind", "urban"), county=county)
        kwargs.pop("school_kind", None)
        n = self._n()
        user = User(
            username=username or f"{role}{n}",
            name=name or f"测试用户{n}",
            password_hash=_HASH,
            role=role,
            school=school,
            county_id=school.county_id if school is not None else (county.id if county else None),
            **kwargs,
        )
        self.db.session.add(user)
        self.db.session.commit()
        return user

    def term(self, start: date = date(2026, 9, 1), end: date = date(2027, 1, 22), **kwargs) -> Term:
        term = Term(
            name=kwargs.pop("name", f"{start.year}学年第一学期"),
            school_year=kwargs.pop("school_year", start.year if start.month >= 8 else start.year - 1),
            semester=kwargs.pop("semester", "autumn" if start.month >= 8 else "spring"),
            start_date=start,
            end_date=end,
        )
        self.db.session.add(term)
        self.db.session.commit()
        return term

