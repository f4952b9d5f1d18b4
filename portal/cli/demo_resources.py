"""Demo resources: about twenty lesson resources shared mostly by the urban teachers (陈静 English,
孙丽 mathematics, 周明 music) and a few by rural ones, with real small files, ratings, comments,
"used in my class" marks and downloads from rural schools, so the per-school page shows resources
flowing from the county town to the villages; two are attached to community activities."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import timedelta

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from ..communities.models import Activity, Community
from ..core.models import utcnow
from ..core.timeutil import local_today
from ..extensions import db
from ..partnerships.models import Partnership
from ..resources import links, services, social
from .demo import demo_step


def _pdf(title: str) -> bytes:
    """A minimal valid one-page PDF (ASCII text: the built-in fonts have no Chinese glyphs)."""
    text = title.encode("ascii", "replace").decode().replace("(", "[").replace(")", "]")
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _png(rgb: tuple[int, int, int], size: int = 16) -> bytes:
    """A small solid-colour PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + bytes(rgb) * size
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(row * size)) + chunk(b"IEND", b""))


def _file(name: str, data: bytes) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


# owner, title, kind, subject, grade, edition, unit, tags, visibility, file name, description
RESOURCES = [
    ("teacher.city", "三年级英语《At the farm》教学设计", "lesson_plan", "english", 3, "pep", "Unit 4 At the farm",
     "农场 动物 口语", "public", "pdf",
     "人教版三年级下册第四单元第一课时。以“参观农场”为情境，通过图片和简笔画呈现单词，"
     "小组对话练习句型 What are these? They are ...\n附板书设计和课后反思。"),
    ("teacher.city", "《My family》同课异构课件", "courseware", "english", 3, "pep", "Unit 2 My family",
     "家庭 同课异构", "community", "png",
     "名师+共同体《My family》同课异构研磨后的定稿课件，导入环节用学生自己的家庭照片。"),
    ("teacher.city", "小学英语自然拼读微课：短元音 a", "micro_lesson", "english", 3, "pep", "自然拼读",
     "自然拼读 微课 发音", "public", "txt",
     "8 分钟微课脚本，适合村小学生课前自学：a 的短音、口型示范、拼读练习和儿歌。"),
    ("teacher.city", "四年级英语绘本阅读学案《The Little Red Hen》", "learning_guide", "english", 4, "pep", "绘本阅读",
     "绘本 阅读 学案", "pairing", "pdf",
     "实验小学与山口村小学结对共享。读前预测、读中圈画、读后复述三个环节，附分层作业。"),
    ("teacher.city", "五年级英语单元测试卷（Unit 1-2）", "exercise", "english", 5, "pep", "Unit 1-2",
     "测试 单元", "public", "pdf", "听力、词汇、阅读和书面表达四部分，附参考答案和评分标准。"),
    ("teacher.city", "英语课堂小游戏 30 例", "other", "english", None, "", "", "课堂游戏 小组活动", "community", "txt",
     "整理了 30 个不需要多媒体设备的英语课堂游戏，特别适合小班额的村小课堂。"),
    ("teacher.city", "个人备课笔记（未完成）", "lesson_plan", "english", 6, "pep", "", "草稿", "private", "txt",
     "自己的备课草稿，整理好后再共享。"),
    ("teacher.city2", "四年级数学《三角形的内角和》教学设计", "lesson_plan", "math", 4, "bnu", "第二单元 认识三角形和四边形",
     "三角形 内角和 动手操作", "public", "pdf",
     "北师大版四年级下册。通过撕拼、折叠、测量三种方法探究三角形内角和，适合复式班分组操作。"),
    ("teacher.city2", "二年级数学口算练习（100 以内加减法）", "exercise", "math", 2, "pep", "100 以内的加法和减法",
     "口算 练习", "public", "pdf", "20 套每日口算练习，每套 25 题，可直接打印。"),
    ("teacher.city2", "五年级数学《分数的意义》微课", "micro_lesson", "math", 5, "bnu", "第五单元 分数的意义",
     "分数 微课", "public", "png", "用分饼、分线段和分一组物体三个情境理解单位“1”。"),
    ("teacher.city2", "复式教学数学作业设计案例集", "learning_guide", "math", None, "", "", "复式教学 作业设计",
     "community", "txt", "数学名师+共同体研讨成果：复式班分层作业设计的六个案例。"),
    ("teacher.city2", "六年级数学《圆的面积》课例", "lesson_case", "math", 6, "pep", "第五单元 圆",
     "圆 面积 课例", "public", "pdf", "课堂实录整理稿和教学反思，重点是“化曲为直”的转化思想。"),
    ("teacher.city3", "三年级音乐《小雨沙沙》教案", "lesson_plan", "music", 3, "hunan", "第二单元 春天",
     "唱歌 节奏", "public", "pdf", "用身边的材料做简易打击乐器，为歌曲伴奏。适合没有专职音乐教师的学校。"),
    ("teacher.city3", "小学合唱基础训练微课", "micro_lesson", "music", None, "", "合唱", "合唱 发声", "public", "txt",
     "五节 10 分钟的合唱发声训练，走教时留给村小的课后练习。"),
    ("teacher.city3", "四年级音乐欣赏《森林的歌声》课件", "courseware", "music", 4, "hunan", "第四单元",
     "欣赏 课件", "pairing", "png", "城关第二小学与青石镇学校共享。"),
    ("teacher.rural", "村小英语复式班教学设计（三、四年级）", "lesson_plan", "english", 3, "pep", "复式教学",
     "复式班 英语", "public", "pdf", "山口村小学三、四年级同堂上英语课的动静搭配设计，一个年级对话时另一个年级做书面练习。"),
    ("teacher.village1", "乡土数学：用石桥村的农作物学统计", "learning_guide", "math", 3, "", "数据的收集和整理",
     "乡土课程 统计", "public", "txt", "带学生调查村里的农作物种植情况，做简单的统计表和条形图。"),
    ("teacher.town1", "二年级语文《寒号鸟》教学设计", "lesson_plan", "chinese", 2, "pep", "第五单元",
     "寓言 朗读", "public", "pdf", "分角色朗读，结合镇上冬天的生活体验理解课文。"),
    ("teacher.village5", "柳林村小学英语单词卡片", "courseware", "english", 3, "pep", "Unit 1-6", "单词卡片",
     "public", "png", "三年级上下册单词卡片，可打印裁剪，适合没有投影设备的教室。"),
    ("teacher.city", "乡村英语绘本阅读网络教研观摩课件", "courseware", "english", 4, "pep", "绘本阅读",
     "绘本 网络教研", "community", "pdf", "网络教研活动观摩用课件，请参加的老师提前下载。"),
]


