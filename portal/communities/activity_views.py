"""Pages: a community's activities, one activity (sign-up, attendance, minutes), activity types."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..accounts.services import user_ids_from_list
from ..core.authz import BUREAU, require, require_roles
from ..core.errors import DomainError, Invalid
from ..core.forms import form_error, form_status
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.i18n import safe_translation
from ..core.labels import ACTIVITY_KIND_LABELS, translated
from ..core.locking import submitted_version
from ..core.pagination import page_of
from ..core.templating import format_local_datetime, url_for_ids
from ..core.timeutil import portal_tz
from ..extensions import db
from ..org.models import School
from ..resources import links as resource_links
from . import activities
from .blueprint import bp
from .forms import ActivityForm, ActivityTypeForm, AttendanceForm, MinutesForm
from .models import Activity, ActivityType, Community, Membership, Participant, hours_text
from .pages import load_community
from .permissions import (
    can_create_activity,
    can_edit_activity,
    can_manage_activity_types,
    can_read_community,
    can_read_minutes,
    can_sign_up,
    can_view_community,
    membership_of,
)

# Which built-in types each kind of community runs (SPEC.md, points 1 and 2).
KIND_TYPES = {
    "teacher": ("seminar", "lesson_polishing", "training", "online_research", "diagnosis", "demonstration"),
    "principal": ("governance_forum", "school_tour", "training", "seminar", "online_research"),
}


# Statements built once: SQLAlchemy then reuses their cache keys instead of rebuilding them on
# every request; the values come in as bind parameters.
_ACTIVITY = (
    select(Activity).where(Activity.id == bindparam("activity_id"))
    .options(joinedload(Activity.community).joinedload(Community.leader), joinedload(Activity.host),
             joinedload(Activity.custom_type))
)
# Who signed up, as plain rows: a big activity has hundreds, and the page shows only names,
# schools and presence (the columns of SignUp).
_PARTICIPANTS = (
    select(Participant.attended, User.id.label("user_id"), User.name, School.name.label("school_name"))
    .join(User, User.id == Participant.user_id)
    .outerjoin(School, School.id == User.school_id)
    .where(Participant.activity_id == bindparam("activity_id"))
    .order_by(School.name, User.name)
    .limit(2000)
)
_MY_SIGNUP = select(Participant.attended).where(Participant.activity_id == bindparam("activity_id"),
                                                Participant.user_id == bindparam("user_id"))


class SignUp(NamedTuple):
    attended: bool | None
    user_id: int
    name: str
    school_name: str | None


def _signed_up(activity_id: int) -> list[SignUp]:
    return [SignUp(*row) for row in db.session.execute(_PARTICIPANTS, {"activity_id": activity_id})]


def load_activity(activity_id: int) -> tuple[Activity, Membership | None]:
    activity = db.session.execute(_ACTIVITY, {"activity_id": activity_id}).scalar_one_or_none()
    if activity is None or not can_view_community(current_user, activity.community):
        abort(404)
    return activity, membership_of(current_user, activity.community)


# --- lists -------------------------------------------------------------------------------------


def _listed(past: bool):
    """One page of a community's past or coming activities, as rows of the columns the list shows
    (whether there are minutes, not the minutes), and their count."""
    where = (Activity.community_id == bindparam("community_id"),
             Activity.ends_at < bindparam("now") if past else Activity.ends_at >= bindparam("now"))
    stmt = (
        select(Activity.id, Activity.title, Activity.kind, Activity.starts_at, Activity.ends_at,
               Activity.is_online, Activity.place, Activity.hours_tenths, Activity.signup_count,
               Activity.cancelled_at, (Activity.minutes_html != "").label("has_minutes"),
               User.name.label("host_name"), ActivityType.name.label("custom_type_name"))
        .outerjoin(User, User.id == Activity.host_id)
        .outerjoin(ActivityType, ActivityType.id == Activity.custom_type_id)
        .where(*where)
        .order_by(Activity.starts_at.desc() if past else Activity.starts_at)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    return stmt, select(func.count()).select_from(Activity).where(*where)


_PAST, _UPCOMING = _listed(True), _listed(False)
_SIGNED_UP = select(Participant.activity_id).where(Participant.user_id == bindparam("user_id"),
                                                   Participant.activity_id.in_(bindparam("ids", expanding=True)))


@bp.route("/communities/<id:community_id>/activities", endpoint="activities")
@login_required
def activities_list(community_id: int):
    community, membership = load_community(community_id)
    when = request.args.get("when", "upcoming")
    if when != "past":
        when = "upcoming"
    stmt, count = _PAST if when == "past" else _UPCOMING
    page = page_of(db.session, stmt, count, {"community_id": community.id, "now": datetime.now(portal_tz())})
    mine = set()
    if membership is not None and page.items:
        mine = set(db.session.execute(
            _SIGNED_UP, {"user_id": current_user.id, "ids": [a.id for a in page.items]}
        ).scalars())
    return render_template("communities/activities.html", community=community, membership=membership,
                           tab="activities", page=page, when=when, cards=_cards(page.items, mine),
                           can_plan=can_create_activity(current_user, community, membership))


class Card(NamedTuple):
    url: str
    title: str
    cancelled: bool
    kind: str
    when: Markup  # the times and the place
    facts: Markup  # host, hours, sign-ups
    signed_up: bool  # by the viewer
    has_minutes: bool


def _cards(items, mine: set[int]) -> list[Card]:
    """The list's cards with their words, times and links worked out once per page: a link, a label,
    two time filters and three filled-in translations per card in the template were most of the list."""
    link = url_for_ids("communities.activity", "activity_id")
    kinds = translated(ACTIVITY_KIND_LABELS)
    online = safe_translation(_("Online"))
    host, hours, signed = (safe_translation(_("Host: %(name)s")), safe_translation(_("%(h)s hours")),
                           safe_translation(_("%(n)d signed up")))
    return [
        Card(link(row.id), row.title, row.cancelled_at is not None,
             row.custom_type_name if row.custom_type_name is not None else kinds.get(row.kind, row.kind),
             _WHEN % (format_local_datetime(row.starts_at), format_local_datetime(row.ends_at, "HH:mm"),
                      online if row.is_online else row.place),
             _FACTS % (host % {"name": row.host_name}, hours % {"h": hours_text(row.hours_tenths)},
                       signed % {"n": row.signup_count}),
             row.id in mine, row.has_minutes)
        for row in items
    ]


_WHEN, _FACTS = Markup("%s–%s · %s"), Markup("%s · %s · %s")


# --- plan and change ---------------------------------------------------------------------------


def _type_choices(form: ActivityForm, community: Community) -> None:
    choices = [(code, ACTIVITY_KIND_LABELS[code]) for code in KIND_TYPES[community.kind]]
    choices += [(code, label) for code, label in ACTIVITY_KIND_LABELS.items() if code not in KIND_TYPES[community.kind]]
    custom = db.session.execute(
        select(ActivityType).where(ActivityType.is_active.is_(True)).order_by(ActivityType.name)
    ).scalars()
    choices += [(f"custom:{t.id}", t.name) for t in custom if t.community_kind in (None, community.kind)]
    form.kind.choices = choices


def _host_choices(form: ActivityForm, community: Community, activity: Activity | None) -> None:
    """Hosts: the leader and core members, the person planning, and whoever hosts now."""
    rows = db.session.execute(
        select(User.id, User.name)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.community_id == community.id, Membership.status == "active",
               (Membership.role.in_(("leader", "core"))) | (User.id == current_user.id)
               | (User.id == (activity.host_id if activity else -1)))
        .order_by(Membership.role != "leader", User.name)
        .limit(200)
    ).all()
    form.host.choices = [(uid, name) for uid, name in rows]


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=portal_tz()) if value is not None else None


def _save(form: ActivityForm, community: Community, activity: Activity | None) -> Activity | None:
    try:
        custom_type, kind = None, form.kind.data
        if kind.startswith("custom:"):
            custom_type = db.session.get(ActivityType, int(kind.partition(":")[2]))
            kind = "custom"
        return activities.save_activity(
            current_user, community, activity,
            title=form.title.data, kind=kind, custom_type=custom_type,
            starts_at=_aware(form.starts_at.data), ends_at=_aware(form.ends_at.data),
            is_online=form.is_online.data, place=form.place.data or "", online_url=form.online_url.data or "",
            host=db.session.get(User, form.host.data), description=form.description.data or "",
            hours_tenths=form.hours_tenths(), capacity=form.capacity.data,
            version=submitted_version(form) if activity is not None else None,
        )
    except DomainError as exc:
        db.session.rollback()
        form_error(form, exc, "title")
        return None


@bp.route("/communities/<id:community_id>/activities/new", methods=["GET", "POST"])
@login_required
def new_activity(community_id: int):
    community, membership = load_community(community_id)
    require(can_create_activity(current_user, community, membership))
    form = ActivityForm()
    _type_choices(form, community)
    _host_choices(form, community, None)
    if request.method == "GET":
        form.host.data = current_user.id if membership is not None else community.leader_id
    if form.validate_on_submit():
        activity = _save(form, community, None)
        if activity is not None:
            db.session.commit()
            flash(_("Activity planned; the members were told."), "success")
            return redirect(url_for("communities.activity", activity_id=activity.id))
    return render_template("communities/activity_form.html", form=form, community=community, membership=membership,
                           tab="activities", activity=None), 400 if form.errors else 200


@bp.route("/activities/<id:activity_id>/edit", methods=["GET", "POST"])
@login_required
def edit_activity(activity_id: int):
    activity, membership = load_activity(activity_id)
    community = activity.community
    require(can_edit_activity(current_user, activity, membership))
    form = ActivityForm(obj=activity)
    _type_choices(form, community)
    _host_choices(form, community, activity)
    if request.method == "GET":
        form.kind.data = f"custom:{activity.custom_type_id}" if activity.kind == "custom" else activity.kind
        form.starts_at.data = activity.starts_at.astimezone(portal_tz()).replace(tzinfo=None)
        form.ends_at.data = activity.ends_at.astimezone(portal_tz()).replace(tzinfo=None)
        form.host.data = activity.host_id
        form.hours.data = activity.hours
    if form.validate_on_submit():
        if _save(form, community, activity) is not None:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("communities.activity", activity_id=activity.id))
    return render_template("communities/activity_form.html", form=form, community=community, membership=membership,
                           tab="activities", activity=activity), form_status(form)


# --- one activity ------------------------------------------------------------------------------


@bp.route("/activities/<id:activity_id>")
@login_required
def activity(activity_id: int):
    activity, membership = load_activity(activity_id)
    community = activity.community
    readable = can_read_community(current_user, community, membership)
    editable = can_edit_activity(current_user, activity, membership)
    participants = _signed_up(activity.id) if readable or editable else []
    user_id = current_user.id
    mine = next((p for p in participants if p.user_id == user_id), None)
    if mine is None and membership is not None and not participants:
        mine = db.session.execute(_MY_SIGNUP, {"activity_id": activity.id, "user_id": user_id}).one_or_none()
    minutes_form = None
    if editable:  # the forms are the editors'
        minutes_form = MinutesForm()
        minutes_form.minutes.data = activity.minutes_html
    return render_template(
        "communities/activity.html",
        activity=activity,
        community=community,
        membership=membership,
        tab="activities",
        participants=participants,
        mine=mine,
        readable=readable,
        editable=editable,
        can_minutes=can_read_minutes(current_user, activity, membership),
        can_sign_up=can_sign_up(current_user, activity, membership) and mine is None,
        attendance_form=AttendanceForm() if editable else None,
        minutes_form=minutes_form,
        # resources attached to the activity (portal/resources/links.py)
        **resource_links.activity_context(current_user, activity, membership),
    )


def _activity_fail(exc: DomainError, activity_id: int):
    db.session.rollback()
    flash(str(exc.message), "error")
    return activity(activity_id=activity_id), exc.status


def _button(activity_id: int, action, done: str, *, editors_only: bool = False):
    """A button on the activity page: run the service, commit, or show its refusal there."""
    item, membership = load_activity(activity_id)
    if editors_only:
        require(can_edit_activity(current_user, item, membership))
    try:
        action(current_user, item)
    except DomainError as exc:
        return _activity_fail(exc, activity_id)
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("communities.activity", activity_id=activity_id))


@bp.route("/activities/<id:activity_id>/signup", methods=["POST"])
@login_required
def sign_up(activity_id: int):
    return _button(activity_id, activities.sign_up, _("You are signed up."))


@bp.route("/activities/<id:activity_id>/withdraw", methods=["POST"])
@login_required
def withdraw(activity_id: int):
    return _button(activity_id, activities.withdraw, _("You are no longer signed up."))


@bp.route("/activities/<id:activity_id>/cancel", methods=["POST"])
@login_required
def cancel(activity_id: int):
    return _button(activity_id, activities.cancel_activity,
                   _("The activity is cancelled; those signed up were told."), editors_only=True)




@bp.route("/activities/<id:activity_id>/attendance", methods=["POST"])
@login_required
def attendance(activity_id: int):
    item, membership = load_activity(activity_id)
    require(can_edit_activity(current_user, item, membership))
    form = AttendanceForm()
    try:
        if not form.validate_on_submit():
            raise Invalid(_l("The list of usernames is too long."), field="walk_ins")
        raw = request.form.getlist("present")
        if any(not (v.isascii() and v.isdigit() and len(v) < 10) for v in raw):
            raise Invalid(_l("The register was not filled in correctly; please try again."), field="present")
        present = {int(v) for v in raw}
        present |= set(user_ids_from_list(form.walk_ins.data, field="walk_ins"))
        count = activities.record_attendance(current_user, item, present)
    except DomainError as exc:
        return _activity_fail(exc, activity_id)
    db.session.commit()
    flash(_("Attendance saved: %(n)d present. Their training hours are in their ledgers.", n=count), "success")
    return redirect(url_for("communities.activity", activity_id=activity_id))


@bp.route("/activities/<id:activity_id>/minutes", methods=["POST"])
@login_required
def minutes(activity_id: int):
    item, membership = load_activity(activity_id)
    require(can_edit_activity(current_user, item, membership))
    form = MinutesForm()
    try:
        if not form.validate_on_submit():
            raise Invalid(_l("The minutes are too long."), field="minutes")
        activities.save_minutes(current_user, item, form.minutes.data or "")
    except DomainError as exc:
        return _activity_fail(exc, activity_id)
    db.session.commit()
    flash(_("Minutes saved."), "success")
    return redirect(url_for("communities.activity", activity_id=activity_id) + "#minutes")


# --- bureau-defined activity types ---------------------------------------------------------------


@bp.route("/admin/activity-types", methods=["GET", "POST"])
@require_roles(BUREAU)
def activity_types():
    require(can_manage_activity_types(current_user))
    form = ActivityTypeForm()
    if form.validate_on_submit():
        try:
            saved = activities.save_activity_type(current_user, None, name=form.name.data,
                                                  community_kind=form.community_kind.data or None)
        except DomainError as exc:
            db.session.rollback()
            form_error(form, exc, "name")
        else:
            db.session.commit()
            flash(_("Activity type %(name)s added.", name=saved.name), "success")
            return redirect(url_for("communities.activity_types"))
    types = db.session.execute(select(ActivityType).order_by(ActivityType.is_active.desc(), ActivityType.name)).scalars()
    return render_template("communities/activity_types.html", form=form, types=list(types),
                           builtin=ACTIVITY_KIND_LABELS), 400 if form.errors else 200


@bp.route("/admin/activity-types/<id:type_id>/active", methods=["POST"])
@require_roles(BUREAU)
def set_activity_type_active(type_id: int):
    activity_type = db.get_or_404(ActivityType, type_id)
    activities.set_activity_type_active(current_user, activity_type, request.form.get("active") == "1")
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(url_for("communities.activity_types"))

