"""City-scale partnerships for ``seed scale``: deterministic from the seed's random generator.

Per county about 85% of the rural schools are paired: one or two education groups led by urban
schools take in paired township schools; each township school leads clusters or central-school
partnerships of village schools and teaching points (paired through it when it is paired, a
rural-only cluster when it is not); every urban school leads one to three partnerships of mixed
kinds with two to six rural members. A few older partnerships have ended. About ten log entries
per partnership over the past year (some have gone quiet), goals for most years, ~8% of the
teachers in an exchange, and every researcher with two to four contact schools and zero to seven
visits this term. Bulk inserts only.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import select

from ..accounts.models import User
from ..core.models import utcnow
from ..core.timeutil import local_today, school_year_of
from ..extensions import db
from ..org.models import RURAL_KINDS
from ..org.services import current_term
from ..partnerships.models import (
    PairingActivity,
    PairingActivitySchool,
    Partnership,
    PartnershipGoal,
    PartnershipPerson,
    PartnershipSchool,
    ResearcherSchool,
    SchoolVisit,
    TeacherExchange,
)
from .scale import _bulk, _ids, scale_step

PAIRED_SHARE = 0.85
EXCHANGE_SHARE = 0.08
ENTRIES = (6, 14)  # log entries per partnership
QUIET_SHARE = 0.1  # partnerships whose log stopped more than 90 days ago

KIND_NAMES = {
    "multi": "“名校+”多校帮扶", "new_school": "“名校+新校”", "weak_school": "“名校+弱校”帮扶",
    "rural_school": "城乡结对帮扶", "central_points": "带动村小和教学点", "group": "教育集团",
    "trusteeship": "托管帮扶", "cluster": "片区",
}
ENTRY_KINDS = [("send_lessons", 6), ("joint_research", 6), ("shadowing", 4), ("shared_lesson", 2), ("visit", 2),
               ("secondment", 1), ("rotation", 1), ("other", 1)]
ENTRY_TITLES = {
    "send_lessons": "送教下乡：{topic}示范课",
    "joint_research": "城乡联合教研：{topic}",
    "shadowing": "跟岗学习：{topic}",
    "shared_lesson": "共享课堂：{topic}",
    "visit": "城乡学校互访：{topic}",
    "secondment": "选派中层干部挂职交流",
    "rotation": "交流轮岗教师工作座谈",
    "other": "结对帮扶工作推进会",
}
TOPICS = ["大单元教学设计", "作业分层设计", "复式教学", "课堂提问", "整本书阅读", "英语口语教学", "小学数学计算教学",
          "音乐课堂常规", "美术欣赏课", "科学实验教学", "课后服务", "教学常规管理", "新课标解读", "心理健康教育"]
ENTRY_NOTES = ["<p>活动按计划完成，两校教师交流了各自的做法，确定了下次活动的主题。</p>",
               "<p>城区学校教师执教示范课，乡村学校教师说课、评课，课后集体研讨。</p>",
               "<p>围绕学校实际问题开展研讨，形成改进清单，下月跟进落实。</p>"]
GOALS = "<p>一、每月至少开展一次送教下乡或联合教研；</p><p>二、乡村学校青年教师到城区学校跟岗学习；</p>" \
        "<p>三、学年末开展一次帮扶成效评估。</p>"
VISIT_KINDS = [("guidance", 5), ("observation", 3), ("research", 2), ("training", 1)]
TRAVELLING_SUBJECTS = {"music", "art", "pe", "english", "it", "psychology"}


def _weighted(rng: random.Random, pairs) -> str:
    return rng.choices([k for k, _ in pairs], [w for _, w in pairs])[0]


@scale_step
def scale_partnerships(rng: random.Random, made: dict) -> None:
    today = local_today()
    year = school_year_of(today)
    now = utcnow().replace(microsecond=0)
    rows = dict(zip(made["school_ids"], made["schools"]))
    kind_of = {sid: row["kind"] for sid, row in rows.items()}
    by_county: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for sid, row in rows.items():
        by_county[row["county_id"]][row["kind"]].append(sid)

    principal_of: dict[int, int] = {}
    teachers_at: dict[int, list[tuple[int, bool, list]]] = defaultdict(list)
    researchers, bureau, rural_demo_school = [], None, None
    for uid, username, role, school_id, county_id, backbone, subjects in db.session.execute(
        select(User.id, User.username, User.role, User.school_id, User.county_id, User.is_backbone, User.subjects)
        .where(User.active.is_(True)).order_by(User.id)
    ):
        if role == "principal":
            principal_of.setdefault(school_id, uid)
            if username == "principal.rural":
                rural_demo_school = school_id
        elif role == "teacher":
            teachers_at[school_id].append((uid, backbone, subjects or []))
        elif role == "researcher":
            researchers.append((uid, county_id))
        elif username == "bureau":
            bureau = uid

    # --- which schools lead which partnerships ---
    plans: list[dict] = []  # {"kind", "lead", "members", "start", "end"}
    counter: dict[int, int] = defaultdict(int)

    def plan(kind: str, lead: int, members: list[int], *, ended: bool = False) -> None:
        if not members:
            return
        if ended:
            start = today - timedelta(days=rng.randint(800, 1500))
            end = today - timedelta(days=rng.randint(30, 400))
        else:
            start, end = today - timedelta(days=rng.randint(120, 1100)), None
        plans.append({"kind": kind, "lead": lead, "members": members, "start": start, "end": end})

    for county_id in made["county_ids"]:
        schools = by_county[county_id]
        urban = list(schools["urban"])
        rural = [sid for kind in RURAL_KINDS for sid in schools[kind]]
        target = {sid for sid in rural if rng.random() < PAIRED_SHARE or sid == rural_demo_school}
        towns = list(schools["township"])
        rng.shuffle(towns)
        towns_in = [t for t in towns if t in target]
        towns_out = [t for t in towns if t not in target]
        direct: list[int] = []  # paired schools still to be given an urban partner
        # One or two education groups take in paired township schools.
        for lead in rng.sample(urban, min(len(urban), rng.randint(1, 2))):
            take = [towns_in.pop() for _ in range(min(len(towns_in), rng.randint(2, 6)))]
            plan("group", lead, take)
        direct += towns_in
        # Village schools and teaching points around township schools: paired ones with a paired
        # township, the others in rural-only clusters with an unpaired one (or in none).
        small = list(schools["village"]) + list(schools["teaching_point"])
        rng.shuffle(small)
        paired_towns = [t for t in towns if t in target]
        around: dict[int, list[int]] = defaultdict(list)
        for sid in small:
            if sid in target:
                if paired_towns and rng.random() < 0.7:
                    around[rng.choice(paired_towns)].append(sid)
                else:
                    direct.append(sid)
            elif towns_out and rng.random() < 0.6:
                around[rng.choice(towns_out)].append(sid)
        for town in towns:
            members = around[town]
            while members:
                size = rng.randint(2, 6)
                chunk, members = members[:size], members[size:]
                plan(rng.choice(("cluster", "central_points")), town, chunk)
        # Every urban school leads one to three partnerships; the unplaced paired schools first.
        rng.shuffle(direct)
        paired_pool = sorted(target)
        for lead in urban:
            for _ in range(rng.randint(1, 3)):
                size = rng.randint(2, 6)
                members = [direct.pop() for _ in range(min(size, len(direct)))]
                if len(members) < size and paired_pool:
                    extra = [s for s in rng.sample(paired_pool, min(len(paired_pool), size)) if s not in members]
                    members += extra[: size - len(members)]
                if not members:
                    continue
                if all(rows[s]["is_weak"] for s in members):
                    kind = rng.choice(("weak_school", "multi", "rural_school"))
                else:
                    kind = rng.choice(("rural_school", "rural_school", "multi", "new_school", "trusteeship"))
                plan(kind, lead, members)
            if paired_pool and rng.random() < 0.05:  # an older pairing that has ended
                plan("rural_school", lead, rng.sample(paired_pool, min(len(paired_pool), rng.randint(1, 3))),
                     ended=True)
        while direct and urban:  # more paired schools than the urban schools took: the first takes the rest
            plan("multi", urban[0], [direct.pop() for _ in range(min(6, len(direct)))])

    # --- partnerships, members, people, goals ---
    partnership_rows = []
    for p in plans:
        counter[p["lead"]] += 1
        n = counter[p["lead"]]
        name = f"{rows[p['lead']]['name']}{KIND_NAMES[p['kind']]}" + (f"（{n}）" if n > 1 else "")
        partnership_rows.append({
            "kind": p["kind"], "name": name[:100], "lead_school_id": p["lead"],
            "county_id": rows[p["lead"]]["county_id"], "start_date": p["start"], "end_date": p["end"],
            "description_html": f"<p>{KIND_NAMES[p['kind']]}：城乡学校在管理、教学、教研上结对共进。</p>",
            "created_by_id": bureau, "created_at": now,
        })
    _bulk(Partnership, partnership_rows)
    partnership_ids = _ids(Partnership)[-len(partnership_rows):]
    member_rows, people_rows, goal_rows = [], [], []
    for pid, p in zip(partnership_ids, plans):
        p["id"] = pid
        member_rows += [{"partnership_id": pid, "school_id": sid} for sid in p["members"]]
        if p["lead"] in principal_of:
            people_rows.append({"partnership_id": pid, "user_id": principal_of[p["lead"]], "duty": "总负责"})
        if p["end"] is None:
            for school_year, share in ((year, 0.7), (year - 1, 0.85)):
                if date(school_year + 1, 8, 31) >= p["start"] and rng.random() < share:
                    goal_rows.append({"partnership_id": pid, "school_year": school_year, "goals_html": GOALS,
                                      "updated_by_id": principal_of.get(p["lead"]), "created_at": now})
    _bulk(PartnershipSchool, member_rows)
    _bulk(PartnershipPerson, people_rows)
    _bulk(PartnershipGoal, goal_rows)

    active = [p for p in plans if p["end"] is None]
    _log_entries(rng, today, now, active, principal_of)
    _exchanges(rng, year, now, active, kind_of, teachers_at, bureau)
    _contacts_and_visits(rng, today, now, researchers, by_county)


def _log_entries(rng, today, now, active, principal_of) -> None:
    entries, schools = [], []
    for p in active:
        quiet = rng.random() < QUIET_SHARE
        oldest = min(365, (today - p["start"]).days + 30)
        newest = min(oldest, 91 if quiet else 1)
        for _ in range(rng.randint(*ENTRIES)):
            kind = _weighted(rng, ENTRY_KINDS)
            entries.append({
                "partnership_id": p["id"], "kind": kind,
                "title": ENTRY_TITLES[kind].format(topic=rng.choice(TOPICS)),
                "happened_on": today - timedelta(days=rng.randint(newest, oldest)),
                "notes_html": rng.choice(ENTRY_NOTES), "other_people": "", "author_id": principal_of.get(p["lead"]),
                "edited_at": None, "created_at": now,
            })
            schools.append([p["lead"], *rng.sample(p["members"], min(len(p["members"]), rng.randint(1, 3)))])
    _bulk(PairingActivity, entries)
    entry_ids = _ids(PairingActivity)[-len(entries):]
    _bulk(PairingActivitySchool, [{"activity_id": eid, "school_id": sid}
                                  for eid, ids in zip(entry_ids, schools) for sid in ids], chunk=20_000)


def _exchanges(rng, year, now, active, kind_of, teachers_at, bureau) -> None:
    """About EXCHANGE_SHARE of the teachers, placed under one of their school's partnerships."""
    wanted = round(EXCHANGE_SHARE * sum(len(t) for t in teachers_at.values()))
    used: set[int] = set()
    rows = []
    for _ in range(wanted * 4):
        if len(rows) >= wanted or not active:
            break
        p = rng.choice(active)
        member = rng.choice(p["members"])
        lead_urban = kind_of[p["lead"]] == "urban"
        roll = rng.random()
        if p["kind"] in ("cluster", "central_points") and roll < 0.5:
            kind, source, dest = "travelling", p["lead"], member
        elif roll < 0.55:
            kind, source, dest = rng.choice(("rotation", "rotation", "support")), p["lead"], member
        elif roll < 0.9:
            kind, source, dest = "shadowing", member, p["lead"]
        else:
            kind, source, dest = "secondment", p["lead"], member
        pool = [t for t in teachers_at.get(source, ()) if t[0] not in used]
        if kind == "travelling":
            pool = [t for t in pool if TRAVELLING_SUBJECTS & set(t[2])]
        if not pool:
            continue
        backbone = [t for t in pool if t[1]]
        uid = (rng.choice(backbone) if backbone and lead_urban and rng.random() < 0.4 else rng.choice(pool))[0]
        used.add(uid)
        first = year if rng.random() < 0.7 else year - 1
        rows.append({
            "user_id": uid, "kind": kind, "from_school_id": source, "to_school_id": dest, "partnership_id": p["id"],
            "start_date": date(first, 9, 1),
            "end_date": None if kind == "travelling" else date(year + 1, 7, 10),
            "days_per_week": rng.randint(1, 3) if kind == "travelling" else None,
            "notes": "", "created_by_id": bureau, "created_at": now,
        })
    _bulk(TeacherExchange, rows)


def _contacts_and_visits(rng, today, now, researchers, by_county) -> None:
    term = current_term(today)
    if term is not None and term.start_date <= today:
        first, last = term.start_date, min(today, term.end_date)
    else:
        first, last = today - timedelta(days=90), today
    span = (last - first).days
    all_rural = sorted(sid for schools in by_county.values() for kind in RURAL_KINDS for sid in schools[kind])
    links, visits = [], []
    for uid, county_id in researchers:
        pool = (sorted(sid for kind in RURAL_KINDS for sid in by_county[county_id][kind])
                if county_id is not None else all_rural)
        for school_id in rng.sample(pool, min(len(pool), rng.randint(2, 4))):
            links.append({"researcher_id": uid, "school_id": school_id, "since": first - timedelta(days=365),
                          "is_active": True, "created_at": now})
            for _ in range(rng.randint(0, 7)):
                visits.append({"researcher_id": uid, "school_id": school_id,
                               "visited_on": first + timedelta(days=rng.randint(0, span)),
                               "kind": _weighted(rng, VISIT_KINDS), "notes_html": "<p>听课、评课并与教师交流。</p>",
                               "created_at": now})
    _bulk(ResearcherSchool, links)
    _bulk(SchoolVisit, visits)
