"""Demo communities (名师+ / 名校长+): members, activities with hours and minutes, a discussion,
a research project. Everything goes through the capability's own services, as a user would."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from ..communities import activities, discussions, projects, services
from ..communities.models import Community, Post
from ..core.models import utcnow
from ..core.timeutil import local_today, portal_tz
from ..extensions import db
from .demo import demo_step


def _at(days: int, hour: int, minute: int = 0) -> datetime:
    """A local wall-clock time ``days`` from today, as aware UTC."""
    day = local_today() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), tzinfo=portal_tz()).astimezone(UTC)


def _community(bureau, county, *, kind, name, leader, description, subject=None, stage=None) -> Community:
    return services.save_community(
        bureau, None, kind=kind, level="county", county=county, name=name, description=description,
        subject=subject, stage=stage, leader=leader,
    )


def _past(community, host, *, title, kind, days, hours_tenths, place, present, minutes, description=""):
    activity = activities.save_activity(
        host, community, title=title, kind=kind, starts_at=_at(days, 14, 30), ends_at=_at(days, 17, 0),
        place=place, host=host, description=description, hours_tenths=hours_tenths,
    )
    activities.record_attendance(host, activity, {u.id for u in present})
    activities.save_minutes(host, activity, minutes)
    return activity


def _upcoming(community, host, *, title, kind, days, hours_tenths, signups, place="", online_url="",
              capacity=None, description=""):
    activity = activities.save_activity(
        host, community, title=title, kind=kind, starts_at=_at(days, 9), ends_at=_at(days, 11, 30),
        is_online=bool(online_url), place=place, online_url=online_url, host=host, description=description,
        hours_tenths=hours_tenths, capacity=capacity,
    )
    for user in signups:
        activities.sign_up(user, activity)
    return activity


def _discussion(u: dict, english: Community) -> None:
    thread = discussions.start_thread(
        u["teacher.rural"], english, title="村小英语课怎么让学生敢开口？",
        body="我们山口村小学三年级只有 9 个学生，很多孩子上英语课不敢说话。\n"
             "大家有没有在小班里用过的好办法？@teacher.city 陈老师也请指点一下。",
    )
    replies = [
        ("teacher.city", "班小反而是优势：每节课可以让每个孩子都说上三四次。建议先从齐读、两人对话开始，"
                         "再慢慢过渡到个人展示，多表扬、少纠错。"),
        ("teacher.village5", "我们柳林村小学用“英语小任务卡”，每周一张，完成了就在班里贴星星，孩子们挺积极的。"),
        ("teacher.town3", "可以试试课前两分钟的 Free talk，话题就用孩子们熟悉的农村生活，比如 farm、animals。"),
        ("teacher.rural", "谢谢大家！下周我先试试任务卡和 Free talk，研磨课上再和大家汇报效果。"),
    ]
    for username, body in replies:
        discussions.reply(u[username], thread, body=body)
    started = utcnow() - timedelta(days=3, hours=5)
    thread.created_at = started
    posts = db.session.execute(select(Post).where(Post.thread_id == thread.id).order_by(Post.id)).scalars()
    for i, post in enumerate(posts):
        post.created_at = started + timedelta(hours=3 + 9 * i)
    discussions.refresh_thread_stats(thread)


@demo_step
def demo_communities(made: dict) -> None:
    u, county = made["users"], made["county"]
    bureau = u["bureau"]

    english = _community(
        bureau, county, kind="teacher", name="示范县小学英语名师+共同体", leader=u["teacher.city"],
        subject="english", stage="primary",
        description="由县实验小学陈静老师领衔，联合青石镇、柳河镇的乡村英语教师，围绕“乡村小学英语课堂口语教学”"
                    "开展课例研磨、送教下乡和网络教研。\n每月一次集中活动，学期末提交一节研磨课例。",
    )
    for username, role in [("teacher.rural", "core"), ("teacher.town3", "member"), ("teacher.village5", "member")]:
        services.add_member(u["teacher.city"], english, u[username], role)

    math = _community(
        bureau, county, kind="teacher", name="示范县小学数学名师+共同体", leader=u["teacher.city2"],
        subject="math", stage="primary",
        description="县第一中学孙丽老师领衔，关注乡村小规模学校的数学复式教学与作业设计。",
    )
    for username in ("teacher.town2", "teacher.village1", "researcher"):
        services.add_member(u["teacher.city2"], math, u[username])
    # 何敏 (河湾村小学) has asked to join: the leader sees one request waiting.
    services.ask_to_join(u["teacher.village2"], math, "我在村小教数学和科学，希望跟着孙老师学习复式教学。")

    chinese = _community(
        bureau, county, kind="teacher", name="示范县乡村小学语文共同体", leader=u["teacher.town1"],
        subject="chinese", stage="primary",
        description="青石镇中心小学吴红老师领衔，带动村小和教学点的语文教师开展整本书阅读教学研究。",
    )
    services.add_member(u["teacher.town1"], chinese, u["teacher.village3"])
    # 马林 (云台教学点) and 何敏 (request pending) stay outside any community: the coverage gap list shows them.

    principals = _community(
        bureau, county, kind="principal", name="示范县名校长+乡村学校治理共同体", leader=u["principal.city"],
        description="县实验小学张伟校长领衔，乡村校长每学期开展治校论坛和学校巡礼，互看互学、共商共治。",
    )
    for username, role in [("principal.rural", "core"), ("principal.school1", "member"),
                           ("principal.school3", "member"), ("principal.school4", "member"),
                           ("principal.school5", "member"), ("principal.school7", "member"),
                           ("principal.school8", "member"), ("principal.school9", "member")]:
        services.add_member(bureau, principals, u[username], role)
    # 于波 (岭上教学点) and 董艳 (柳林村小学) are not in yet.

    # --- activities: past ones with attendance (hours) and minutes, upcoming ones with sign-ups ---
    lead = u["teacher.city"]
    _past(english, lead, title="乡村小学英语口语课堂研讨", kind="seminar", days=-40, hours_tenths=30,
          place="县实验小学录播教室",
          present=[lead, u["teacher.rural"], u["teacher.town3"], u["teacher.village5"]],
          minutes="<p>陈静老师执教示范课《At the farm》，赵强、冯雪、高洁三位老师分别说课。</p>"
                  "<p>研讨共识：村小班额小，可多用小组对话和情景表演；下次活动前每人准备一节口语课教学设计。</p>")
    _past(english, lead, title="《My family》同课异构课例研磨", kind="lesson_polishing", days=-12, hours_tenths=25,
          place="山口村小学",
          present=[lead, u["teacher.rural"], u["teacher.village5"]],
          minutes="<p>赵强老师在山口村小学执教，全体成员观课后逐环节研磨。</p>"
                  "<ul><li>导入环节可以用学生自己的家庭照片；</li><li>板书结构需要更清晰；</li>"
                  "<li>冯雪老师因镇里监考请假。</li></ul>")
    _upcoming(english, lead, title="乡村英语绘本阅读教学网络教研", kind="online_research", days=6, hours_tenths=20,
              online_url="https://meeting.example.cn/j/20260601", capacity=40,
              signups=[u["teacher.rural"], u["teacher.town3"]],
              description="线上观看两节绘本阅读课录像并研讨，请提前下载课件。")
    _upcoming(english, lead, title="送教下乡：柳河镇英语示范课", kind="demonstration", days=20, hours_tenths=30,
              place="柳河镇中心学校", signups=[u["teacher.village5"]])

    _past(math, u["teacher.city2"], title="复式教学中的数学作业设计", kind="seminar", days=-25, hours_tenths=20,
          place="青石镇初级中学会议室",
          present=[u["teacher.city2"], u["teacher.town2"], u["teacher.village1"], u["researcher"]],
          minutes="<p>李晓梅老师解读新课标中的作业设计要求，郑勇、黄磊两位老师分享了复式班分层作业的做法。</p>")
    _upcoming(math, u["teacher.city2"], title="小学数学教学诊断：石桥村小学", kind="diagnosis", days=9,
              hours_tenths=25, place="青石镇石桥村小学", signups=[u["teacher.village1"], u["researcher"]])

    head = u["principal.city"]
    _past(principals, head, title="乡村校长治校论坛：小规模学校的课后服务", kind="governance_forum", days=-30,
          hours_tenths=40, place="县教育局三楼会议室",
          present=[head, u["principal.rural"], u["principal.school3"], u["principal.school4"],
                   u["principal.school7"], u["principal.school9"]],
          minutes="<p>各校交流课后服务安排，山口村小学刘芳校长介绍了“家长志愿者 + 乡土课程”的做法。</p>")
    _upcoming(principals, head, title="乡村学校巡礼：柳河镇河湾村小学", kind="school_tour", days=14, hours_tenths=30,
              place="柳河镇河湾村小学", signups=[u["principal.rural"], u["principal.school8"]])

    # --- a discussion with replies, spread over a few days ---
    _discussion(u, english)

    # --- a research project ---
    project = projects.create_project(
        lead, english, title="乡村小学英语口语能力提升的行动研究", lead=lead, level="county",
        summary="以山口村小学、柳林村小学为实验校，研究小班化口语活动设计，形成一套可推广的课例集。",
        started_on=local_today() - timedelta(days=75), ends_on=local_today() + timedelta(days=290),
    )
    projects.add_project_member(lead, project, u["teacher.rural"])
    projects.add_project_member(lead, project, u["teacher.village5"])
    projects.set_project_status(lead, project, "in_progress")
