"""What happened in a session's live room, read from its timeline: attendance per classroom,
poll results, hands raised and answered, the chat, the duration, and who was present when.
Three queries whatever the length of the lesson (the session with its rooms, the events, the
attendance rows) plus one for the names of the people in the timeline.
"""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import datetime

from openpyxl import Workbook
from sqlalchemy import select

from ..accounts.models import User
from ..core.exports import cell, cell_text, header_row
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.labels import SUBJECT_LABELS, label
from ..core.timeutil import isoformat_local, to_local
from ..extensions import db
from ..scheduling.attendance import attendance_of
from ..scheduling.models import LiveSession
from . import protocol as P
from .models import LiveEvent
from .room import apply, empty_state

ROOM_ROLE_LABELS = {P.TEACHER: _l("Main teacher"), P.ASSISTANT: _l("Assistant teacher"), P.OBSERVER: _l("Observer")}


def _minutes(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, round((end - start).total_seconds() / 60))


def build_summary(session: LiveSession) -> dict:
    """The summary as plain data (the API's answer; the page and the export read the same)."""
    live_class = session.live_class
    rooms = {live_class.main_classroom_id: live_class.main_classroom,
             **{r.classroom_id: r.classroom for r in live_class.receiving}}

    def room_name(classroom_id):
        room = rooms.get(classroom_id)
        return f"{room.school.name} {room.name}" if room is not None else ""

    events = db.session.execute(
        select(LiveEvent).where(LiveEvent.session_id == session.id).order_by(LiveEvent.seq)).scalars().all()
    names = dict(db.session.execute(
        select(User.id, User.name).where(User.id.in_({e.user_id for e in events}))).all()) if events else {}

    state = empty_state()
    started_at = ended_at = None
    hands: list[dict] = []
    chat: list[dict] = []
    materials: list[dict] = []
    poll_times: dict[int, dict] = {}
    open_count: dict[int, int] = defaultdict(int)
    open_interval: dict[int, dict] = {}
    presence: list[dict] = []
    for event in events:
        at = event.created_at
        state = apply(state, event.kind, event.payload, seq=event.seq, at=isoformat_local(at),
                      classroom_id=event.classroom_id)
        kind = event.kind
        if kind == P.K_STARTED:
            started_at = at
        elif kind == P.K_ENDED:
            ended_at = at
            poll_times.update({pid: {**t, "closed_at": t["closed_at"] or at} for pid, t in poll_times.items()})
        elif kind == P.K_HAND_RAISED:
            hands.append({"classroom_id": event.classroom_id, "classroom": room_name(event.classroom_id),
                          "raised_at": at, "answered_at": None, "lowered_at": None})
        elif kind in (P.K_HAND_ANSWERED, P.K_HAND_LOWERED):
            item = next((h for h in hands if h["classroom_id"] == event.classroom_id
                         and h["answered_at"] is None and h["lowered_at"] is None), None)
            if item is not None:
                item["answered_at" if kind == P.K_HAND_ANSWERED else "lowered_at"] = at
        elif kind == P.K_CHAT:
            chat.append({"id": event.id, "user_id": event.user_id, "name": event.payload.get("name", ""),
                         "text": event.payload.get("text", ""), "at": at,
                         "classroom_id": event.classroom_id})
        elif kind == P.K_MATERIAL:
            materials.append({"resource_id": event.payload["resource_id"], "title": event.payload["title"], "at": at})
        elif kind == P.K_POLL_OPENED:
            poll_times[event.seq] = {"opened_at": at, "closed_at": None}
        elif kind == P.K_POLL_CLOSED:
            poll_times.setdefault(event.payload["poll_id"], {"opened_at": None, "closed_at": None})["closed_at"] = at
        elif kind == P.K_JOINED:
            # Several tabs of one person count once: present from the first join to the last leave.
            open_count[event.user_id] += 1
            if open_count[event.user_id] == 1:
                open_interval[event.user_id] = {
                    "user_id": event.user_id, "name": names.get(event.user_id, ""),
                    "role": event.payload.get("role", ""), "classroom_id": event.classroom_id,
                    "classroom": room_name(event.classroom_id), "joined_at": at, "left_at": None}
                presence.append(open_interval[event.user_id])
        elif kind == P.K_LEFT and open_count[event.user_id] > 0:
            open_count[event.user_id] -= 1
            if open_count[event.user_id] == 0:
                open_interval.pop(event.user_id)["left_at"] = at

    polls = state["polls"] + ([state["poll"]] if state["poll"] else [])
    poll_rows = [{
        "id": poll["id"], "question": poll["question"], "options": poll["options"], "totals": poll["totals"],
        "answers": [{**a, "classroom": room_name(a["classroom_id"])} for a in poll["answers"]],
        "open": poll["open"],
        "opened_at": poll_times.get(poll["id"], {}).get("opened_at"),
        "closed_at": poll_times.get(poll["id"], {}).get("closed_at"),
    } for poll in polls]

    recorded = attendance_of(session)
    attendance = []
    for r in live_class.receiving:
        row = recorded.get(r.classroom_id)
        attendance.append({
            "classroom_id": r.classroom_id, "classroom": r.classroom.name, "school": r.classroom.school.name,
            "assistant_id": r.assistant_id, "assistant": r.assistant.name,
            "present": row.present if row else None, "class_size": row.class_size if row else None,
            "feedback": row.feedback if row else "",
        })

    return {
        "id": session.id, "live_class_id": live_class.id, "title": live_class.title, "subject": live_class.subject,
        "main_teacher": {"id": live_class.main_teacher_id, "name": live_class.main_teacher.name},
        "main_classroom": room_name(live_class.main_classroom_id),
        "starts_at": session.starts_at, "ends_at": session.ends_at, "status": session.status,
        "started_at": started_at, "ended_at": ended_at, "duration_minutes": _minutes(started_at, ended_at),
        "events": len(events),
        "attendance": attendance,
        "polls": poll_rows,
        "hands": {"raised": len(hands), "answered": sum(1 for h in hands if h["answered_at"]),
                  "items": hands},
        "chat": chat,
        "materials": materials,
        "presence": presence,
    }


