"""Pages of lesson observations (听课评课): my observations, observations of me, the record form
(saved as you type), the record, amendments, the teacher's acknowledgement and reply, files,
action steps, and the bureau's rubric templates."""

from __future__ import annotations

import html
import re
import uuid
from datetime import date, timedelta
from pathlib import Path

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, send_from_directory, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from ..accounts.models import User
from ..core.authz import BUREAU, PRINCIPAL, RESEARCHER, TEACHER, require
from ..core.converters import MAX_ID
from ..core.errors import DomainError, Invalid, NotAllowed
from ..core.forms import form_error
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.locking import parse_version
from ..core.models import utcnow
from ..core.pagination import paginate
from ..core.templating import nav_item
from ..core.timeutil import isoformat_local, local_today, school_year_of
from ..core.uploads import extensions_of
from ..core.validate import form_id, json_body, query_int
from ..extensions import db
from ..org.models import Classroom, School
from ..scheduling.models import LiveClass, LiveSession
from ..scheduling.permissions import visible_classes
from . import services
from .forms import AttachmentForm, FilterForm, ObservationForm
from .models import (
    KINDS,
    ActionStep,
    Observation,
    ObservationAmendment,
    RubricTemplate,
)
from .permissions import (
    can_edit_observation,
    can_observe_session,
    can_record_observations,
    can_view_observation,
    visible_observations,
)
from .quota import progress_for
from .rubrics import ensure_default_template

bp = Blueprint("observations", __name__)

nav_item("observations.index", _l("Observations"), (BUREAU, RESEARCHER, PRINCIPAL, TEACHER), after="resources.index")

def load_observation(observation_id: int) -> Observation:
    observation = db.session.execute(
        select(Observation).where(Observation.id == observation_id)
        .options(joinedload(Observation.observer), joinedload(Observation.observed_teacher),
                 joinedload(Observation.school), joinedload(Observation.classroom),
                 joinedload(Observation.rubric_template),
                 selectinload(Observation.attachments), selectinload(Observation.action_steps),
                 selectinload(Observation.amendments).joinedload(ObservationAmendment.user))
    ).scalar_one_or_none()
    if observation is None:
        abort(404)
    # Someone who may not read it is not told that it exists.
    require(can_view_observation(current_user, observation), hide=True)
    return observation


# --- lists ---------------------------------------------------------------------------------------


def _progress():
    """The quota progress bar of the person (observations.quota)."""
    return progress_for(current_user)


def _year_choices() -> list[tuple[str, str]]:
    this = school_year_of(local_today())
    return [(str(y), f"{y}–{y + 1}") for y in range(this, this - 6, -1)]


def _filtered(stmt, form: FilterForm):
    if form.status.data in ("draft", "final"):
        stmt = stmt.where(Observation.status == form.status.data)
    if form.kind.data in KINDS:
        stmt = stmt.where(Observation.kind == form.kind.data)
    year = form.year.data or ""
    if year in {value for value, _label in _year_choices()}:
        stmt = stmt.where(Observation.observed_on >= date(int(year), 9, 1),
                          Observation.observed_on < date(int(year) + 1, 9, 1))
    return stmt


def _list_options(stmt):
    return stmt.options(joinedload(Observation.observer), joinedload(Observation.observed_teacher),
                        joinedload(Observation.school)).order_by(Observation.observed_on.desc(),
                                                                  Observation.id.desc())


@bp.route("/observations")
@login_required
def index():
    """My observations; with ?scope=all the records of others I may read (principals: their
    school's; researchers and the bureau: their county's)."""
    form = FilterForm(request.args)
    form.year.choices = [("", _("All years"))] + _year_choices()
    scope = request.args.get("scope")
    if scope == "all" and current_user.role in (PRINCIPAL, RESEARCHER, BUREAU):
        stmt = select(Observation).where(visible_observations(current_user), Observation.observer_id != current_user.id)
    else:
        scope = "mine"
        stmt = select(Observation).where(Observation.observer_id == current_user.id)
    page = paginate(db.session, _list_options(_filtered(stmt, form)))
    can_record = can_record_observations(current_user)
    return render_template("observations/index.html", page=page, form=form, scope=scope, progress=_progress(),
                           can_record=can_record, sessions=_recent_sessions() if can_record and scope == "mine" else [])


