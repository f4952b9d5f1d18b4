"""Demo data for the live room: the timeline of the latest English lesson already given, so its
summary (/live-sessions/<id>/summary) shows attendance, a poll, hands, chat and who was there.
Runs after demo_scheduling (the steps run in import order)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ..extensions import db
from ..live import protocol as P
from ..live.models import LiveEvent, LiveRoomState
from ..live.room import rebuild_state
from ..resources.models import Resource
from ..scheduling.models import LiveSession, SessionAttendance
from .demo import demo_step


@demo_step
def demo_timeline(made: dict) -> None:
    classes = made.get("live_classes")
    if not classes:
        return
    english = classes[0]
    session = db.session.execute(
        select(LiveSession).where(LiveSession.live_class_id == english.id, LiveSession.status == "done")
        .order_by(LiveSession.starts_at.desc()).limit(1)).scalar_one_or_none()
    if session is None:
        return
    users = made["users"]
    teacher = english.main_teacher
    rooms = english.receiving
    attendance = {a.classroom_id: a for a in db.session.execute(
        select(SessionAttendance).where(SessionAttendance.session_id == session.id)).scalars()}
    material = db.session.execute(select(Resource).where(Resource.owner_id == teacher.id, Resource.deleted_at.is_(None))
                                  .order_by(Resource.id).limit(1)).scalar_one_or_none()
    observer = users.get("principal.rural")
    events: list[tuple[int, str, object, int | None, dict]] = []  # seconds from the start, kind, who, room, payload

    def add(seconds, kind, user, classroom_id=None, **payload):
        events.append((seconds, kind, user, classroom_id, payload))

    add(-300, P.K_JOINED, teacher, english.main_classroom_id, role=P.TEACHER, classrooms=[english.main_classroom_id])
    for i, r in enumerate(rooms):
        add(-240 + 30 * i, P.K_JOINED, r.assistant, r.classroom_id, role=P.ASSISTANT, classrooms=[r.classroom_id])
    if observer is not None:
        add(-60, P.K_JOINED, observer, None, role=P.OBSERVER, classrooms=[])
    add(-200, P.K_CHAT, rooms[0].assistant, rooms[0].classroom_id, text="我们这边准备好了，声音和画面都正常。",
        name=rooms[0].assistant.name)
    add(0, P.K_STARTED, teacher)
    if material is not None:
        add(20, P.K_MATERIAL, teacher, None, resource_id=material.id, title=material.title, page=1)
        add(600, P.K_PAGE, teacher, None, page=3)
        add(1500, P.K_PAGE, teacher, None, page=5)
    for i, r in enumerate(rooms):
        record = attendance.get(r.classroom_id)
        if record is not None:
            add(120 + 30 * i, P.K_CHECKED_IN, r.assistant, r.classroom_id, present=record.present,
                class_size=record.class_size, feedback=record.feedback)
    add(700, P.K_HAND_RAISED, rooms[-1].assistant, rooms[-1].classroom_id)
    add(730, P.K_HAND_RAISED, rooms[0].assistant, rooms[0].classroom_id)
    add(760, P.K_HAND_ANSWERED, teacher, rooms[-1].classroom_id)
    add(790, P.K_CHAT, teacher, english.main_classroom_id, text="第二个教室的同学请读一遍句子。", name=teacher.name)
    add(820, P.K_HAND_ANSWERED, teacher, rooms[0].classroom_id)
    add(1200, P.K_POLL_OPENED, teacher, None, question="“apple” 是哪一张图？", options=["A 苹果", "B 香蕉", "C 橘子"])
    for i, r in enumerate(rooms):
        present = attendance[r.classroom_id].present if r.classroom_id in attendance else 10
        right = max(0, present - 2 - i)
        add(1260 + 20 * i, P.K_POLL_ANSWERED, r.assistant, r.classroom_id, poll_id=0,
            counts=[right, min(2, present - right), max(0, present - right - 2)])
    add(1350, P.K_POLL_CLOSED, teacher, None, poll_id=0)
    add(1800, P.K_TIMER_STARTED, teacher, None, minutes=5)
    add(2100, P.K_TIMER_STOPPED, teacher)
    add(2300, P.K_CHAT, rooms[-1].assistant, rooms[-1].classroom_id, text="谢谢老师，学生们很喜欢。",
        name=rooms[-1].assistant.name)
    add(2380, P.K_ENDED, teacher)
    for i, user in enumerate([teacher, *(r.assistant for r in rooms)]):
        add(2400 + 10 * i, P.K_LEFT, user, None, role=P.TEACHER if i == 0 else P.ASSISTANT)

    poll_seq = None
    for seq, (seconds, kind, user, classroom_id, payload) in enumerate(sorted(events, key=lambda e: e[0]), start=1):
        if kind == P.K_POLL_OPENED:
            poll_seq = seq
        if kind in (P.K_POLL_ANSWERED, P.K_POLL_CLOSED):
            payload["poll_id"] = poll_seq
        db.session.add(LiveEvent(session_id=session.id, seq=seq, kind=kind, user_id=user.id,
                                 classroom_id=classroom_id, payload=payload,
                                 created_at=session.starts_at + timedelta(seconds=seconds)))
    db.session.flush()
    last_seq, state = rebuild_state(session.id)
    db.session.add(LiveRoomState(session_id=session.id, last_seq=last_seq, state=state))
    db.session.flush()
