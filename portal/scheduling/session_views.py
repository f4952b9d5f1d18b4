"""Pages of one session: its time in each school's own periods, its status, the attendance of every
receiving classroom (the assistant records theirs after the lesson); cancel, move, re-add."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..core.authz import require
from ..core.errors import Conflict, DomainError, Invalid
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.models import utcnow
from ..core.timeutil import to_local
from ..extensions import db
from ..org.models import Classroom
from . import series, services
from .attendance import attendance_of, record_attendance
from .bells import periods_covering, schedule_on, schedules_of
from .form_input import read_time
from .forms import AttendanceForm, CancelSessionForm, MoveSessionForm
from .models import LiveClass, LiveSession, ReceivingClassroom
from .permissions import can_change_class, can_record_attendance, can_view_session
from .views import bp


def load_session(session_id: int) -> LiveSession:
    session = db.session.execute(
        select(LiveSession).where(LiveSession.id == session_id).options(
            joinedload(LiveSession.live_class).joinedload(LiveClass.main_teacher),
            joinedload(LiveSession.live_class).joinedload(LiveClass.main_classroom).joinedload(Classroom.school),
            joinedload(LiveSession.live_class).selectinload(LiveClass.receiving)
            .joinedload(ReceivingClassroom.classroom).joinedload(Classroom.school),
            joinedload(LiveSession.live_class).selectinload(LiveClass.receiving)
            .joinedload(ReceivingClassroom.assistant))
    ).scalar_one_or_none()
    if session is None:
        abort(404)
    require(can_view_session(current_user, session), hide=True)
    return session


def _periods(session: LiveSession) -> dict[int, str]:
    """Each school's own period numbers for the session ("第3节"), by school id (two queries)."""
    live_class = session.live_class
    schools = {live_class.main_classroom.school_id} | {r.classroom.school_id for r in live_class.receiving}
    schedules = schedules_of(schools)
    start, end = to_local(session.starts_at), to_local(session.ends_at)
    result = {}
    for school_id in schools:
        schedule = schedule_on(schedules.get(school_id, []), start.date())
        if schedule is None:
            continue
        covered = periods_covering(schedule.periods, start.time(), end.time())
        if covered is None:
            result[school_id] = _("outside its periods")
        elif len(covered) == 1:
            result[school_id] = _("period %(n)d", n=covered[0].number)
        else:
            result[school_id] = _("periods %(a)d–%(b)d", a=covered[0].number, b=covered[-1].number)
    return result


def render_session(session: LiveSession, *, forms: dict | None = None, move_form=None, conflicts=None,
                   status: int = 200):
    live_class = session.live_class
    attendance = attendance_of(session)
    forms = dict(forms or {})
    started = session.starts_at <= utcnow()
    for r in live_class.receiving:
        if r.classroom_id in forms or not can_record_attendance(current_user, live_class, r.classroom_id):
            continue
        record = attendance.get(r.classroom_id)
        form = AttendanceForm(formdata=None, classroom_id=str(r.classroom_id),
                              present=record.present if record else None,
                              class_size=record.class_size if record else (r.classroom.student_count or None),
                              feedback=record.feedback if record else "")
        forms[r.classroom_id] = form
    if move_form is None:
        local = to_local(session.starts_at)
        move_form = MoveSessionForm(formdata=None, day=local.date(), start_time=local.strftime("%H:%M"),
                                    end_time=to_local(session.ends_at).strftime("%H:%M"))
    return render_template(
        "scheduling/session.html", session=session, live_class=live_class, attendance=attendance, forms=forms,
        started=started, can_change=can_change_class(current_user, live_class), periods=_periods(session),
        move_form=move_form, cancel_form=CancelSessionForm(formdata=None), conflicts=conflicts or [],
    ), status


@bp.route("/live-sessions/<id:session_id>")
@login_required
def live_session(session_id: int):
    return render_session(load_session(session_id))


def _back(session: LiveSession):
    target = request.form.get("back")
    if target == "class":
        return redirect(url_for("scheduling.live_class", class_id=session.live_class_id) + f"#s{session.id}")
    return redirect(url_for("scheduling.live_session", session_id=session.id))


