"""Exchange figures: the ratio per county and who meets the exchange rules of the bureau
documents. The counting rules are written once, in ``exchanges``' docstring; every figure here
is one grouped query, whatever the number of teachers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased

from ..accounts.models import User
from ..core.timeutil import local_today
from ..extensions import db
from ..org.models import RURAL_KINDS, County, School
from .exchanges import (
    NEW_TEACHER_SCHOOL_KINDS,
    RATIO_KINDS,
    RURAL_DAYS,
    RURAL_SERVICE_KINDS,
    SHADOWING_DAYS,
    SHADOWING_TARGET_KINDS,
    TITLE_CANDIDATE_TITLES,
    WEAK_DAYS,
    covers,
    served_days,
)
from .models import TeacherExchange

# --- the exchange ratio per county ---------------------------------------------------------------


@dataclass
class CountyRatio:
    id: int | None
    name: str
    teachers: int
    exchanged: int
    backbone: int
    ratio_target: int
    backbone_target: int

    @property
    def percent(self) -> float:
        return round(self.exchanged * 100 / self.teachers, 1) if self.teachers else 0.0

    @property
    def backbone_percent(self) -> float:
        return round(self.backbone * 100 / self.exchanged, 1) if self.exchanged else 0.0

    @property
    def meets_ratio(self) -> bool:
        return self.teachers > 0 and self.exchanged * 100 >= self.ratio_target * self.teachers

    @property
    def meets_backbone(self) -> bool:
        return self.exchanged > 0 and self.backbone * 100 >= self.backbone_target * self.exchanged


def targets() -> tuple[int, int]:
    return (int(current_app.config.get("EXCHANGE_RATIO_TARGET", 10)),
            int(current_app.config.get("EXCHANGE_BACKBONE_TARGET", 20)))


def exchange_ratios(county_id: int | None = None, day: date | None = None) -> list[CountyRatio]:
    """Teachers, teachers in exchange and backbone teachers among them, per county (all counties,
    or one), as of ``day`` (default today). One grouped query."""
    day = day or local_today()
    placed = exists().where(TeacherExchange.user_id == User.id, TeacherExchange.kind.in_(RATIO_KINDS), covers(day))
    stmt = (
        select(
            County.id, County.name, func.count(User.id),
            func.coalesce(func.sum(case((placed, 1), else_=0)), 0),
            func.coalesce(func.sum(case((and_(placed, User.is_backbone.is_(True)), 1), else_=0)), 0),
        )
        .select_from(County)
        .outerjoin(School, and_(School.county_id == County.id, School.is_active.is_(True)))
        .outerjoin(User, and_(User.school_id == School.id, User.role == "teacher", User.active.is_(True)))
        .group_by(County.id, County.name)
        .order_by(County.name)
    )
    if county_id is not None:
        stmt = stmt.where(County.id == county_id)
    ratio_target, backbone_target = targets()
    return [CountyRatio(cid, name, int(teachers), int(exchanged), int(backbone), ratio_target, backbone_target)
            for cid, name, teachers, exchanged, backbone in db.session.execute(stmt)]


def total_ratio(rows: list[CountyRatio], name: str) -> CountyRatio:
    ratio_target, backbone_target = targets()
    return CountyRatio(None, name, sum(r.teachers for r in rows), sum(r.exchanged for r in rows),
                       sum(r.backbone for r in rows), ratio_target, backbone_target)


# --- the rules: who meets them -------------------------------------------------------------------

RULES = ("shadowing", "title")


def shadowing_statement(county_id: int | None, status: str | None = None, day: date | None = None):
    """Teachers of village schools and teaching points with their days of shadowing at an urban
    or township school: rows of (User, school name, county name, days). One query."""
    day = day or local_today()
    target = aliased(School)
    days = (
        select(TeacherExchange.user_id, func.sum(served_days(day)).label("days"))
        .join(target, target.id == TeacherExchange.to_school_id)
        .where(TeacherExchange.kind == "shadowing", target.kind.in_(SHADOWING_TARGET_KINDS))
        .group_by(TeacherExchange.user_id)
        .subquery()
    )
    total = func.coalesce(days.c.days, 0)
    stmt = (
        select(User, School.name, County.name, total.label("days"))
        .join(School, School.id == User.school_id)
        .join(County, County.id == School.county_id)
        .outerjoin(days, days.c.user_id == User.id)
        .where(User.active.is_(True), User.role == "teacher", School.is_active.is_(True),
               School.kind.in_(NEW_TEACHER_SCHOOL_KINDS))
        .order_by(total, County.name, School.name, User.name, User.id)
    )
    if county_id is not None:
        stmt = stmt.where(School.county_id == county_id)
    if status == "meets":
        stmt = stmt.where(total >= SHADOWING_DAYS)
    elif status == "not_yet":
        stmt = stmt.where(total < SHADOWING_DAYS)
    return stmt


def title_statement(county_id: int | None, status: str | None = None, day: date | None = None):
    """Urban teachers with a title of first grade or below, with their days of rotation or
    support at rural schools and at weak urban schools: rows of (User, school name, county name,
    rural days, weak days). One query."""
    day = day or local_today()
    target = aliased(School)
    served = served_days(day)
    days = (
        select(
            TeacherExchange.user_id,
            func.sum(case((target.kind.in_(RURAL_KINDS), served), else_=0)).label("rural"),
            func.sum(case((and_(target.kind == "urban", target.is_weak.is_(True)), served), else_=0)).label("weak"),
        )
        .join(target, target.id == TeacherExchange.to_school_id)
        .where(TeacherExchange.kind.in_(RURAL_SERVICE_KINDS))
        .group_by(TeacherExchange.user_id)
        .subquery()
    )
    rural, weak = func.coalesce(days.c.rural, 0), func.coalesce(days.c.weak, 0)
    meets = or_(rural >= RURAL_DAYS, weak >= WEAK_DAYS)
    stmt = (
        select(User, School.name, County.name, rural.label("rural"), weak.label("weak"))
        .join(School, School.id == User.school_id)
        .join(County, County.id == School.county_id)
        .outerjoin(days, days.c.user_id == User.id)
        .where(User.active.is_(True), User.role == "teacher", School.is_active.is_(True), School.kind == "urban",
               User.title.in_(TITLE_CANDIDATE_TITLES))
        .order_by(County.name, School.name, User.name, User.id)
    )
    if county_id is not None:
        stmt = stmt.where(School.county_id == county_id)
    if status == "meets":
        stmt = stmt.where(meets)
    elif status == "not_yet":
        stmt = stmt.where(~meets)
    return stmt
