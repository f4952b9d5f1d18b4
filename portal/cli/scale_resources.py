"""City-scale resources for ``seed scale``: deterministic from the seed's random generator.

200,000 resources (metadata rows) with realistic Chinese titles composed from edition, grade,
unit, lesson and kind ("人教版三年级上册 第二单元《观潮》第一课时 教学设计"), one or two
sentences of description and a few tags. 70% are shared by urban teachers, the rest by rural
ones; 70% public, 15% for communities the owner belongs to, 10% for a partnership of the
owner's school, 5% private. Views, downloads and ratings are plausible counters (no rows
behind them). Twenty resources get a real tiny PDF as their version. Bulk inserts only; the
search index is built once at the end (SQLite: FTS5 rebuild; PostgreSQL: the GIN index).
"""

from __future__ import annotations

import io
import random
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import select, update
from werkzeug.datastructures import FileStorage

from ..accounts.models import User
from ..communities.models import Membership
from ..core.models import utcnow
from ..core.uploads import save_upload
from ..extensions import db
from ..org.models import RURAL_KINDS
from ..partnerships.models import Partnership, PartnershipSchool
from ..resources.models import Resource, ResourceAudience, ResourceVersion
from ..resources.search import search_text_of
from ..resources.search_ddl import search_index_deferred
from .scale import _bulk, _ids, scale_step

RESOURCES = 200_000
CITY_TEACHERS = 50_000  # from this many teachers on, the full library
FILES = 20
URBAN_SHARE = 0.7
VISIBILITY_WEIGHTS = [("public", 70), ("community", 15), ("pairing", 10), ("private", 5)]
EDITION_WEIGHTS = [("pep", 50), ("bnu", 15), ("jiangsu", 12), ("beijing", 5), ("shanghai", 5), ("hunan", 5),
                   ("other", 8)]
EDITION_NAMES = {"pep": "人教版", "bnu": "北师大版", "jiangsu": "苏教版", "beijing": "北京版", "shanghai": "沪教版",
                 "hunan": "湘教版", "other": "部编版"}
KIND_WEIGHTS = [("lesson_plan", 30), ("courseware", 25), ("micro_lesson", 10), ("exercise", 15),
                ("lesson_case", 8), ("learning_guide", 10), ("other", 2)]
KIND_WORDS = {"lesson_plan": ["教学设计", "教案", "教学设计（含反思）"], "courseware": ["课件", "PPT课件", "优质课件"],
              "micro_lesson": ["微课", "微课视频"], "exercise": ["课时练习", "同步练习", "单元测试卷"],
              "lesson_case": ["课堂实录", "优质课例"], "learning_guide": ["导学案", "学案"], "other": ["素材包", "说课稿"]}
GRADE_NAMES = "一二三四五六七八九"
STAGE_OF_SCHOOL = {"primary": "primary", "junior": "junior", "nine_year": None}
NUMBERS = "一二三四五六七八"
SUBJECT_NAMES = {"chinese": "语文", "math": "数学", "english": "英语", "music": "音乐", "pe": "体育", "art": "美术",
                 "science": "科学", "it": "信息技术", "morality": "道德与法治", "physics": "物理", "chemistry": "化学",
                 "biology": "生物", "history": "历史", "geography": "地理", "psychology": "心理健康"}