def _data(kind: str, title: str, n: int) -> tuple[str, bytes]:
    if kind == "pdf":
        return f"{title}.pdf", _pdf(f"Demo resource {n}")
    if kind == "png":
        return f"{title}.png", _png(((37 * n) % 256, (91 * n) % 256, (53 * n) % 256))
    return f"{title}.txt", f"{title}\n\n这是演示用的文本文件。\n".encode()


@demo_step
def demo_resources(made: dict) -> None:
    u = made["users"]
    english = db.session.execute(select(Community).where(Community.name == "示范县小学英语名师+共同体")).scalar_one()
    math = db.session.execute(select(Community).where(Community.name == "示范县小学数学名师+共同体")).scalar_one()
    partnerships = {p.name: p for p in db.session.execute(select(Partnership)).scalars()}
    pairing = partnerships["实验小学—山口村小学结对帮扶"]
    multi = partnerships["城关第二小学“名校+”帮扶青石镇学校"]
    made_resources = []
    for n, (owner, title, kind, subject, grade, edition, unit, tags, visibility, file_kind, description) in enumerate(
            RESOURCES, 1):
        actor = u[owner]
        community_ids = [english.id if subject == "english" else math.id] if visibility == "community" else []
        partnership_ids = [pairing.id if subject == "english" else multi.id] if visibility == "pairing" else []
        name, data = _data(file_kind, title, n)
        resource = services.share_resource(
            actor, title=title, description=description, kind=kind, subject=subject, stage="primary", grade=grade,
            edition=edition, unit=unit, tags=tags, visibility=visibility, community_ids=community_ids,
            partnership_ids=partnership_ids, file=_file(name, data),
        )
        resource.created_at = utcnow() - timedelta(days=len(RESOURCES) - n + 2, hours=n)
        made_resources.append(resource)
    r = made_resources
    services.add_version(u["teacher.city"], r[0], _file("三年级英语《At the farm》教学设计（修订）.pdf", _pdf("Revised")),
                         note="根据山口村小学试教意见修改了小组活动环节")

    # --- downloads from rural (and a few urban) schools ---
    downloads = [
        ("teacher.rural", [0, 1, 2, 3, 4, 5, 12, 13]), ("principal.rural", [3, 7]),
        ("teacher.town3", [0, 2, 4, 5]), ("teacher.village5", [0, 2, 4, 19]),
        ("teacher.village1", [7, 8, 10, 11]), ("teacher.town2", [7, 8, 9, 10]),
        ("teacher.village2", [8, 9, 11]), ("teacher.village3", [12]), ("teacher.village4", [12, 13]),
        ("teacher.town1", [12, 13, 14]), ("teacher.city2", [15, 18]), ("teacher.city", [16]),
    ]
    year_start = social.year_bounds(social.current_school_year())[0]
    for k, (username, indexes) in enumerate(downloads):
        for i in indexes:
            download = services.record_download(u[username], r[i], r[i].current_version)
            if download is not None:
                download.at = max(utcnow() - timedelta(days=(k * 3 + i) % 20, hours=k), year_start)

    # --- ratings ---
    for username, ratings in [
        ("teacher.rural", {0: 5, 1: 5, 3: 4, 5: 5, 12: 4}), ("teacher.town3", {0: 4, 2: 5, 4: 4}),
        ("teacher.village5", {0: 5, 2: 4}), ("teacher.village1", {7: 5, 10: 4, 11: 5}),
        ("teacher.town2", {7: 4, 8: 3, 9: 5}), ("teacher.village4", {12: 5, 13: 4}),
        ("teacher.city", {15: 5, 16: 4}), ("principal.rural", {3: 5}), ("researcher", {7: 5, 11: 4}),
    ]:
        for i, stars in ratings.items():
            social.rate_resource(u[username], r[i], stars)

    # --- "used in my class" ---
    today = local_today()
    for username, i, days, note in [
        ("teacher.rural", 0, 9, "三年级 第1课时"), ("teacher.rural", 3, 4, "四年级 绘本阅读课"),
        ("teacher.rural", 5, 2, "三、四年级复式班"), ("teacher.village5", 0, 6, "三年级 第1课时"),
        ("teacher.town3", 4, 3, "五年级一班 单元复习"), ("teacher.village1", 7, 5, "四年级 第2课时"),
        ("teacher.town2", 8, 1, "二年级 每日口算"), ("teacher.village4", 12, 8, "三年级 音乐课"),
        ("teacher.city", 15, 3, "三年级二班 借鉴复式班的分组方法"),
    ]:
        social.mark_used(u[username], r[i], used_on=max(today - timedelta(days=days),
                                                        social.year_bounds(social.current_school_year())[2]),
                         note=note)

    # --- comments ---
    for username, i, body in [
        ("teacher.rural", 0, "在山口村小学试教了，学生很喜欢农场的情境。小组对话环节我把四人组改成了两人组，时间更够用。"),
        ("teacher.town3", 0, "板书设计很清楚，直接借用了。"),
        ("teacher.city", 0, "谢谢两位老师的反馈，新版本已经按试教意见修改了小组活动。"),
        ("teacher.village1", 7, "撕拼的方法在复式班特别好用，四年级操作时三年级也看得很认真。"),
        ("teacher.village4", 12, "我们学校没有音乐老师，照着教案上了一节课，用矿泉水瓶装沙子做沙锤，孩子们很开心。"),
        ("teacher.town2", 8, "口算题量合适，建议再加一套进位加法的专项练习。"),
    ]:
        social.add_comment(u[username], r[i], body=body)

    # --- attached to community activities ---
    lead = u["teacher.city"]
    for title, i in [("乡村小学英语口语课堂研讨", 0), ("乡村英语绘本阅读教学网络教研", 19)]:
        activity = db.session.execute(select(Activity).where(Activity.title == title)).scalar_one_or_none()
        if activity is not None:
            links.attach_to_activity(lead, activity, r[i])
    db.session.flush()
