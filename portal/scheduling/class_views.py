"""Pages of the dual-teacher classes: the list, the new-class form (showing clashes and offering
to skip their dates), a class's page (facts, receiving rooms, sessions, resources, bell-period
warnings), changing the series from a date, adding a session, attaching resources."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import exists, false, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from ..accounts.models import User
from ..core.authz import BUREAU, PRINCIPAL, RESEARCHER, TEACHER, require, require_roles
from ..core.errors import Conflict, DomainError, Invalid
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.labels import SUBJECT_LABELS
from ..core.locking import StaleEdit, submitted_version
from ..core.models import utcnow
from ..core.pagination import paginate
from ..core.sanitize import strip_controls
from ..core.templating import nav_item
from ..core.timeutil import local_today
from ..core.validate import BadRequest
from ..extensions import db
from ..org.models import Classroom, School, Term
from ..org.services import current_term
from ..resources import links
from ..resources.models import Resource
from . import series, services
from .bells import class_bell_warnings
from .form_input import options_for, pad_rows, read_series, read_time, show_error
from .forms import ALL_WEEKDAYS, MAX_ROWS, MAX_SLOTS, AddSessionForm, ChangeSeriesForm, ClassFilterForm, LiveClassForm
from .models import LiveClass, LiveSession, ReceivingClassroom, SessionAttendance
from .permissions import can_attach_to_class, can_change_class, can_view_class, visible_classes
from .views import bp

nav_item("scheduling.classes", _l("Dual-teacher classes"), (BUREAU, RESEARCHER, PRINCIPAL, TEACHER),
         after="resources.index")


@bp.context_processor
def _weekday_names():
    return {"weekday_names": dict(ALL_WEEKDAYS)}


RECENT_DAYS = 14  # the class page lists sessions from two weeks ago on, unless ?all=1



def load_class(class_id: int) -> LiveClass:
    live_class = db.session.execute(
        select(LiveClass).where(LiveClass.id == class_id).options(
            joinedload(LiveClass.main_teacher), joinedload(LiveClass.main_classroom).joinedload(Classroom.school),
            joinedload(LiveClass.term), selectinload(LiveClass.slots),
            selectinload(LiveClass.receiving).joinedload(ReceivingClassroom.classroom).joinedload(Classroom.school),
            selectinload(LiveClass.receiving).joinedload(ReceivingClassroom.assistant))
    ).scalar_one_or_none()
    if live_class is None:
        abort(404)
    # Whether a class exists is private to the people concerned: others get the answer of a wrong id.
    require(can_view_class(current_user, live_class), hide=True)
    return live_class


# --- list ----------------------------------------------------------------------------------------


@bp.route("/live-classes")
@login_required
def classes():
    form = ClassFilterForm(request.args)
    today = local_today()
    stmt = (
        select(LiveClass)
        .where(visible_classes(current_user))
        .options(joinedload(LiveClass.main_teacher), joinedload(LiveClass.main_classroom).joinedload(Classroom.school),
                 selectinload(LiveClass.slots),
                 selectinload(LiveClass.receiving).joinedload(ReceivingClassroom.classroom)
                 .joinedload(Classroom.school))
        .order_by(LiveClass.first_date.desc(), LiveClass.id.desc())
    )
    state = form.state.data if form.state.data in ("current", "ended", "all") else "current"
    if state == "current":
        stmt = stmt.where(LiveClass.last_date >= today)
    elif state == "ended":
        stmt = stmt.where(LiveClass.last_date < today)
    if form.subject.data:  # an unknown one (a NUL, …) matches nothing, without asking the database
        stmt = stmt.where(LiveClass.subject == form.subject.data if form.subject.data in SUBJECT_LABELS else false())
    query = strip_controls(form.q.data or "").strip()[:60]
    if query:
        teacher_named = select(User.id).where(User.name.contains(query, autoescape=True))
        school_rooms = select(Classroom.id).join(School, School.id == Classroom.school_id).where(
            School.name.contains(query, autoescape=True))
        stmt = stmt.where(or_(
            LiveClass.title.contains(query, autoescape=True), LiveClass.main_teacher_id.in_(teacher_named),
            LiveClass.main_classroom_id.in_(school_rooms),
            exists().where(ReceivingClassroom.live_class_id == LiveClass.id,
                           ReceivingClassroom.classroom_id.in_(school_rooms) |
                           ReceivingClassroom.assistant_id.in_(teacher_named))))
    page = paginate(db.session, stmt)
    ids = [c.id for c in page.items]
    upcoming = dict(db.session.execute(
        select(LiveSession.live_class_id, func.min(LiveSession.starts_at))
        .where(LiveSession.live_class_id.in_(ids), LiveSession.status == "scheduled", LiveSession.ends_at > utcnow())
        .group_by(LiveSession.live_class_id)
    ).all()) if ids else {}
    can_create = current_user.role in (TEACHER, PRINCIPAL, BUREAU)
    return render_template("scheduling/classes.html", page=page, form=form, upcoming=upcoming, today=today,
                           can_create=can_create)


# --- new class -----------------------------------------------------------------------------------


def _terms() -> list[Term]:
    return db.session.execute(select(Term).where(Term.end_date >= local_today() - timedelta(days=200))
                              .order_by(Term.start_date).limit(6)).scalars().all()


@bp.route("/live-classes/new", methods=["GET", "POST"])
@require_roles(TEACHER, PRINCIPAL, BUREAU)
def new_class():
    form = LiveClassForm()
    terms = _terms()
    form.term.choices = [(0, _("— dates below —"))] + [(t.id, t.name) for t in terms]
    list_errors: dict[str, list[str]] = {}
    conflicts, clash_dates, status = [], [], 200
    if request.method == "GET":
        if current_user.role == TEACHER:
            form.main_teacher.data = current_user.id
        term = current_term()
        form.term.data = term.id if term is not None and term.end_date >= local_today() else 0
    elif form.validate_on_submit():
        term = db.session.get(Term, form.term.data) if form.term.data else None
        try:
            if form.term.data and term is None:
                raise Invalid(_l("Choose a term from the list."), field="term")
            chosen = read_series(form)
            live_class = services.schedule_live_class(
                current_user, subject=form.subject.data or "", grade=form.grade.data or None,
                title=form.title.data or "", term=term, first_date=form.first_date.data,
                last_date=form.last_date.data, skip_clashes=form.skip_clashes.data, **chosen)
        except Conflict as exc:
            db.session.rollback()
            conflicts, clash_dates, status = exc.details.get("conflicts", []), exc.details.get("dates", []), 409
        except DomainError as exc:
            db.session.rollback()
            show_error(form, exc, "subject", list_errors)
            status = exc.status
        else:
            warnings = class_bell_warnings(live_class)
            count = db.session.execute(select(func.count()).select_from(LiveSession).where(
                LiveSession.live_class_id == live_class.id)).scalar_one()
            db.session.commit()
            flash(_("The class is scheduled: %(n)d sessions.", n=count), "success")
            if warnings:
                flash(_("Some sessions fall outside a receiving school's bell periods: see below."), "info")
            return redirect(url_for("scheduling.live_class", class_id=live_class.id))
    else:
        status = 400
    pad_rows(form)
    return render_template("scheduling/class_form.html", form=form, options=options_for(current_user),
                           list_errors=list_errors, conflicts=conflicts, clash_dates=clash_dates,
                           max_rows=MAX_ROWS, max_slots=MAX_SLOTS, live_class=None), status


# --- one class -----------------------------------------------------------------------------------


def render_class(live_class: LiveClass, *, conflicts=None, status: int = 200, add_form=None):
    show_all = request.args.get("all") == "1"
    stmt = select(LiveSession).where(LiveSession.live_class_id == live_class.id).order_by(LiveSession.starts_at)
    if not show_all:
        stmt = stmt.where(LiveSession.occurrence_date >= local_today() - timedelta(days=RECENT_DAYS))
    sessions = db.session.execute(stmt.limit(800)).scalars().all()
    hidden = 0 if show_all else db.session.execute(
        select(func.count()).select_from(LiveSession).where(
            LiveSession.live_class_id == live_class.id,
            LiveSession.occurrence_date < local_today() - timedelta(days=RECENT_DAYS))).scalar_one()
    recorded = dict(db.session.execute(
        select(SessionAttendance.session_id, func.count())
        .join(LiveSession, LiveSession.id == SessionAttendance.session_id)
        .where(LiveSession.live_class_id == live_class.id).group_by(SessionAttendance.session_id)
    ).all())
    changeable = can_change_class(current_user, live_class)
    attachable = can_attach_to_class(current_user, live_class)
    return render_template(
        "scheduling/live_class.html", live_class=live_class, sessions=sessions, hidden=hidden, show_all=show_all,
        recorded=recorded, now=utcnow(), can_change=changeable, warnings=class_bell_warnings(live_class, local_today()),
        conflicts=conflicts or [], add_form=add_form or AddSessionForm(),
        **links.live_class_context(current_user, live_class, attachable),
    ), status


@bp.route("/live-classes/<id:class_id>")
@login_required
def live_class(class_id: int):
    return render_class(load_class(class_id))


def _series_form(live_class: LiveClass) -> ChangeSeriesForm:
    form = ChangeSeriesForm()
    if request.method == "GET":
        form.main_teacher.data = live_class.main_teacher_id
        form.main_classroom.data = live_class.main_classroom_id
        form.last_date.data = live_class.last_date
        form.from_date.data = max(local_today(), live_class.first_date)
        form.version.data = live_class.version
        while len(form.receiving):
            form.receiving.pop_entry()
        for r in live_class.receiving:
            form.receiving.append_entry({"classroom": r.classroom_id, "assistant": r.assistant_id})
        while len(form.slots):
            form.slots.pop_entry()
        for s in live_class.slots:
            form.slots.append_entry({"weekday": s.weekday, "start": s.start_time.strftime("%H:%M"),
                                     "end": s.end_time.strftime("%H:%M")})
    return form


@bp.route("/live-classes/<id:class_id>/change", methods=["GET", "POST"])
@login_required
def change_series(class_id: int):
    live_class = load_class(class_id)
    require(can_change_class(current_user, live_class))
    form = _series_form(live_class)
    list_errors: dict[str, list[str]] = {}
    conflicts, clash_dates, status = [], [], 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                result = series.change_series(current_user, live_class, from_date=form.from_date.data,
                                              last_date=form.last_date.data, skip_clashes=form.skip_clashes.data,
                                              version=submitted_version(form), **read_series(form))
            except StaleEdit as exc:  # changed by someone else since this page loaded: what was typed stays
                db.session.rollback()
                flash(str(exc.message), "error")
                status = 409
            except Conflict as exc:
                db.session.rollback()
                conflicts, clash_dates, status = exc.details.get("conflicts", []), exc.details.get("dates", []), 409
            except DomainError as exc:
                db.session.rollback()
                show_error(form, exc, "from_date", list_errors)
                status = exc.status
            else:
                db.session.commit()
                flash(_("The class is changed from %(day)s: %(new)d new sessions, %(changed)d changed, "
                        "%(removed)d no longer held.", day=form.from_date.data.isoformat(), new=result.created,
                        changed=result.changed, removed=result.removed), "success")
                if result.skipped_dates:
                    flash(_("Skipped for clashes: %(dates)s.", dates=", ".join(result.skipped_dates)), "info")
                if result.warnings:
                    flash(_("Some sessions fall outside a receiving school's bell periods: see below."), "info")
                return redirect(url_for("scheduling.live_class", class_id=live_class.id))
        else:
            status = 400
        live_class = load_class(class_id)
    pad_rows(form)
    keep_rooms = {live_class.main_classroom_id} | {r.classroom_id for r in live_class.receiving}
    keep_people = {live_class.main_teacher_id} | {r.assistant_id for r in live_class.receiving}
    return render_template("scheduling/class_form.html", form=form, options=options_for(current_user, keep_rooms,
                                                                                       keep_people),
                           list_errors=list_errors, conflicts=conflicts, clash_dates=clash_dates, max_rows=MAX_ROWS,
                           max_slots=MAX_SLOTS, live_class=live_class), status


@bp.route("/live-classes/<id:class_id>/sessions", methods=["POST"])
@login_required
def add_session(class_id: int):
    live_class = load_class(class_id)
    require(can_change_class(current_user, live_class))
    form = AddSessionForm()
    try:
        if not form.validate_on_submit():
            raise Invalid(_l("Give the date (YYYY-MM-DD) and the times (like 08:30)."), field="day")
        start = read_time(form.start_time.data)
        end = read_time(form.end_time.data)
        session = series.add_session(current_user, live_class, form.day.data, start, end)
    except Conflict as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return render_class(load_class(class_id), conflicts=exc.details.get("conflicts", []), status=409,
                            add_form=form)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return render_class(load_class(class_id), status=exc.status if exc.status != 422 else 400, add_form=form)
    db.session.commit()
    flash(_("A session is added on %(day)s.", day=form.day.data.isoformat()), "success")
    return redirect(url_for("scheduling.live_class", class_id=class_id) + f"#s{session.id}")


# --- resources -----------------------------------------------------------------------------------


def _resource(raw) -> Resource:
    if not (isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) < 10):
        raise BadRequest(_l("Choose a resource to attach."), field="resource_id")
    resource = db.session.get(Resource, int(raw))
    if resource is None:
        abort(404)
    return resource


@bp.route("/live-classes/<id:class_id>/resources", methods=["POST"])
@login_required
def attach_resource(class_id: int):
    live_class = load_class(class_id)
    require(can_attach_to_class(current_user, live_class))
    resource = _resource(request.form.get("resource_id", ""))
    if links.attach_resource(current_user, links.LIVE_CLASS, live_class, resource):
        db.session.commit()
        flash(_("“%(title)s” is attached to the class.", title=resource.title), "success")
    else:
        flash(_("“%(title)s” was attached already.", title=resource.title), "info")
    return redirect(url_for("scheduling.live_class", class_id=class_id) + "#resources")


@bp.route("/live-classes/<id:class_id>/resources/<id:resource_id>/remove", methods=["POST"])
@login_required
def detach_resource(class_id: int, resource_id: int):
    live_class = load_class(class_id)
    require(can_attach_to_class(current_user, live_class))
    resource = _resource(str(resource_id))
    if links.detach_resource(current_user, links.LIVE_CLASS, live_class, resource):
        db.session.commit()
        flash(_("“%(title)s” is no longer attached.", title=resource.title), "success")
    return redirect(url_for("scheduling.live_class", class_id=class_id) + "#resources")
