"""City-scale lesson observations for ``seed scale``: 100,000 records at 2,000 schools, deterministic.

Every principal has last school year's records (20 to 40 periods) and this year's so far at a
pace between far behind and ahead of the teaching weeks; researchers observe lessons too. About
one record in twenty is a draft. The documented quota rule is stored. Bulk inserts only, with a
generator of its own (seeded from the shared one's seed), so the other steps' data stay the same.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from ..accounts.models import User
from ..core.timeutil import local_today, school_year_of
from ..extensions import db
from ..observations.models import Observation
from ..observations.quota import progress_for
from ..observations.quota_models import QuotaRule
from .scale import _bulk, scale_step

TOTAL = 100_000  # at the default 2,000 schools; smaller cities get PER_SCHOOL a school
PER_SCHOOL = 50
SUBJECTS = ["chinese", "math", "english", "music", "pe", "art", "science", "morality"]
KIND_WEIGHTS = [("drop_in", 10), ("open", 4), ("standard", 3), ("demonstration", 2), ("live", 1), ("recording", 1)]
PACE = (0.2, 0.5, 0.8, 0.95, 1.0, 1.1, 1.3)  # this year's records against the pace
TOPICS = ["分数的初步认识", "古诗二首", "Unit 3 Look at me!", "长方形的面积", "习作：我的植物朋友", "水的三态变化",
          "《秋天的雨》", "两位数乘两位数", "歌曲《小红帽》", "植物的一生"]
STRENGTHS = "教学目标明确，重难点突出，学生参与度高。"
PROBLEMS = "当堂练习时间偏少。"
SUGGESTIONS = "保证当堂练习时间，做到堂堂清。"


def _weekdays(start: date, end: date) -> list[date]:
    days, day = [], start
    while day <= end:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


@scale_step
def scale_observations(shared: random.Random, made: dict) -> None:
    # Seeded from the shared generator's state without drawing from it (ids differ between runs on
    # PostgreSQL, whose sequences keep counting, so they cannot seed anything).
    rng = random.Random("observations-" + ",".join(str(n) for n in shared.getstate()[1][:16]))
    from ..observations.rubrics import ensure_default_template

    template_id = ensure_default_template().id
    db.session.add(QuotaRule(name="校长听课评课（全市）", county_id=None, role="principal", period="school_year",
                             required=35, kinds=[], active=True))
    db.session.flush()
    today = local_today()
    year = school_year_of(today)
    this_year = _weekdays(date(year, 9, 1), today - timedelta(days=1)) or [date(year, 9, 1)]
    last_year = _weekdays(date(year - 1, 9, 1), date(year, 7, 10))

    teachers: dict[int, list[int]] = {}
    for uid, school_id in db.session.execute(
            select(User.id, User.school_id).where(User.role == "teacher").order_by(User.id)):
        if len(teachers.setdefault(school_id, [])) < 6:
            teachers[school_id].append(uid)
    principals = list(db.session.execute(
        select(User.id, User.school_id).where(User.role == "principal").order_by(User.id)))
    researchers = list(db.session.execute(select(User.id).where(User.role == "researcher").order_by(User.id)).scalars())
    school_ids = [sid for sid in made["school_ids"] if sid in teachers]
    probe = db.session.get(User, principals[0][0]) if principals else None
    expected = progress_for(probe, today).expected if probe is not None else 0
    kinds = [k for k, w in KIND_WEIGHTS for _ in range(w)]
    now = datetime.now(UTC)

    rows: list[dict] = []

    def add(observer_id: int, school_id: int, day: date) -> None:
        periods = rng.choice((1, 1, 1, 1, 1, 1, 2, 2, 3, 4))
        final = rng.random() >= 0.05
        rows.append({
            "observer_id": observer_id, "observed_teacher_id": rng.choice(teachers[school_id]),
            "school_id": school_id, "classroom_id": None, "subject": rng.choice(SUBJECTS),
            "topic": rng.choice(TOPICS), "kind": rng.choice(kinds), "observed_on": day, "periods": periods,
            "status": "final" if final else "draft", "finalized_at": now if final else None,
            "live_session_id": None, "rubric_template_id": template_id, "scores": {},
            "total_score": None, "grade": rng.choice(("excellent", "good", "good", "fair")) if final else None,
            "record_html": "", "strengths": STRENGTHS, "problems": PROBLEMS, "suggestions": SUGGESTIONS,
            "private_notes": "", "client_key": None, "revision": 1, "created_at": now, "updated_at": now,
        })

    for uid, school_id in principals:
        if school_id not in teachers:
            continue
        for _ in range(rng.randint(14, 28)):  # about 20–40 periods last year
            add(uid, school_id, rng.choice(last_year))
        for _ in range(round(expected * rng.choice(PACE) / 1.5)):  # 1.5 periods a record on average
            add(uid, school_id, rng.choice(this_year))
    total = min(TOTAL, PER_SCHOOL * len(made["school_ids"]))
    while len(rows) < total and school_ids:
        observer = rng.choice(researchers) if researchers and rng.random() < 0.5 else rng.choice(principals)[0]
        add(observer, rng.choice(school_ids), rng.choice(this_year if rng.random() < 0.4 else last_year))
    _bulk(Observation, rows[:total])