RECENT_SESSIONS = timedelta(days=7)


def _recent_sessions() -> list[LiveSession]:
    """Live dual-teacher lessons of the past week one may observe (an entry to the prefilled form)."""
    now = utcnow()
    return list(db.session.execute(
        select(LiveSession).join(LiveClass, LiveClass.id == LiveSession.live_class_id)
        .where(visible_classes(current_user), LiveSession.starts_at <= now,
               LiveSession.starts_at >= now - RECENT_SESSIONS, LiveSession.status != "cancelled",
               LiveClass.main_teacher_id != current_user.id)
        .options(joinedload(LiveSession.live_class).joinedload(LiveClass.main_teacher))
        .order_by(LiveSession.starts_at.desc()).limit(5)
    ).scalars())


@bp.route("/observations/of-me")
@login_required
def of_me():
    """The final records of my lessons, with what I still have to acknowledge."""
    form = FilterForm(request.args)
    form.year.choices = [("", _("All years"))] + _year_choices()
    stmt = select(Observation).where(Observation.observed_teacher_id == current_user.id,
                                     Observation.status == "final")
    page = paginate(db.session, _list_options(_filtered(stmt, form)))
    steps = db.session.execute(
        select(ActionStep).join(Observation, Observation.id == ActionStep.observation_id)
        .where(ActionStep.teacher_id == current_user.id, Observation.status == "final", ActionStep.status != "met")
        .order_by(ActionStep.id)
    ).scalars().all()
    return render_template("observations/of_me.html", page=page, form=form, steps=steps)


# --- the form ------------------------------------------------------------------------------------


def _school_choices() -> list[tuple[str, str]]:
    stmt = select(School.id, School.name).where(School.is_active.is_(True)).order_by(School.name)
    county = current_user.scope_county_id
    if county is not None:
        stmt = stmt.where(School.county_id == county)
    return [("", "—")] + [(str(i), n) for i, n in db.session.execute(stmt).all()]


def _people_of(school_id: int | None) -> list[tuple[str, str]]:
    if not school_id:
        return []
    rows = db.session.execute(
        select(User.id, User.name, User.username).where(User.school_id == school_id, User.active.is_(True),
                                                        User.role.in_((TEACHER, PRINCIPAL)), User.id != current_user.id)
        .order_by(User.name, User.id)
    ).all()
    return [(str(i), f"{n} ({u})") for i, n, u in rows]


def _rooms_of(school_id: int | None) -> list[tuple[str, str]]:
    if not school_id:
        return []
    rows = db.session.execute(
        select(Classroom.id, Classroom.grade, Classroom.name)
        .where(Classroom.school_id == school_id, Classroom.is_active.is_(True))
        .order_by(Classroom.grade, Classroom.name)
    ).all()
    return [(str(i), _("Grade %(g)d %(name)s", g=g, name=n)) for i, g, n in rows]


def _as_int(value) -> int | None:
    """An id chosen in the form, or None when there is none or it is not an id (core.validate.form_id:
    ASCII digits within 32 bits; 2^31 would be an error on PostgreSQL, not a miss)."""
    try:
        return form_id(str(value or "").strip()) or None
    except ValueError:
        return None


def prepare_form(form: ObservationForm, extra_teacher: User | None = None) -> None:
    school_id = _as_int(form.school_id.data)
    form.school_id.choices = _school_choices()
    if school_id and str(school_id) not in {v for v, _n in form.school_id.choices}:
        school = db.session.get(School, school_id)
        if school is not None:  # a live session's school outside one's county, a teacher who moved
            form.school_id.choices.append((str(school.id), school.name))
    form.observed_teacher_id.choices = [("", "—")] + _people_of(school_id)
    if extra_teacher is not None and str(extra_teacher.id) not in {v for v, _n in form.observed_teacher_id.choices}:
        form.observed_teacher_id.choices.append((str(extra_teacher.id), f"{extra_teacher.name} ({extra_teacher.username})"))
    form.classroom_id.choices = [("", "—")] + _rooms_of(school_id)
    room_id = _as_int(form.classroom_id.data)
    if room_id and str(room_id) not in {v for v, _n in form.classroom_id.choices}:
        room = db.session.get(Classroom, room_id)
        if room is not None:
            form.classroom_id.choices.append((str(room.id), f"{room.school.name} · {room.name}"))


