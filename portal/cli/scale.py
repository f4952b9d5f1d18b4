"""Deterministic city-scale synthetic data for benchmarks (``seed scale``).

Bulk inserts (one executemany per table) and one password hash shared by every synthetic
account keep 60,000 users well under a minute. The six demo usernames exist here too, so
the benchmark can log in as each role. Later capabilities add their part through SCALE_STEPS.
"""

from __future__ import annotations

import random
import time as clock
from collections.abc import Callable
from datetime import date, time

from sqlalchemy import func, insert, select

from ..accounts.models import User, new_nonce
from ..accounts.services import hash_password
from ..extensions import db
from ..org.models import BellPeriod, BellSchedule, Classroom, County, School, Term
from .demo import DEMO_PASSWORD, SUMMER, WINTER

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅琳建国海波志雪晨欣宇浩然"
PLACES = "青石柳河云台山口石桥河湾岭上柳林凤凰龙泉桃源杏花白沙黄土清水金山银湖东坡西岭南湾北川"
SUBJECTS = ["chinese", "math", "english", "music", "pe", "art", "science", "it", "morality", "physics",
            "chemistry", "biology", "history", "geography", "psychology"]
# Share of schools by kind: the rural majority of a prefecture-level city.
KIND_WEIGHTS = [("urban", 25), ("township", 25), ("village", 40), ("teaching_point", 10)]


class DataExists(Exception):
    pass


SCALE_STEPS: list[Callable[[random.Random, dict], None]] = []


def scale_step(fn):
    SCALE_STEPS.append(fn)
    return fn


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _bulk(model, rows: list[dict], chunk: int = 5000) -> None:
    for start in range(0, len(rows), chunk):
        db.session.execute(insert(model), rows[start : start + chunk])


def _ids(model) -> list[int]:
    return list(db.session.execute(select(model.id).order_by(model.id)).scalars())