# Lesson topics by subject and stage; others use the generic list.
LESSONS = {
    ("chinese", "primary"): ["观潮", "爬山虎的脚", "草船借箭", "桂林山水", "落花生", "匆匆", "古诗三首", "静夜思",
                             "小蝌蚪找妈妈", "乌鸦喝水", "司马光", "少年闰土", "白鹅", "海上日出", "圆明园的毁灭",
                             "慈母情深", "将相和", "猫", "鸟的天堂", "开国大典", "只有一个地球", "四季之美"],
    ("chinese", "junior"): ["春", "济南的冬天", "从百草园到三味书屋", "背影", "孔乙己", "故乡", "岳阳楼记",
                            "醉翁亭记", "桃花源记", "愚公移山", "藤野先生", "紫藤萝瀑布"],
    ("math", "primary"): ["分数的意义", "分数的加法和减法", "小数的加法和减法", "圆的面积", "长方体和正方体",
                          "百分数", "比例", "三角形的内角和", "平行四边形的面积", "多位数乘一位数", "认识人民币",
                          "20以内的进位加法", "位置与方向", "统计与概率", "鸡兔同笼", "因数与倍数"],
    ("math", "junior"): ["有理数", "一元一次方程", "勾股定理", "二次函数", "平方根", "全等三角形", "相似三角形",
                         "一次函数", "整式的乘法", "圆的切线", "数据的分析"],
    ("english", "primary"): ["Unit 1 Hello", "Unit 3 My School", "My family", "Colours", "At the zoo",
                             "How do you go to school", "What's the weather like", "My favourite food"],
    ("english", "junior"): ["Unit 2 What's the matter", "Can you come to my party", "Reading strategies",
                            "Past simple tense", "Writing an email", "Festivals around the world"],
    ("science", "primary"): ["植物的一生", "水的三态变化", "简单电路", "地球的运动", "声音的产生", "岩石与土壤"],
    ("physics", "junior"): ["光的折射", "牛顿第一定律", "欧姆定律", "浮力", "机械能", "电功率"],
    ("chemistry", "junior"): ["氧气的性质", "质量守恒定律", "酸和碱", "燃烧与灭火", "金属的化学性质"],
    ("biology", "junior"): ["细胞的结构", "光合作用", "人体的消化", "生物的遗传", "生态系统"],
    ("history", "junior"): ["秦统一中国", "丝绸之路", "辛亥革命", "五四运动", "改革开放"],
    ("geography", "junior"): ["地球的自转", "中国的气候", "黄河与长江", "世界的人口", "等高线地形图"],
    ("music", "primary"): ["茉莉花", "小白船", "彝家娃娃真幸福", "唱歌 卖报歌", "欣赏 梁祝"],
    ("art", "primary"): ["色彩的冷暖", "剪纸艺术", "我的家乡", "有趣的线条", "水墨游戏"],
    ("pe", "primary"): ["立定跳远", "50米快速跑", "跳绳", "前滚翻", "小篮球 运球"],
}
GENERIC = ["单元复习", "综合实践活动", "期末复习", "主题班会", "安全教育", "劳动教育", "阅读指导", "项目式学习"]
GOALS = ["引导学生在动手操作中理解{topic}", "以问题串推进{topic}的教学", "落实新课标对{topic}的要求",
         "通过小组合作学习{topic}", "结合乡村学生的生活经验讲解{topic}", "用情境导入激发学生学习{topic}的兴趣"]
SECOND = ["适合复式班和小班教学使用。", "附课后作业与分层练习。", "已在城乡结对学校试讲，效果较好。",
          "可配合希沃白板使用。", "教学时长约40分钟。", "含板书设计和教学反思。"]
TAG_WORDS = ["新课标", "大单元", "双减", "公开课", "优质课", "复式教学", "作业设计", "送教下乡", "同课异构"]


def _weighted(rng: random.Random, pairs) -> str:
    return rng.choices([k for k, _ in pairs], [w for _, w in pairs])[0]


def _pdf(n: int) -> bytes:
    body = f"BT /F1 12 Tf 72 720 Td (Lesson resource {n}) Tj ET".encode()
    return (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
            b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
            b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >> endobj\n"
            b"4 0 obj << /Length " + str(len(body)).encode() + b" >> stream\n" + body
            + b"\nendstream endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")


