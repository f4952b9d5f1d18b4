"""Pages of the live co-teaching room: the room itself (one template, three faces: the main
teacher's controls, each receiving classroom's console, and observers' read-only view).

The page is a shell; ``static/src/live/room.js`` connects to the /live namespace, joins, and
builds everything from the join answer's state (CONTRACT.md), so a reload, a reconnect and a
late joiner all see the same room.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..core.authz import require
from ..core.i18n import gettext as _
from ..core.labels import SUBJECT_LABELS, label
from ..extensions import db
from ..org.models import Classroom
from ..resources.links import LIVE_CLASS, linked_resources
from ..resources.models import Resource
from ..resources.permissions import visible_resources
from ..scheduling.models import LiveClass, LiveSession, ReceivingClassroom
from . import protocol
from .permissions import room_role

bp = Blueprint("live", __name__)

MATERIAL_CHOICES = 40  # resources offered to the main teacher as the lesson's material


def load_session(session_id: int) -> LiveSession:
    """The session with its class, rooms and schools (what the permission and the page read)."""
    stmt = (
        select(LiveSession)
        .where(LiveSession.id == session_id)
        .options(
            joinedload(LiveSession.live_class).options(
                joinedload(LiveClass.main_teacher),
                joinedload(LiveClass.main_classroom).joinedload(Classroom.school),
                selectinload(LiveClass.receiving).options(
                    joinedload(ReceivingClassroom.classroom).joinedload(Classroom.school),
                    joinedload(ReceivingClassroom.assistant),
                ),
            )
        )
    )
    session = db.session.execute(stmt).unique().scalar_one_or_none()
    if session is None:
        abort(404)
    return session


def material_choices(user, live_class: LiveClass) -> list[Resource]:
    """The class's attached resources first, then the teacher's own newest ones (two queries)."""
    chosen = linked_resources(user, LIVE_CLASS, live_class.id)
    seen = {r.id for r in chosen}
    own = db.session.execute(
        select(Resource).where(Resource.owner_id == user.id, visible_resources(user))
        .order_by(Resource.id.desc()).limit(MATERIAL_CHOICES)
    ).scalars()
    return chosen + [r for r in own if r.id not in seen][: max(0, MATERIAL_CHOICES - len(chosen))]


def room_strings() -> dict:
    """Words the room's script shows (it has no catalogue of its own)."""
    return {
        "connecting": _("Connecting…"),
        "connected": _("Connected"),
        "reconnecting": _("Connection lost, reconnecting…"),
        "refused": _("You cannot join this room."),
        "removed": _("You are no longer in this room."),
        "login_ended": _("Your login has ended. Reload the page to log in again."),
        "not_started": _("Not started"),
        "running": _("In progress since %(time)s"),
        "ended": _("Ended at %(time)s"),
        "online": _("online"),
        "offline": _("offline"),
        "main_room": _("main classroom"),
        "no_material": _("No material chosen yet."),
        "page": _("Page %(page)s"),
        "no_hands": _("No hands raised."),
        "answer": _("Answer"),
        "raise_hand": _("Raise hand"),
        "lower_hand": _("Lower hand"),
        "hand_up": _("Hand raised, place %(place)s in the queue"),
        "hand_tag": _("hand raised"),
        "no_poll": _("No poll open."),
        "close_poll": _("Close poll"),
        "send_answers": _("Send our counts"),
        "answered": _("%(done)s of %(all)s classrooms answered"),
        "total": _("Total"),
        "closed_polls": _("Earlier polls"),
        "not_checked_in": _("not checked in"),
        "present_of": _("%(present)s of %(size)s present"),
        "students": _("students"),
        "no_chat": _("No messages yet."),
        "timer_left": _("%(time)s left"),
        "timer_over": _("Time is up (%(time)s over)"),
        "no_timer": _("No timer running."),
        "saved": _("Sent."),
        "error": _("Not sent: %(error)s"),
        "observers": _("Observers online: %(names)s"),
        "you": _("you"),
    }


@bp.route("/live-sessions/<id:session_id>/room")
@login_required
def room(session_id: int):
    session = load_session(session_id)
    role, classroom_ids = room_role(current_user, session)
    require(role is not None)
    live_class = session.live_class
    rooms = {r.classroom_id: r.classroom for r in live_class.receiving}
    observe_url = url_for("observations.new", live_session_id=session.id) if role == protocol.OBSERVER else None
    return render_template(
        "live/room.html",
        session=session,
        live_class=live_class,
        title=live_class.title or label(SUBJECT_LABELS, live_class.subject),
        role=role,
        my_rooms=[rooms[i] for i in classroom_ids if i in rooms],
        materials=material_choices(current_user, live_class) if role == protocol.TEACHER else [],
        observe_url=observe_url,
        strings=room_strings(),
        limits={"text": protocol.MAX_TEXT, "question": protocol.MAX_QUESTION, "option": protocol.MAX_OPTION,
                "options": protocol.MAX_OPTIONS, "page": protocol.MAX_PAGE, "class_size": protocol.MAX_CLASS_SIZE,
                "minutes": protocol.MAX_TIMER_MINUTES, "heartbeat": protocol.HEARTBEAT_SECONDS},
    )