def seed_scale(*, schools: int, teachers: int, seed: int) -> str:
    if db.session.execute(select(func.count()).select_from(User)).scalar_one():
        raise DataExists()
    started = clock.monotonic()
    rng = random.Random(seed)
    n_counties = max(1, schools // 100)
    _bulk(County, [{"name": f"{rng.choice(PLACES)}{rng.choice(PLACES)}县{i + 1:02d}", "code": f"C{i + 1:04d}"}
                   for i in range(n_counties)])
    county_ids = _ids(County)

    kinds = [k for k, w in KIND_WEIGHTS for _ in range(w)]
    school_rows = []
    for i in range(schools):
        kind = "urban" if i < n_counties * 3 else rng.choice(kinds)  # every county has urban schools
        stage = rng.choice(("primary", "primary", "junior", "nine_year")) if kind != "teaching_point" else "primary"
        suffix = {"urban": "实验小学" if stage == "primary" else "中学", "township": "镇中心学校",
                  "village": "村小学", "teaching_point": "教学点"}[kind]
        students = {"urban": rng.randint(1200, 3000), "township": rng.randint(300, 900),
                    "village": rng.randint(40, 240), "teaching_point": rng.randint(5, 40)}[kind]
        school_rows.append({
            "name": f"{rng.choice(PLACES)}{rng.choice(PLACES)}{suffix}{i + 1}",
            "kind": kind, "stage": stage, "county_id": county_ids[i % n_counties],
            "is_weak": kind != "urban" and rng.random() < 0.2, "student_count": students, "address": "",
            "is_active": True,
        })
    _bulk(School, school_rows)
    school_ids = _ids(School)

    classroom_rows = []
    for school_id, row in zip(school_ids, school_rows):
        grades = range(1, 7) if row["stage"] == "primary" else (range(7, 10) if row["stage"] == "junior" else range(1, 10))
        per_grade = {"urban": 4, "township": 2, "village": 1, "teaching_point": 1}[row["kind"]]
        for grade in grades:
            if row["kind"] == "teaching_point" and grade > 3:
                continue
            for k in range(per_grade):
                classroom_rows.append({"school_id": school_id, "grade": grade, "name": f"{k + 1}班",
                                       "student_count": rng.randint(8, 50), "is_active": True})
    _bulk(Classroom, classroom_rows)

    schedule_rows = []
    for school_id in school_ids:
        schedule_rows.append({"school_id": school_id, "name": "夏季作息", "from_month_day": "05-01", "to_month_day": "09-30"})
        schedule_rows.append({"school_id": school_id, "name": "冬季作息", "from_month_day": "10-01", "to_month_day": "04-30"})
    _bulk(BellSchedule, schedule_rows)
    period_rows = []
    for schedule_id, row in zip(_ids(BellSchedule), schedule_rows):
        for n, start, end in SUMMER if row["name"] == "夏季作息" else WINTER:
            period_rows.append({"schedule_id": schedule_id, "number": n,
                                "start_time": time.fromisoformat(start), "end_time": time.fromisoformat(end)})
    _bulk(BellPeriod, period_rows)

    for year in (2025, 2026):
        db.session.add(Term(name=f"{year}-{year + 1}学年第一学期", school_year=year, semester="autumn",
                            start_date=date(year, 9, 1), end_date=date(year + 1, 1, 22)))
        db.session.add(Term(name=f"{year}-{year + 1}学年第二学期", school_year=year, semester="spring",
                            start_date=date(year + 1, 2, 22), end_date=date(year + 1, 7, 9)))

    # One hash for everyone: synthetic accounts share the demo password.
    shared = hash_password(DEMO_PASSWORD)
    base = {"password_hash": shared, "title": "none", "phone": "", "active": True, "must_change_password": False,
            "is_backbone": False}
    first_urban = next(sid for sid, r in zip(school_ids, school_rows) if r["kind"] == "urban")
    first_village = next(sid for sid, r in zip(school_ids, school_rows) if r["kind"] == "village")
    county_of = {sid: r["county_id"] for sid, r in zip(school_ids, school_rows)}
    users = [
        {**base, "username": "bureau", "name": "王建国", "role": "bureau", "school_id": None, "county_id": None, "subjects": []},
        {**base, "username": "researcher", "name": "李晓梅", "role": "researcher", "school_id": None,
         "county_id": county_ids[0], "subjects": ["math"]},
        {**base, "username": "principal.city", "name": "张伟", "role": "principal", "school_id": first_urban,
         "county_id": county_of[first_urban], "subjects": ["chinese"]},
        {**base, "username": "principal.rural", "name": "刘芳", "role": "principal", "school_id": first_village,
         "county_id": county_of[first_village], "subjects": ["math"]},
        {**base, "username": "teacher.city", "name": "陈静", "role": "teacher", "school_id": first_urban,
         "county_id": county_of[first_urban], "subjects": ["english"], "is_backbone": True},
        {**base, "username": "teacher.rural", "name": "赵强", "role": "teacher", "school_id": first_village,
         "county_id": county_of[first_village], "subjects": ["english", "music"]},
    ]
    for i, county_id in enumerate(county_ids):
        users.append({**base, "username": f"bureau.c{i + 1}", "name": _name(rng), "role": "bureau",
                      "school_id": None, "county_id": county_id, "subjects": []})
        for k in range(2):
            users.append({**base, "username": f"researcher.c{i + 1}.{k + 1}", "name": _name(rng),
                          "role": "researcher", "school_id": None, "county_id": county_id,
                          "subjects": [rng.choice(SUBJECTS)]})
    for i, school_id in enumerate(school_ids):
        if school_id not in (first_urban, first_village):
            users.append({**base, "username": f"p{i + 1:05d}", "name": _name(rng), "role": "principal",
                          "school_id": school_id, "county_id": county_of[school_id], "subjects": []})
    # Teachers in proportion to students, at least one per school.
    weights = [max(1, r["student_count"]) for r in school_rows]
    for n in range(max(0, teachers - len(users))):
        school_id = school_ids[n] if n < len(school_ids) else rng.choices(school_ids, weights)[0]
        users.append({**base, "username": f"t{n + 1:06d}", "name": _name(rng), "role": "teacher",
                      "school_id": school_id, "county_id": county_of[school_id],
                      "subjects": rng.sample(SUBJECTS, rng.choice((1, 1, 2))),
                      "title": rng.choice(("none", "third", "second", "second", "first", "first", "senior")),
                      "is_backbone": rng.random() < 0.08})
    for row in users:
        row["session_nonce"] = new_nonce()
    _bulk(User, users)

    made = {"county_ids": county_ids, "school_ids": school_ids, "schools": school_rows}
    for step in SCALE_STEPS:
        step(rng, made)
    db.session.commit()
    elapsed = clock.monotonic() - started
    return (f"Scale data loaded in {elapsed:.1f}s: {n_counties} counties, {schools} schools, "
            f"{len(classroom_rows)} classes, {len(users)} accounts (seed {seed}).")