def _iso(value):
    if isinstance(value, datetime):
        return isoformat_local(value)
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso(v) for v in value]
    return value


def summary_json(summary: dict) -> dict:
    """The summary with datetimes as ISO 8601 with offset (CONTRACT.md)."""
    return _iso(summary)


def _local(value: datetime | None) -> str:
    return to_local(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def summary_workbook(summary: dict) -> io.BytesIO:
    """The summary as an Excel workbook: an overview sheet and one sheet per part."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Overview"))
    header_row(sheet, [_("Item"), _("Value")])
    for name, value in [
        (_("Subject"), label(SUBJECT_LABELS, summary["subject"])), (_("Title"), summary["title"]),
        (_("Main teacher"), summary["main_teacher"]["name"]), (_("Main classroom"), summary["main_classroom"]),
        (_("Scheduled"), f"{_local(summary['starts_at'])} – {_local(summary['ends_at'])}"),
        (_("Started"), _local(summary["started_at"])), (_("Ended"), _local(summary["ended_at"])),
        (_("Duration (minutes)"), summary["duration_minutes"]), (_("Events"), summary["events"]),
        (_("Hands raised"), summary["hands"]["raised"]), (_("Hands answered"), summary["hands"]["answered"]),
        (_("Messages"), len(summary["chat"])),
    ]:
        sheet.append([cell_text(name), cell(value)])

    sheet = workbook.create_sheet(_("Attendance"))
    header_row(sheet, [_("School"), _("Classroom"), _("Assistant teacher"), _("Present"), _("Class size"),
                       _("Feedback")])
    for row in summary["attendance"]:
        sheet.append([cell_text(row["school"]), cell_text(row["classroom"]), cell_text(row["assistant"]),
                      row["present"], row["class_size"], cell_text(row["feedback"])])

    sheet = workbook.create_sheet(_("Polls"))
    header_row(sheet, [_("Question"), _("Classroom"), _("Option"), _("Count")])
    for poll in summary["polls"]:
        for answer in [*poll["answers"], {"classroom": _("Total"), "counts": poll["totals"]}]:
            for option, count in zip(poll["options"], answer["counts"], strict=False):
                sheet.append([cell_text(poll["question"]), cell_text(answer["classroom"]), cell_text(option), count])

    sheet = workbook.create_sheet(_("Hands"))
    header_row(sheet, [_("Classroom"), _("Raised"), _("Answered"), _("Lowered")])
    for hand in summary["hands"]["items"]:
        sheet.append([cell_text(hand["classroom"]), _local(hand["raised_at"]), _local(hand["answered_at"]),
                      _local(hand["lowered_at"])])

    sheet = workbook.create_sheet(_("Chat"))
    header_row(sheet, [_("Time"), _("Name"), _("Message")])
    for message in summary["chat"]:
        sheet.append([_local(message["at"]), cell_text(message["name"]), cell_text(message["text"])])

    sheet = workbook.create_sheet(_("Presence"))
    header_row(sheet, [_("Name"), _("Role"), _("Classroom"), _("Joined"), _("Left")])
    for row in summary["presence"]:
        sheet.append([cell_text(row["name"]), cell_text(ROOM_ROLE_LABELS.get(row["role"], row["role"])),
                      cell_text(row["classroom"]), _local(row["joined_at"]), _local(row["left_at"])])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer

