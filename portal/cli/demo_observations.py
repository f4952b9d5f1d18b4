"""Demo lesson observations and quota rules for ``seed demo``.

The documented rule is stored (principals, 35 periods a school year, city-wide) and the demo
county asks its researchers for 20 periods a semester. Relative to today: principal.city has
observed a little more than the pace of the teaching weeks asks (on track), principal.rural a
few periods less (behind), the researcher has kept pace visiting lessons at village schools. Records are
made final through the observations services, scored on the default rubric; principal.city also
has a draft in progress.
"""

from __future__ import annotations

import random

from ..core.timeutil import local_today
from ..extensions import db
from ..observations.quota import TeachingCalendar, progress_for
from ..observations.quota_models import QuotaRule
from .demo import demo_step

TOPICS = {
    "chinese": ["《秋天的雨》第二课时", "古诗二首《山行》《赠刘景文》", "习作：我的植物朋友", "《去年的树》"],
    "math": ["分数的初步认识", "长方形和正方形的周长", "两位数乘两位数（笔算）", "年、月、日"],
    "english": ["Unit 3 Look at me!", "Unit 5 Let's eat! Part A", "Phonics: a-e", "Unit 2 Colours"],
    "music": ["歌曲《小红帽》", "欣赏《彼得与狼》", "打击乐器合奏"],
    "science": ["水的三态变化", "植物的一生"],
}
STRENGTHS = ["教学目标明确，重难点把握准确；师生互动自然，学生参与面广。",
             "情境创设贴近学生生活，小组合作分工清楚，板书简洁有条理。",
             "课堂节奏紧凑，提问有层次，能及时肯定和鼓励学生。",
             "借助双师课堂资源，乡村学生听说机会明显增加。"]
PROBLEMS = ["当堂练习时间偏少，部分学生未完成练习。",
            "小组讨论后的汇报以优生为主，后进生关注不够。",
            "课件信息量偏大，学生记录跟不上。",
            "对学生错误的追问不够深入，错因分析不足。"]
SUGGESTIONS = ["压缩讲解时间，保证不少于8分钟的当堂练习，做到堂堂清。",
               "汇报环节先请后进生发言，再由小组补充。",
               "精简课件，关键结论留白由学生填写。",
               "建立错题记录，下节课前5分钟集中讲评。"]


def _periods(total: int, rng: random.Random) -> list[int]:
    """Period counts of records adding up to ``total``: mostly one period, some two."""
    parts = []
    while total > 0:
        n = 2 if total >= 2 and rng.random() < 0.3 else 1
        parts.append(n)
        total -= n
    return parts


def _record(actor, teacher, day, periods, subject, rng, *, final=True, kind="drop_in", classroom=None):
    from ..observations.rubrics import ensure_default_template
    from ..observations.services import create_observation

    template = ensure_default_template()
    scores = {d["code"]: rng.randint(max(d.get("min", 1), 3), d.get("max", 5)) for d in template.dimensions}
    raw = {
        "observed_teacher_id": teacher.id, "observed_on": day.isoformat(), "periods": periods, "subject": subject,
        "topic": rng.choice(TOPICS.get(subject, TOPICS["math"])), "kind": kind,
        "classroom_id": classroom.id if classroom is not None else None,
        "record_html": "<p>导入（5分钟）：复习旧知，引出课题。</p><p>新授（20分钟）：小组合作探究，教师巡视指导。</p>"
                       "<p>练习（10分钟）：分层练习，当堂反馈。</p>",
        "strengths": rng.choice(STRENGTHS), "problems": rng.choice(PROBLEMS), "suggestions": rng.choice(SUGGESTIONS),
        "grade": rng.choice(("excellent", "good", "good", "fair")), "scores": scores,
    }
    return create_observation(actor, raw, final=final, template=template)


@demo_step
def demo_observations(made: dict) -> None:
    rng = random.Random(8)
    users, county = made["users"], made["county"]
    bureau = users["bureau"]
    db.session.add_all([
        QuotaRule(name="校长听课评课（全市）", county_id=None, role="principal", period="school_year", required=35,
                  kinds=[], active=True, created_by_id=bureau.id),
        QuotaRule(name="教研员下校听课", county_id=county.id, role="researcher", period="semester", required=20,
                  kinds=[], active=True, created_by_id=bureau.id),
    ])
    db.session.flush()

    today = local_today()
    calendar = TeachingCalendar(progress_for(users["principal.city"], today).school_year)
    days = [d for d in calendar.teaching_days(county.id) if calendar.year_start <= d < today]
    if not days:
        return  # the first day of the school year: nothing observed yet

    def spread(n: int) -> list:
        return sorted(rng.choice(days) for _ in range(n))

    def classroom_of(school):
        rooms = [c for c in school.classrooms if c.is_active]
        return rng.choice(rooms) if rooms else None

    city, rural = users["principal.city"], users["principal.rural"]
    expected = progress_for(city, today).expected
    plans = [
        # principal.city: a few periods ahead of the pace
        (city, min(35, expected + 3), [(users["teacher.city"], "english"), (users["teacher.city2"], "math"),
                                       (users["teacher.city3"], "music")]),
        # principal.rural: behind, but not yet at risk
        (rural, max(0, expected - 3) if expected >= 3 else max(0, expected - 1),
         [(users["teacher.rural"], "english"), (users["teacher.village1"], "chinese")]),
    ]
    for observer, total, teachers in plans:
        parts = _periods(total, rng)
        for day, periods in zip(spread(len(parts)), parts, strict=True):
            teacher, subject = rng.choice(teachers)
            _record(observer, teacher, day, periods, subject, rng, classroom=classroom_of(teacher.school))
    # The researcher's visits to village schools (a semester rule of the county).
    researcher = users["researcher"]
    parts = _periods(progress_for(researcher, today).expected + 1, rng)
    for day, periods in zip(spread(len(parts)), parts, strict=True):
        teacher, subject = rng.choice([(users["teacher.rural"], "english"), (users["teacher.village1"], "math"),
                                       (users["teacher.village2"], "science"), (users["teacher.village3"], "chinese")])
        _record(researcher, teacher, day, periods, subject, rng, kind=rng.choice(("drop_in", "standard")))
    # A draft principal.city is still writing.
    _record(city, users["teacher.city"], days[-1], 1, "english", rng, final=False)
    db.session.flush()