@scale_step
def scale_resources(rng: random.Random, made: dict) -> None:
    now = utcnow().replace(microsecond=0)
    schools = dict(zip(made["school_ids"], made["schools"]))
    urban, rural = [], []
    for uid, school_id, subjects in db.session.execute(
        select(User.id, User.school_id, User.subjects)
        .where(User.role == "teacher", User.active.is_(True)).order_by(User.id)
    ):
        row = schools[school_id]
        (rural if row["kind"] in RURAL_KINDS else urban).append(
            (uid, school_id, row["county_id"], row["stage"], (subjects or ["chinese"])[0]))
    communities_of: dict[int, list[int]] = defaultdict(list)
    for uid, cid in db.session.execute(select(Membership.user_id, Membership.community_id)
                                       .where(Membership.status == "active").order_by(Membership.id)):
        communities_of[uid].append(cid)
    partnerships_of: dict[int, list[int]] = defaultdict(list)
    for pid, lead in db.session.execute(select(Partnership.id, Partnership.lead_school_id)
                                        .where(Partnership.end_date.is_(None)).order_by(Partnership.id)):
        partnerships_of[lead].append(pid)
    for pid, sid in db.session.execute(
        select(PartnershipSchool.partnership_id, PartnershipSchool.school_id)
        .join(Partnership, Partnership.id == PartnershipSchool.partnership_id)
        .where(Partnership.end_date.is_(None)).order_by(PartnershipSchool.id)
    ):
        partnerships_of[sid].append(pid)

    # Who shares what: owners of community resources belong to a community, owners of pairing
    # resources teach at a paired school.
    pools = {
        "public": (urban, rural), "private": (urban, rural),
        "community": ([t for t in urban if communities_of[t[0]]], [t for t in rural if communities_of[t[0]]]),
        "pairing": ([t for t in urban if partnerships_of[t[1]]], [t for t in rural if partnerships_of[t[1]]]),
    }
    # The city gets its 200,000; a small seed (the tests') a proportionate library, not a city's.
    teachers = len(urban) + len(rural)
    count = RESOURCES if teachers >= CITY_TEACHERS else max(200, teachers * RESOURCES // CITY_TEACHERS)
    rows, audiences = [], []
    for _ in range(count):
        visibility = _weighted(rng, VISIBILITY_WEIGHTS)
        urban_pool, rural_pool = pools[visibility]
        if not urban_pool and not rural_pool:
            visibility, (urban_pool, rural_pool) = "public", pools["public"]
        uid, school_id, county_id, school_stage, subject = rng.choice(
            urban_pool if urban_pool and (not rural_pool or rng.random() < URBAN_SHARE) else rural_pool)
        stage = STAGE_OF_SCHOOL.get(school_stage) or rng.choice(("primary", "junior"))
        grade = rng.randint(1, 6) if stage == "primary" else rng.randint(7, 9)
        kind, edition = _weighted(rng, KIND_WEIGHTS), _weighted(rng, EDITION_WEIGHTS)
        lesson = rng.choice(LESSONS.get((subject, stage)) or GENERIC)
        semester, unit = rng.choice("上下"), rng.randint(1, 8)
        word = rng.choice(KIND_WORDS[kind])
        period = f"第{NUMBERS[rng.randint(0, 2)]}课时 " if kind in ("lesson_plan", "courseware", "lesson_case") else ""
        title = (f"{EDITION_NAMES[edition]}{GRADE_NAMES[grade - 1]}年级{semester}册 第{NUMBERS[unit - 1]}单元"
                 f"《{lesson}》{period}{word}")
        description = rng.choice(GOALS).format(topic=f"《{lesson}》") + "。"
        if rng.random() < 0.6:
            description += rng.choice(SECOND)
        tags = " ".join(dict.fromkeys([SUBJECT_NAMES.get(subject, subject), f"{GRADE_NAMES[grade - 1]}年级",
                                       *rng.sample(TAG_WORDS, rng.randint(0, 2))]))
        if visibility == "community":
            audiences.append([("community_id", cid) for cid in rng.sample(
                communities_of[uid], min(len(communities_of[uid]), rng.randint(1, 2)))])
        elif visibility == "pairing":
            audiences.append([("partnership_id", rng.choice(partnerships_of[school_id]))])
        else:
            audiences.append([])
        created = now - timedelta(days=rng.randint(0, 3 * 365), seconds=rng.randint(0, 86_399))
        views = min(50_000, int(rng.paretovariate(1.3) * 8)) if visibility != "private" else rng.randint(0, 3)
        ratings = rng.randint(0, max(0, views // 15)) if visibility != "private" else 0
        rows.append({
            "title": title, "description": description, "kind": kind, "subject": subject, "stage": stage,
            "grade": grade, "edition": edition, "unit": f"第{NUMBERS[unit - 1]}单元", "tags": tags,
            "search_text": search_text_of(title, description, tags), "visibility": visibility, "link_url": "",
            "owner_id": uid, "school_id": school_id, "county_id": county_id, "current_version_id": None,
            "created_at": created, "updated_at": created, "deleted_at": None,
            "view_count": views, "download_count": rng.randint(0, views // 3), "rating_count": ratings,
            "rating_sum": sum(rng.choice((3, 4, 4, 5, 5)) for _ in range(ratings)),
            "use_count": rng.randint(0, max(0, views // 20)), "comment_count": 0,
        })

    with search_index_deferred(db.session):
        _bulk(Resource, rows, chunk=10_000)
    resource_ids = _ids(Resource)[-len(rows):]
    _bulk(ResourceAudience, [{"resource_id": rid, "community_id": None, "partnership_id": None, key: value}
                             for rid, targets in zip(resource_ids, audiences) for key, value in targets],
          chunk=20_000)
    _files(resource_ids, rows)


def _files(resource_ids: list[int], rows: list[dict]) -> None:
    """A real tiny PDF as version 1 of a few public resources (downloads and previews work)."""
    chosen = [i for i, row in enumerate(rows) if row["visibility"] == "public"][:FILES]
    versions = []
    for n, i in enumerate(chosen):
        saved = save_upload(FileStorage(stream=io.BytesIO(_pdf(n)), filename=f"{rows[i]['title'][:60]}.pdf"),
                            kinds={"pdf"}, max_bytes=1_000_000)
        versions.append({"resource_id": resource_ids[i], "number": 1, "stored_name": saved.stored_name,
                         "original_name": saved.original_name, "content_type": saved.content_type,
                         "size": saved.size, "sha256": saved.sha256, "note": "", "uploaded_by_id": rows[i]["owner_id"],
                         "created_at": rows[i]["created_at"]})
    _bulk(ResourceVersion, versions)
    for version_id, i in zip(_ids(ResourceVersion)[-len(versions):], chosen):
        db.session.execute(update(Resource).where(Resource.id == resource_ids[i])
                           .values(current_version_id=version_id))