def raw_values(form: ObservationForm, template: RubricTemplate) -> dict:
    raw = {name: getattr(form, name).data for name in (
        "observed_teacher_id", "classroom_id", "observed_on", "periods", "subject", "topic", "kind", "record_html",
        "strengths", "problems", "suggestions", "action_steps", "grade", "private_notes", "live_session_id")}
    raw["scores"] = {d["code"]: request.form.get(f"score-{d['code']}", "") for d in template.dimensions}
    return raw


_SIMPLE_HTML = re.compile(r"^(?:<p>(?:[^<]|<br>)*</p>)+$")


def editable_text(html_text: str) -> str:
    """The running record for the text box: paragraphs and line breaks only (what a phone's plain
    text becomes) are shown as plain text again; richer markup stays as it is."""
    if not html_text or not _SIMPLE_HTML.match(html_text):
        return html_text or ""
    paragraphs = re.findall(r"<p>(.*?)</p>", html_text, flags=re.S)
    return "\n\n".join(html.unescape(p.replace("<br>", "\n")) for p in paragraphs)


def fill_form(form: ObservationForm, observation: Observation) -> None:
    form.school_id.data = str(observation.school_id)
    form.observed_teacher_id.data = str(observation.observed_teacher_id)
    form.classroom_id.data = str(observation.classroom_id or "")
    form.observed_on.data = observation.observed_on.isoformat()
    form.periods.data = str(observation.periods)
    for name in ("subject", "topic", "kind", "record_html", "strengths", "problems", "suggestions", "grade",
                 "private_notes"):
        getattr(form, name).data = getattr(observation, name) or ""
    form.record_html.data = editable_text(observation.record_html)
    form.action_steps.data = "\n".join(s.text for s in observation.action_steps)
    form.live_session_id.data = str(observation.live_session_id or "")
    form.revision.data = str(observation.revision)
    form.client_key.data = observation.client_key or ""


def _render_form(form, template, observation=None, session=None, status=200, typed: bool | None = None):
    """``typed``: the scores come from the request (default: when it is a POST)."""
    scores = {}
    if request.method == "POST" if typed is None else typed:
        scores = {d["code"]: request.form.get(f"score-{d['code']}", "") for d in template.dimensions}
    elif observation is not None:
        scores = {k: str(v) for k, v in (observation.scores or {}).items()}
    steps = services.steps_to_check(current_user, observation) if observation is not None else []
    return render_template(
        "observations/form.html", form=form, template=template, observation=observation, session=session,
        scores=scores, steps=steps, today=local_today().isoformat(),
        autosave_url=url_for("observations.autosave"),
        people_url=url_for("observations.teachers"),
        attachment_form=AttachmentForm(),
        accept=",".join("." + e for e in extensions_of(services.ATTACHMENT_KINDS)),
        max_mb=services.attachment_max_bytes() // (1024 * 1024),
    ), status


def edit_page(observation: Observation, status: int):
    """The edit page as on opening it, answering ``status``: a file refused when the page's script
    did not send it (the message is flashed above the form, nothing typed is lost: it was saved)."""
    form = ObservationForm(formdata=None)
    fill_form(form, observation)
    prepare_form(form, observation.observed_teacher)
    return _render_form(form, observation.rubric_template, observation, status=status, typed=False)


