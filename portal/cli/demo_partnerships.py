"""Demo partnerships: a 名校+乡村学校 pairing, an education group, a township centre school with
its village school and teaching point, a rural cluster paired through its centre, and one
village school (柳河镇柳林村小学) left unpaired for the coverage gap list. Their activity logs,
two teacher exchanges (a rotation, a 走教 music teacher) and the researcher's contact schools
and visits this term.

Everything goes through the capability's services, as the bureau, the principals and the
researcher would.
"""

from __future__ import annotations

from datetime import date, timedelta

from ..core.timeutil import local_today, school_year_of
from ..org.services import current_term
from ..partnerships import exchanges, log, services, visits
from .demo import demo_step


def _entry(actor, partnership, *, kind, title, days_ago, schools, people=(), notes="", other_people=""):
    return log.log_activity(
        actor, partnership, kind=kind, title=title, happened_on=local_today() - timedelta(days=days_ago),
        notes=notes, school_ids=[s.id for s in schools], person_ids=[u.id for u in people], other_people=other_people,
    )


@demo_step
def demo_partnerships(made: dict) -> None:
    u, s = made["users"], {school.name: school for school in made["schools"]}
    bureau = u["bureau"]
    today = local_today()
    year = school_year_of(today)
    started = date(year - 1, 9, 1)

    def partnership(kind, name, lead, members, description, people, goals=None):
        p = services.save_partnership(
            bureau, None, kind=kind, name=name, lead_school=s[lead], members=[s[m] for m in members],
            start_date=started, end_date=None, description=description,
        )
        services.set_people(bureau, p, [(u[username], duty) for username, duty in people])
        if goals:
            services.set_goals(bureau, p, year, goals)
        return p

    pairing = partnership(
        "rural_school", "实验小学—山口村小学结对帮扶", "示范县实验小学", ["青石镇山口村小学"],
        "县实验小学与青石镇山口村小学结对，实行“管理共进、教学共研、教师共育”。\n"
        "实验小学每学期至少送教四次，山口村小学教师每学期到实验小学跟岗学习一周。",
        [("principal.city", "总负责"), ("principal.rural", "山口村小学联络人"), ("teacher.city", "英语学科指导")],
        "一、每月开展一次送教下乡或联合教研；\n二、山口村小学两名青年教师到实验小学跟岗学习；\n"
        "三、学年末山口村小学英语口语测评合格率达到 85%。",
    )
    group = partnership(
        "group", "示范县第一中学教育集团", "示范县第一中学", ["青石镇初级中学", "柳河镇中心学校"],
        "县第一中学牵头组建紧密型教育集团，总校长统筹集团内教学计划、教师调配和质量监测，"
        "成员学校共享课程资源、统一教研安排。",
        [("principal.school1", "总校长"), ("principal.school4", "执行校长"), ("principal.school5", "成员学校校长")],
        "集团内初中数学、英语实行统一进度、统一命题；每月一次集团联合教研；选派一名中层干部到青石镇初级中学挂职。",
    )
    multi = partnership(
        "multi", "城关第二小学“名校+”帮扶青石镇学校", "示范县城关第二小学", ["青石镇中心小学", "青石镇初级中学"],
        "城关第二小学以音乐、美术等紧缺学科为重点，帮扶青石镇中心小学和初级中学，周明老师每周走教。",
        [("principal.school2", "总负责"), ("principal.school3", "青石镇中心小学联络人")],
        "开齐开足音乐、美术课程；每学期举办一次城乡学生艺术展演；互派教师听课不少于十节。",
    )
    cluster = partnership(
        "cluster", "青石镇中心小学片区", "青石镇中心小学", ["青石镇石桥村小学", "青石镇云台教学点"],
        "青石镇中心小学统筹片区内村小和教学点的师资与课表，紧缺学科教师在片区内走教。",
        [("principal.school3", "片区负责人"), ("principal.school7", "石桥村小学校长")],
    )  # no goals written for this year yet: the health view flags it
    central = partnership(
        "central_points", "柳河镇中心学校带动村小和教学点", "柳河镇中心学校", ["柳河镇河湾村小学", "柳河镇岭上教学点"],
        "柳河镇中心学校对河湾村小学、岭上教学点实行教学统一管理，定期送课、集中备课。",
        [("principal.school5", "负责人"), ("principal.school8", "河湾村小学校长")],
        "每两周一次集中备课；中心学校教师每月到岭上教学点送课两次。",
    )
    # 柳河镇柳林村小学 stays outside every partnership: the coverage page lists it as unpaired.

    # --- activity logs over the last months (the central school's has gone quiet) ---
    city, rural = s["示范县实验小学"], s["青石镇山口村小学"]
    _entry(u["principal.city"], pairing, kind="send_lessons", title="送教下乡：三年级英语《At the farm》示范课",
           days_ago=62, schools=[city, rural], people=[u["teacher.city"], u["teacher.rural"]],
           notes="陈静老师到山口村小学执教示范课，课后与赵强老师一起研讨小班口语活动的设计。\n"
                 "全校 9 名英语学习者都在课上完成了情景对话。")
    _entry(u["principal.rural"], pairing, kind="shadowing", title="赵强老师到实验小学跟岗学习一周",
           days_ago=35, schools=[city, rural], people=[u["teacher.rural"], u["teacher.city"]],
           notes="跟岗期间听课 12 节，参加英语教研组活动两次，上汇报课一节。")
    _entry(u["principal.city"], pairing, kind="joint_research", title="城乡联合教研：小学英语作业分层设计",
           days_ago=12, schools=[city, rural], people=[u["teacher.city"], u["teacher.rural"], u["principal.rural"]],
           notes="两校英语教师共同修订三至六年级作业单，形成基础、提高两层作业。")

    head = u["principal.school1"]
    g_lead, g_town = s["示范县第一中学"], s["青石镇初级中学"]
    _entry(head, group, kind="secondment", title="集团选派教务处副主任到青石镇初级中学挂职",
           days_ago=80, schools=[g_lead, g_town], other_people="县第一中学教务处副主任 王磊",
           notes="挂职一学年，协助青石镇初级中学完善教学常规管理和质量监测。")
    _entry(head, group, kind="joint_research", title="集团联合教研：初中数学大单元教学",
           days_ago=50, schools=[g_lead, g_town, s["柳河镇中心学校"]], people=[u["teacher.city2"], u["teacher.town2"]],
           notes="孙丽老师作专题讲座，郑勇老师执教研讨课《一元一次方程的应用》。")
    _entry(head, group, kind="send_lessons", title="送教下乡：柳河镇中心学校初二英语复习课",
           days_ago=18, schools=[g_lead, s["柳河镇中心学校"]], people=[u["teacher.town3"]])

    music_school, centre = s["示范县城关第二小学"], s["青石镇中心小学"]
    _entry(u["principal.school2"], multi, kind="shared_lesson", title="共享音乐课堂：周明老师走教第一课",
           days_ago=75, schools=[music_school, centre], people=[u["teacher.city3"], u["teacher.town1"]],
           notes="周明老师每周二、周四在青石镇中心小学上音乐课，本学期起开设合唱兴趣小组。")
    _entry(u["principal.school3"], multi, kind="visit", title="青石镇中心小学教师到城关第二小学互访听课",
           days_ago=28, schools=[music_school, centre], people=[u["teacher.town1"]])

    _entry(u["principal.school3"], cluster, kind="joint_research", title="片区语文教研：低年级整本书阅读",
           days_ago=40, schools=[centre, s["青石镇石桥村小学"], s["青石镇云台教学点"]],
           people=[u["teacher.town1"], u["teacher.village1"], u["teacher.village4"]],
           notes="吴红老师介绍《小猪唏哩呼噜》共读方案，黄磊、马林老师交流村小和教学点的阅读课做法。")
    _entry(u["principal.school3"], cluster, kind="shared_lesson", title="片区共享课堂：云台教学点同步上美术课",
           days_ago=15, schools=[centre, s["青石镇云台教学点"]], people=[u["teacher.village4"]])

    _entry(u["principal.school5"], central, kind="shadowing", title="岭上教学点罗娟老师到中心学校跟岗",
           days_ago=200, schools=[s["柳河镇中心学校"], s["柳河镇岭上教学点"]], people=[u["teacher.village3"]])
    _entry(u["principal.school5"], central, kind="send_lessons", title="送教到岭上教学点：一年级拼音教学",
           days_ago=130, schools=[s["柳河镇中心学校"], s["柳河镇岭上教学点"]], people=[u["teacher.village3"]])

    # --- two exchanges of this school year: a rotation and a 走教 music teacher ---
    first_day, last_day = date(year, 9, 1), date(year + 1, 7, 10)
    exchanges.record_exchange(
        bureau, user=u["teacher.city"], kind="rotation", to_school=rural, start_date=first_day, end_date=last_day,
        partnership=pairing, notes="交流轮岗一学年，承担山口村小学三至六年级英语教学，每周组织一次英语教研。",
    )
    exchanges.record_exchange(
        bureau, user=u["teacher.city3"], kind="travelling", to_school=centre, start_date=first_day, end_date=None,
        partnership=multi, days_per_week=2, notes="每周二、周四到青石镇中心小学上音乐课，兼顾片区内村小的合唱辅导。",
    )

    # --- the researcher's contact schools and visits this term (河湾村小学 is behind) ---
    researcher = u["researcher"]
    term = current_term(today)
    term_start = term.start_date if term is not None and term.start_date <= today else today - timedelta(days=60)
    span = max(1, (today - term_start).days)
    plan = [
        ("青石镇山口村小学", [("guidance", "听英语、数学课各一节，与赵强老师研讨口语活动。"),
                             ("observation", "随堂听课两节，反馈作业分层设计的实施情况。"),
                             ("research", "参加实验小学送教活动后的联合研讨。"),
                             ("guidance", "指导青年教师备课。")]),
        ("青石镇石桥村小学", [("guidance", "了解复式班数学教学情况，听课两节。"),
                             ("training", "为全校教师做新课标作业设计培训。"),
                             ("observation", "听黄磊老师数学课并评课。")]),
        ("柳河镇河湾村小学", [("guidance", "开学初检查教学常规，听何敏老师科学课。")]),
    ]
    for name, planned in plan:
        visits.assign_contact_school(bureau, researcher, s[name], since=started)
        for i, (kind, notes) in enumerate(planned):
            day = term_start + timedelta(days=span * (i + 1) // (len(planned) + 1))
            visits.log_visit(researcher, researcher, s[name], day, kind, notes)