def _refused(session_id: int, exc: DomainError, **kw):
    db.session.rollback()
    flash(str(exc.message), "error")
    status = 400 if exc.status == 422 else exc.status
    return render_session(load_session(session_id), status=status, **kw)


@bp.route("/live-sessions/<id:session_id>/cancel", methods=["POST"])
@login_required
def cancel_session(session_id: int):
    session = load_session(session_id)
    require(can_change_class(current_user, session.live_class))
    form = CancelSessionForm()
    try:
        if not form.validate_on_submit():
            raise Invalid(_l("The reason is at most 200 characters."), field="note")
        if session.starts_at <= utcnow():
            raise Conflict(_l("The session has started: it can no longer be cancelled."))
        services.cancel_session(current_user, session, note=form.note.data or "")
    except DomainError as exc:
        return _refused(session_id, exc)
    db.session.commit()
    flash(_("The session is cancelled; everyone concerned is told."), "success")
    return _back(session)


@bp.route("/live-sessions/<id:session_id>/move", methods=["POST"])
@login_required
def move_session(session_id: int):
    session = load_session(session_id)
    require(can_change_class(current_user, session.live_class))
    form = MoveSessionForm()
    try:
        if not form.validate_on_submit():
            raise Invalid(_l("Give the date (YYYY-MM-DD) and the times (like 08:30)."), field="day")
        start, end = read_time(form.start_time.data), read_time(form.end_time.data)
        if session.starts_at <= utcnow():
            raise Conflict(_l("The session has started: it can no longer be moved."))
        from .recurrence import to_utc

        if to_utc(form.day.data, start) <= utcnow():
            raise Invalid(_l("Move the session to a time still to come."), field="day")
        services.move_session(current_user, session, form.day.data, start, end)
    except DomainError as exc:
        return _refused(session_id, exc, move_form=form, conflicts=exc.details.get("conflicts", []))
    db.session.commit()
    flash(_("The session is moved; everyone concerned is told."), "success")
    return redirect(url_for("scheduling.live_session", session_id=session.id))


@bp.route("/live-sessions/<id:session_id>/restore", methods=["POST"])
@login_required
def restore_session(session_id: int):
    session = load_session(session_id)
    require(can_change_class(current_user, session.live_class))
    try:
        series.restore_session(current_user, session)
    except DomainError as exc:
        return _refused(session_id, exc, conflicts=exc.details.get("conflicts", []))
    db.session.commit()
    flash(_("The session takes place after all; everyone concerned is told."), "success")
    return _back(session)


@bp.route("/live-sessions/<id:session_id>/attendance", methods=["POST"])
@login_required
def save_attendance(session_id: int):
    session = load_session(session_id)
    live_class = session.live_class
    require(any(can_record_attendance(current_user, live_class, r.classroom_id) for r in live_class.receiving))
    form = AttendanceForm()
    raw = form.classroom_id.data or ""
    if not (raw.isascii() and raw.isdigit() and len(raw) < 10):
        abort(400)
    classroom_id = int(raw)
    if not any(r.classroom_id == classroom_id for r in live_class.receiving):
        abort(404)
    require(can_record_attendance(current_user, live_class, classroom_id))
    if not form.validate_on_submit():
        db.session.rollback()
        return render_session(session, forms={classroom_id: form}, status=400)
    try:
        record_attendance(current_user, session, classroom_id, present=form.present.data,
                          class_size=form.class_size.data, feedback=form.feedback.data or "")
    except DomainError as exc:
        db.session.rollback()
        field = getattr(form, exc.field or "", None) if exc.field in ("present", "class_size", "feedback") else None
        (field or form.present).errors = list((field or form.present).errors) + [str(exc.message)]
        return render_session(load_session(session_id), forms={classroom_id: form},
                              status=400 if exc.status == 422 else exc.status)
    db.session.commit()
    flash(_("Attendance saved."), "success")
    return redirect(url_for("scheduling.live_session", session_id=session.id) + f"#room-{classroom_id}")