def _session_for_form(session_id: int | None) -> LiveSession | None:
    if session_id is None:
        return None
    session = db.session.execute(
        select(LiveSession).where(LiveSession.id == session_id)
        .options(joinedload(LiveSession.live_class).joinedload(LiveClass.main_teacher),
                 joinedload(LiveSession.live_class).joinedload(LiveClass.main_classroom))
    ).scalar_one_or_none()
    if session is None:
        abort(404)
    require(can_observe_session(current_user, session))
    return session


def _after_save(observation: Observation, finalize: bool):
    if finalize:
        services.finalize_observation(current_user, observation)
    db.session.commit()
    if finalize:
        flash(_("The record is final; the teacher was told."), "success")
        return redirect(url_for("observations.record", observation_id=observation.id))
    flash(_("Draft saved."), "success")
    return redirect(url_for("observations.edit", observation_id=observation.id))


@bp.route("/observations/new", methods=["GET", "POST"])
@login_required
def new():
    require(can_record_observations(current_user))
    template = ensure_default_template()
    db.session.commit()  # the default rubric, when this is its first use
    form = ObservationForm()
    session = None
    if request.method == "GET":
        session = _session_for_form(query_int("live_session_id"))
        form.client_key.data = uuid.uuid4().hex
        form.periods.data = "1"
        form.observed_on.data = local_today().isoformat()
        if session is not None:
            values = services.prefill_from_session(current_user, session)
            form.school_id.data = str(session.live_class.main_classroom.school_id)
            for name, value in values.items():
                getattr(form, name).data = value.isoformat() if isinstance(value, date) else str(value)
        elif current_user.school_id:
            form.school_id.data = str(current_user.school_id)
        prepare_form(form, session.live_class.main_teacher if session else None)
        return _render_form(form, template, session=session)
    session = _session_for_form(_as_int(form.live_session_id.data)) if form.live_session_id.data else None
    prepare_form(form, session.live_class.main_teacher if session else None)
    if not form.validate_on_submit():
        return _render_form(form, template, session=session, status=400)
    finalize = request.form.get("action") == "finalize"
    # The hidden key the page made (hex); anything else is ignored, never put in a query (a NUL
    # byte there is a 500 on PostgreSQL).
    key = form.client_key.data if isinstance(form.client_key.data, str) and _KEY.match(form.client_key.data) else None

    def save():
        existing = None
        if key:
            existing = db.session.execute(select(Observation).where(
                Observation.observer_id == current_user.id, Observation.client_key == key)).scalar_one_or_none()
        if existing is not None:  # the autosave already made it
            if existing.status == "final":
                return redirect(url_for("observations.record", observation_id=existing.id))
            services.update_draft(current_user, existing, raw_values(form, existing.rubric_template))
            return _after_save(existing, finalize)
        observation = services.create_observation(current_user, raw_values(form, template), client_key=key,
                                                  template=template)
        return _after_save(observation, finalize)

    try:
        try:
            return save()
        except IntegrityError:  # an autosave of the same draft made the row meanwhile: update it
            db.session.rollback()
            return save()
    except DomainError as exc:
        db.session.rollback()
        form_error(form, exc, "topic")
        return _render_form(form, template, session=session, status=exc.status if exc.status < 500 else 400)


@bp.route("/observations/<id:observation_id>/edit", methods=["GET", "POST"])
@login_required
def edit(observation_id: int):
    observation = load_observation(observation_id)
    if observation.status == "final" and observation.observer_id == current_user.id:
        flash(_("This record is final; correct it with an amendment."), "info")
        return redirect(url_for("observations.amend", observation_id=observation.id))
    require(can_edit_observation(current_user, observation))
    template = observation.rubric_template
    form = ObservationForm()
    session = None
    if request.method == "GET":
        fill_form(form, observation)
        prepare_form(form, observation.observed_teacher)
        return _render_form(form, template, observation)
    prepare_form(form, observation.observed_teacher)
    if not form.validate_on_submit():
        return _render_form(form, template, observation, status=400)
    try:
        services.update_draft(current_user, observation, raw_values(form, template),
                              revision=parse_version(form.revision.data))
        return _after_save(observation, request.form.get("action") == "finalize")
    except DomainError as exc:
        db.session.rollback()
        form_error(form, exc, "topic")
        observation = load_observation(observation_id)
        return _render_form(form, template, observation, session, status=exc.status if exc.status < 500 else 400)


