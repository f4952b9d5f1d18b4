"""City-scale communities for ``seed scale``: deterministic from the seed's random generator.

Per county one 名校长+ community with most of its rural principals, and 名师+ communities per
county and subject group (about one per 60 rural teachers), each led from an urban school and
covering ~90% of the rural teachers. One city-level giant community (~2,000 members, with
the demo teacher.rural) holds a thread of 5,000 replies: the benchmark's worst case. About ten
activities per community over the last year and the coming month, with sign-ups, attendance
and the training hours it earned. Bulk inserts only; counters are set to match the rows.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import select

from ..accounts.models import User
from ..communities.models import Activity, Community, Membership, Participant, Post, Thread, TrainingRecord
from ..core.models import utcnow
from ..core.timeutil import school_year_of, to_local
from ..extensions import db
from ..org.models import RURAL_KINDS, County
from .scale import _bulk, _ids, scale_step

# Subject groups (学科组): a teacher belongs to the group of their first subject.
GROUPS = [
    ("语文", ("chinese",)),
    ("数学", ("math",)),
    ("英语", ("english",)),
    ("艺体", ("music", "pe", "art")),
    ("科学", ("science", "physics", "chemistry", "biology", "it")),
    ("综合", ("morality", "history", "geography", "psychology")),
]
GROUP_OF = {subject: i for i, (_, subjects) in enumerate(GROUPS) for subject in subjects}
TEACHERS_PER_COMMUNITY = 60
COVERED_SHARE = 0.9
GIANT_MEMBERS = 2000
GIANT_REPLIES = 5000
ACTIVITIES_PER_COMMUNITY = 10
MAX_PARTICIPANTS = 300

TEACHER_ACTIVITIES = [
    ("seminar", "主题研讨：{topic}"),
    ("lesson_polishing", "课例研磨：{topic}"),
    ("training", "专题培训：{topic}"),
    ("online_research", "网络教研：{topic}"),
    ("diagnosis", "教学诊断：{topic}"),
    ("demonstration", "名师示范课：{topic}"),
]
PRINCIPAL_ACTIVITIES = [
    ("governance_forum", "乡村校长治校论坛：{topic}"),
    ("school_tour", "乡村学校巡礼：{topic}"),
    ("seminar", "校长研讨：{topic}"),
    ("training", "专题培训：{topic}"),
]
TEACHER_TOPICS = ["大单元教学设计", "作业设计与减负", "复式教学", "课堂提问", "小组合作学习", "信息技术融合",
                  "新课标解读", "整本书阅读", "跨学科主题学习", "课后服务", "学困生辅导", "评价改革"]
PRINCIPAL_TOPICS = ["小规模学校管理", "教师队伍建设", "家校共育", "校园安全", "课后服务", "乡土课程开发",
                    "寄宿制学校管理", "教研制度建设"]
REPLY_TEXTS = ["很受启发，我们学校也准备试一试。", "同意楼上的看法，关键是要坚持。", "能不能分享一下课件？",
               "我们村小只有一个班，这个办法同样适用。", "上周按这个思路上了一节课，学生参与度明显提高。",
               "建议下次活动专门研讨这个问题。", "谢谢分享！", "补充一点：要注意不同年级的差异。",
               "这个做法在教学点也行得通。", "期待更多案例。"]


def _people() -> list[tuple]:
    return list(
        db.session.execute(
            select(User.id, User.username, User.role, User.school_id, User.is_backbone, User.subjects)
            .where(User.role.in_(("teacher", "principal")), User.active.is_(True))
            .order_by(User.id)
        )
    )


def _pick_leader(rng: random.Random, pool: list[int], fallback: list[int], used: set[int]) -> int:
    free = [uid for uid in pool if uid not in used] or [uid for uid in fallback if uid not in used] or fallback
    leader = rng.choice(free)
    used.add(leader)
    return leader


@scale_step
def scale_communities(rng: random.Random, made: dict) -> None:
    now = utcnow().replace(microsecond=0)
    school_kind = {sid: row["kind"] for sid, row in zip(made["school_ids"], made["schools"])}
    school_county = {sid: row["county_id"] for sid, row in zip(made["school_ids"], made["schools"])}
    county_name = {cid: name for cid, name in db.session.execute(select(County.id, County.name))}

    rural_teachers = defaultdict(list)  # (county, group) -> ids
    urban_teachers = defaultdict(list)  # (county, group) -> ids, backbone teachers first
    urban_any = defaultdict(list)  # county -> ids
    rural_principals = defaultdict(list)
    urban_principals = defaultdict(list)
    by_username, all_teachers = {}, []
    for uid, username, role, school_id, backbone, subjects in _people():
        by_username[username] = uid
        if school_id is None:
            continue
        county, rural = school_county[school_id], school_kind[school_id] in RURAL_KINDS
        if role == "principal":
            (rural_principals if rural else urban_principals)[county].append(uid)
            continue
        all_teachers.append(uid)
        group = GROUP_OF.get((subjects or ["chinese"])[0], 0)
        if rural:
            rural_teachers[(county, group)].append(uid)
        else:
            urban_teachers[(county, group)].insert(0, uid) if backbone else urban_teachers[(county, group)].append(uid)
            urban_any[county].append(uid)

    # --- communities and their members (leader first) ---
    communities: list[dict] = []
    members: list[list[tuple[int, str]]] = []
    used_leaders: set[int] = set()
    founded = now - timedelta(days=420)

    def community(kind, county, name, subject, leader, people, description):
        communities.append({
            "kind": kind, "level": "county" if county else "city", "county_id": county, "name": name,
            "description_html": f"<p>{description}</p>", "subject": subject, "stage": None, "leader_id": leader,
            "is_active": True, "member_count": len(people), "created_at": founded, "updated_at": founded,
        })
        members.append(people)

    for county in made["county_ids"]:
        cname = county_name[county]
        principals = [uid for uid in rural_principals[county] if rng.random() < COVERED_SHARE]
        head_pool = urban_principals[county] or principals
        if head_pool:
            head = _pick_leader(rng, head_pool, head_pool, used_leaders)
            people = [(head, "leader")] + [(uid, "member") for uid in principals if uid != head]
            community("principal", county, f"{cname}名校长+共同体", None, head, people,
                      f"{cname}城区校长领衔，乡村校长共同研讨学校治理。")
        for group, (label, subjects) in enumerate(GROUPS):
            rural = list(rural_teachers[(county, group)])
            if not rural:
                continue
            rng.shuffle(rural)
            n = max(1, round(len(rural) / TEACHERS_PER_COMMUNITY))
            for k in range(n):
                chunk = [uid for uid in rural[k::n] if rng.random() < COVERED_SHARE]
                leader = _pick_leader(rng, urban_teachers[(county, group)], urban_any[county] or rural, used_leaders)
                core = [uid for uid in urban_teachers[(county, group)][:6] if uid != leader][: rng.randint(0, 2)]
                people = ([(leader, "leader")] + [(uid, "core") for uid in core]
                          + [(uid, "member") for uid in chunk if uid != leader and uid not in core])
                suffix = f"第{k + 1}组" if n > 1 else ""
                community("teacher", county, f"{cname}{label}名师+共同体{suffix}", subjects[0], leader, people,
                          f"{cname}{label}学科城乡教研共同体，城区名师领衔，带动乡村教师共同成长。")

    # The giant one: the whole city's English teachers and more, with the demo's two teachers.
    lead, rural_demo = by_username.get("teacher.city"), by_username.get("teacher.rural")
    pool = [uid for uid in all_teachers if uid not in (lead, rural_demo)]
    giant_people = [(lead, "leader"), (rural_demo, "core")] + [
        (uid, "member") for uid in rng.sample(pool, min(GIANT_MEMBERS - 2, len(pool) // 3))  # small cities: a third
    ]
    community("teacher", None, "全市英语名师+大讲堂", "english", lead, giant_people,
              "全市城乡英语教师共同参与的大型研修共同体，陈静老师领衔。")
    giant_index = len(communities) - 1

    _bulk(Community, communities)
    community_ids = _ids(Community)[-len(communities):]
    membership_rows = []
    for cid, people in zip(community_ids, members):
        for uid, role in people:
            joined = founded + timedelta(days=rng.randint(0, 360))
            membership_rows.append({
                "community_id": cid, "user_id": uid, "role": role, "status": "active", "note": "",
                "joined_at": joined, "decided_at": joined, "decided_by_id": None,
                "created_at": joined, "updated_at": joined,
            })
    _bulk(Membership, membership_rows)

    _activities(rng, now, communities, community_ids, members, giant_index)
    _threads(rng, now, community_ids, members, giant_index)


def _activities(rng, now, communities, community_ids, members, giant_index) -> None:
    rows, plans = [], []
    for index, (cid, row, people) in enumerate(zip(community_ids, communities, members)):
        kinds, topics = ((TEACHER_ACTIVITIES, TEACHER_TOPICS) if row["kind"] == "teacher"
                         else (PRINCIPAL_ACTIVITIES, PRINCIPAL_TOPICS))
        hosts = [uid for uid, role in people if role in ("leader", "core")]
        for n in range(ACTIVITIES_PER_COMMUNITY):
            past = n < ACTIVITIES_PER_COMMUNITY - 2
            day = -rng.randint(2, 360) if past else rng.randint(1, 30)
            # 09:00 or 14:30 in China (UTC+8), two and a half hours.
            starts = (now + timedelta(days=day)).replace(hour=rng.choice((1, 6)), minute=rng.choice((0, 30)), second=0)
            ends = starts + timedelta(hours=2, minutes=30)
            kind, title = rng.choice(kinds)
            online = kind == "online_research" or index == giant_index
            hours = rng.choice((10, 15, 20, 25, 30, 40))
            size = min(MAX_PARTICIPANTS, int(len(people) * rng.uniform(0.3, 0.7)) if past
                       else int(len(people) * rng.uniform(0.1, 0.4)))
            chosen = rng.sample(people, max(1, size)) if people else []
            attended = {uid: (rng.random() < 0.85) if past else None for uid, _ in chosen}
            host = rng.choice(hosts)
            rows.append({
                "community_id": cid, "title": title.format(topic=rng.choice(topics)), "kind": kind,
                "custom_type_id": None, "starts_at": starts, "ends_at": ends, "is_online": online,
                "place": "" if online else "共同体成员学校会议室",
                "online_url": "https://meeting.example.cn/j/" + str(rng.randint(10**8, 10**9)) if online else "",
                "host_id": host, "description": "请成员提前准备课例与问题。",
                "capacity": MAX_PARTICIPANTS if index == giant_index else None, "hours_tenths": hours,
                "minutes_html": "<p>活动按计划完成，成员交流了各自学校的做法，并确定了下次活动的主题。</p>" if past else "",
                "minutes_by_id": host if past else None, "minutes_at": ends if past else None,
                "cancelled_at": None, "attendance_taken_at": ends if past else None,
                "signup_count": len(attended), "created_by_id": host,
                "created_at": starts - timedelta(days=10), "updated_at": ends if past else starts - timedelta(days=10),
            })
            plans.append(attended)
    _bulk(Activity, rows)
    activity_ids = _ids(Activity)[-len(rows):]
    participants, records = [], []
    for aid, row, attended in zip(activity_ids, rows, plans):
        earned_on = to_local(row["starts_at"]).date()
        year = school_year_of(earned_on)
        signed = row["starts_at"] - timedelta(days=3)
        for uid, present in attended.items():
            participants.append({"activity_id": aid, "user_id": uid, "signed_up_at": signed, "attended": present})
            if present:
                records.append({
                    "user_id": uid, "activity_id": aid, "source": "activity", "title": row["title"],
                    "hours_tenths": row["hours_tenths"], "earned_on": earned_on, "school_year": year,
                    "recorded_by_id": None, "created_at": row["ends_at"], "updated_at": row["ends_at"],
                })
    _bulk(Participant, participants, chunk=20_000)
    _bulk(TrainingRecord, records, chunk=20_000)


def _threads(rng, now, community_ids, members, giant_index) -> None:
    threads, replies = [], []  # replies: per thread, [(author, created_at)]
    for index, (cid, people) in enumerate(zip(community_ids, members)):
        ids = [uid for uid, _ in people]
        if index == giant_index:
            count = 30
        elif rng.random() < 0.5:
            count = 1
        else:
            continue
        for n in range(count):
            big = index == giant_index and n == 0
            started = now - timedelta(days=60 if big else rng.randint(1, 300), hours=rng.randint(0, 23))
            n_replies = GIANT_REPLIES if big else rng.randint(0, 8)
            span = (now - timedelta(hours=1) - started).total_seconds()
            times = sorted(started + timedelta(seconds=rng.uniform(60, span)) for _ in range(n_replies))
            author = ids[0] if big else rng.choice(ids)
            threads.append({
                "community_id": cid, "author_id": author,
                "title": "城乡共研：乡村课堂如何提高学生参与度？" if big else f"{rng.choice(TEACHER_TOPICS)}交流",
                "body_html": "<p>欢迎各位老师结合自己学校的实际，分享做法和困惑。</p>", "edited_at": None,
                "deleted_at": None, "is_pinned": big, "is_locked": False, "reply_count": n_replies,
                "last_post_at": times[-1] if times else started, "created_at": started, "updated_at": started,
            })
            replies.append([(rng.choice(ids), at) for at in times])
    _bulk(Thread, threads)
    thread_ids = _ids(Thread)[-len(threads):]
    posts = []
    for tid, thread_replies in zip(thread_ids, replies):
        for n, (author, at) in enumerate(thread_replies):
            posts.append({"thread_id": tid, "author_id": author, "body_html": f"<p>{REPLY_TEXTS[n % len(REPLY_TEXTS)]}</p>",
                          "edited_at": None, "deleted_at": None, "hidden_by_id": None, "created_at": at,
                          "updated_at": at})
    _bulk(Post, posts, chunk=10_000)
