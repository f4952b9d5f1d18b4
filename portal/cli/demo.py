"""The demo county (示范县): schools, classrooms, terms, bell schedules and the demo accounts.

Later capabilities add their own demo data through ``DEMO_STEPS``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time

from sqlalchemy import func, select

from ..accounts.models import User
from ..accounts.services import create_user, hash_password
from ..extensions import db
from ..org.models import BellPeriod, BellSchedule, Classroom, County, School, Term

DEMO_PASSWORD = "Demo-pass-2026"

# (name, kind, stage, weak, students)
SCHOOLS = [
    ("示范县实验小学", "urban", "primary", False, 2100),
    ("示范县第一中学", "urban", "junior", False, 1800),
    ("示范县城关第二小学", "urban", "primary", False, 1500),
    ("青石镇中心小学", "township", "primary", False, 620),
    ("青石镇初级中学", "township", "junior", True, 540),
    ("柳河镇中心学校", "township", "nine_year", False, 700),
    ("青石镇山口村小学", "village", "primary", True, 96),
    ("青石镇石桥村小学", "village", "primary", False, 120),
    ("柳河镇河湾村小学", "village", "primary", True, 85),
    ("柳河镇岭上教学点", "teaching_point", "primary", False, 18),
    ("青石镇云台教学点", "teaching_point", "primary", False, 12),
    ("柳河镇柳林村小学", "village", "primary", False, 140),
]

# username, name, role, school index (None: county staff), subjects, title
ACCOUNTS = [
    ("bureau", "王建国", "bureau", None, [], "none"),
    ("researcher", "李晓梅", "researcher", None, ["math"], "senior"),
    ("principal.city", "张伟", "principal", 0, ["chinese"], "senior"),
    ("principal.rural", "刘芳", "principal", 6, ["math"], "first"),
    ("teacher.city", "陈静", "teacher", 0, ["english"], "senior"),
    ("teacher.rural", "赵强", "teacher", 6, ["english", "music"], "second"),
]

# More people, so lists and pairings have someone in them.
EXTRA_TEACHERS = [
    ("teacher.city2", "孙丽", 1, ["math"], "first"),
    ("teacher.city3", "周明", 2, ["music"], "first"),
    ("teacher.town1", "吴红", 3, ["chinese"], "second"),
    ("teacher.town2", "郑勇", 4, ["math"], "second"),
    ("teacher.town3", "冯雪", 5, ["english"], "third"),
    ("teacher.village1", "黄磊", 7, ["chinese", "math"], "second"),
    ("teacher.village2", "何敏", 8, ["math", "science"], "third"),
    ("teacher.village3", "罗娟", 9, ["chinese"], "none"),
    ("teacher.village4", "马林", 10, ["chinese", "art"], "none"),
    ("teacher.village5", "高洁", 11, ["english"], "third"),
]
EXTRA_PRINCIPALS = [
    (f"principal.school{i}", name, i)
    for i, name in [(1, "许刚"), (2, "邓华"), (3, "曹平"), (4, "彭辉"), (5, "蒋涛"), (7, "韩冬"), (8, "唐勤"), (9, "冯军"), (10, "于波"), (11, "董艳")]
]

SUMMER = [(1, "08:00", "08:40"), (2, "08:50", "09:30"), (3, "10:00", "10:40"), (4, "10:50", "11:30"),
          (5, "14:30", "15:10"), (6, "15:20", "16:00"), (7, "16:10", "16:50")]
WINTER = [(1, "08:10", "08:50"), (2, "09:00", "09:40"), (3, "10:10", "10:50"), (4, "11:00", "11:40"),
          (5, "14:00", "14:40"), (6, "14:50", "15:30"), (7, "15:40", "16:20")]


class DataExists(Exception):
    pass


DEMO_STEPS: list[Callable[[dict], None]] = []


def demo_step(fn: Callable[[dict], None]) -> Callable[[dict], None]:
    """Register a later capability's demo data; it receives the dict of what was made so far."""
    DEMO_STEPS.append(fn)
    return fn


def _schedule(school: School, name: str, rows, from_md=None, to_md=None) -> BellSchedule:
    schedule = BellSchedule(school=school, name=name, from_month_day=from_md, to_month_day=to_md)
    for n, start, end in rows:
        schedule.periods.append(BellPeriod(number=n, start_time=time.fromisoformat(start), end_time=time.fromisoformat(end)))
    db.session.add(schedule)
    return schedule


def seed_demo() -> str:
    if db.session.execute(select(func.count()).select_from(User)).scalar_one():
        raise DataExists()
    county = County(name="示范县", code="DEMO01")
    db.session.add(county)
    schools = []
    for i, (name, kind, stage, weak, students) in enumerate(SCHOOLS):
        school = School(name=name, kind=kind, stage=stage, county=county, is_weak=weak, student_count=students)
        db.session.add(school)
        schools.append(school)
        grades = range(1, 7) if stage == "primary" else (range(7, 10) if stage == "junior" else range(1, 10))
        per_grade = 2 if kind == "urban" else 1
        for grade in grades:
            if kind == "teaching_point" and grade > 3:
                continue  # teaching points keep only the lower grades
            for k in range(per_grade):
                size = max(6, students // (len(grades) * per_grade))
                db.session.add(Classroom(school=school, grade=grade, name=f"{k + 1}班", student_count=min(size, 55)))
        # Summer timetable from 1 May, winter from 1 October (作息时间 changes twice a year).
        _schedule(school, "夏季作息", SUMMER, "05-01", "09-30")
        _schedule(school, "冬季作息", WINTER if i % 3 else WINTER[:6], "10-01", "04-30")
        _schedule(school, "默认作息", WINTER)
    db.session.add_all(
        [
            Term(name="2025-2026学年第二学期", school_year=2025, semester="spring",
                 start_date=date(2026, 3, 2), end_date=date(2026, 7, 10)),
            Term(name="2026-2027学年第一学期", school_year=2026, semester="autumn",
                 start_date=date(2026, 9, 1), end_date=date(2027, 1, 22)),
            Term(name="2026-2027学年第二学期", school_year=2026, semester="spring",
                 start_date=date(2027, 2, 22), end_date=date(2027, 7, 9)),
        ]
    )
    db.session.flush()
    # One hash for every demo account: they share the documented password.
    shared_hash = hash_password(DEMO_PASSWORD)
    users = {}
    for username, name, role, school_index, subjects, title in ACCOUNTS:
        users[username] = create_user(
            None, username=username, name=name, password=DEMO_PASSWORD, role=role,
            school=schools[school_index] if school_index is not None else None, county_id=county.id,
            subjects=subjects, title=title, check_policy=False, password_hash=shared_hash,
        )
    users["teacher.city"].is_backbone = True
    for username, name, school_index, subjects, title in EXTRA_TEACHERS:
        users[username] = create_user(
            None, username=username, name=name, password=DEMO_PASSWORD, role="teacher",
            school=schools[school_index], subjects=subjects, title=title, check_policy=False, password_hash=shared_hash,
        )
    for username, name, school_index in EXTRA_PRINCIPALS:
        users[username] = create_user(
            None, username=username, name=name, password=DEMO_PASSWORD, role="principal",
            school=schools[school_index], check_policy=False, password_hash=shared_hash,
        )
    made = {"county": county, "schools": schools, "users": users}
    for step in DEMO_STEPS:
        step(made)
    db.session.commit()
    return f"Demo county loaded: {len(schools)} schools, {len(users)} accounts (password {DEMO_PASSWORD})."