def json_error(exc: DomainError):
    body = {"error": {"code": exc.code, "message": str(exc.message)}}
    if exc.field:
        body["error"]["field"] = exc.field
    return jsonify(body), exc.status


_KEY = re.compile(r"^[0-9a-f]{16,40}$")


@bp.route("/observations/autosave", methods=["POST"])
@login_required
def autosave():
    """Save a draft as it is typed (JSON, CSRF header). Idempotent: the same body twice changes
    nothing; a new draft is found again by its client key. Only the observer; a final record
    is refused (409)."""
    if not can_record_observations(current_user):
        return json_error(NotAllowed(_("You cannot record observations.")))
    try:
        data = json_body()
        observation_id = data.pop("id", None)
        key = data.pop("client_key", None)
        revision = parse_version(data.pop("revision", None))
        data.pop("school_id", None)
        if observation_id is not None:
            if isinstance(observation_id, bool) or not isinstance(observation_id, int):
                raise Invalid(_("id must be a whole number."), field="id")
            # An id no row can have (20 digits overflow the database's integer): not found, not a 500.
            observation = db.session.get(Observation, observation_id) if 1 <= observation_id <= MAX_ID else None
            if observation is None or observation.observer_id != current_user.id:
                return jsonify({"error": {"code": "not_found", "message": _("There is no such draft of yours.")}}), 404
        else:
            if not isinstance(key, str) or not _KEY.match(key):
                raise Invalid(_("client_key is missing."), field="client_key")
            observation = db.session.execute(select(Observation).where(
                Observation.observer_id == current_user.id, Observation.client_key == key)).scalar_one_or_none()
        if observation is None:
            observation = services.create_observation(current_user, data, client_key=key)
        else:
            services.update_draft(current_user, observation, data, revision=revision)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return json_error(exc)
    except IntegrityError:
        # The same new draft sent twice at once: the other request made the row; this one updates it.
        db.session.rollback()
        made = key is not None and db.session.execute(select(Observation.id).where(
            Observation.observer_id == current_user.id, Observation.client_key == key)).first()
        if not made or g.get("autosave_retried"):
            raise  # not that race (or it came back): a real error, not a loop until RecursionError
        g.autosave_retried = True
        return autosave()
    return jsonify({"id": observation.id, "revision": observation.revision,
                    "saved_at": isoformat_local(observation.updated_at),
                    "edit_url": url_for("observations.edit", observation_id=observation.id),
                    "attachments_url": url_for("observations.add_attachment", observation_id=observation.id)})


@bp.route("/observations/teachers")
@login_required
def teachers():
    """The people and classes of a school for the form's choices (JSON)."""
    require(can_record_observations(current_user))
    school_id = query_int("school_id")
    school = db.session.get(School, school_id) if school_id else None
    county = current_user.scope_county_id
    if school is None or (county is not None and school.county_id != county):
        return jsonify({"teachers": [], "classrooms": []})
    return jsonify({"teachers": [{"id": int(v), "name": n} for v, n in _people_of(school.id)],
                    "classrooms": [{"id": int(v), "name": n} for v, n in _rooms_of(school.id)]})


@bp.route("/observations/sw.js")
@login_required
def service_worker():
    """The service worker that keeps the form pages for offline reloads (scope /observations/)."""
    response = send_from_directory(Path(bp.root_path).parents[1] / "static" / "src" / "observations", "sw.js",
                                   mimetype="text/javascript", max_age=0)
    response.headers["Service-Worker-Allowed"] = url_for("observations.index") + "/"
    response.headers["Cache-Control"] = "no-cache"
    return response


from . import feedback_home as _feedback_home  # noqa: E402,F401  (the home panel for observed teachers)
from . import record_views as _record_views  # noqa: E402,F401  (the record, amendments, replies, files)
from . import rubric_views as _rubric_views  # noqa: E402,F401  (the bureau's rubric templates, on bp)
