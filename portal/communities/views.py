"""Pages: the community list, a community's page, its members and join requests."""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import aliased

from ..accounts.models import User
from ..core.authz import BUREAU, PRINCIPAL, RESEARCHER, TEACHER, require, require_roles
from ..core.errors import DomainError, Invalid
from ..core.forms import form_error
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.i18n import safe_translation
from ..core.labels import (
    COMMUNITY_KIND_SHORT,
    COMMUNITY_LEVEL_LABELS,
    MEMBER_ROLE_LABELS,
    STAGE_LABELS,
    SUBJECT_LABELS,
    translated,
)
from ..core.models import plain_rows
from ..core.pagination import page_of
from ..core.sanitize import LIKE_ESCAPE, like_text, strip_controls
from ..core.templating import format_local_datetime, nav_item, url_for_ids
from ..core.timeutil import local_now
from ..extensions import db
from ..org.models import County, School
from . import activity_views, discussion_views, hours_views, member_views, project_views, services  # noqa: F401  (routes on bp)
from .blueprint import bp
from .forms import CommunityFilterForm, CommunityForm, DescriptionForm, JoinForm
from .models import KINDS, Activity, Community, Membership, Thread, hours_text
from .pages import fail, find_user, load_community
from .permissions import (
    can_ask_to_join,
    can_create_activity,
    can_create_community,
    can_leave,
    can_manage_community,
    can_manage_members,
    can_read_community,
)

__all__ = ["bp"]

nav_item("communities.index", _l("Communities"), (BUREAU, RESEARCHER, PRINCIPAL, TEACHER), after="accounts.home")


# --- list ------------------------------------------------------------------------------------


_MINE = aliased(Membership)
_LEADER = aliased(User)


@cache
def _index_statements(scoped: bool, active_only: bool, named: bool, of_kind: bool, mine_only: bool):
    """The list's page and count statements for one combination of filters, built once (SQLAlchemy
    then reuses their cache keys); the values come in as bind parameters. The page's columns
    only: no descriptions."""
    where = []
    if scoped:
        where.append(or_(Community.county_id.is_(None), Community.county_id == bindparam("scope")))
    if active_only:
        where.append(Community.is_active.is_(True))
    if named:
        where.append(Community.name.contains(bindparam("q"), escape=LIKE_ESCAPE))
    if of_kind:
        where.append(Community.kind == bindparam("kind"))
    if mine_only:
        where.append(_MINE.status.in_(("active", "pending")))
    my_membership = and_(_MINE.community_id == Community.id, _MINE.user_id == bindparam("user_id"))
    stmt = (
        select(Community.id, Community.name, Community.kind, Community.subject, Community.stage,
               Community.member_count, Community.is_active, _LEADER.name.label("leader_name"),
               _MINE.status.label("my_status"), _MINE.role.label("my_role"), County.name.label("county_name"))
        .outerjoin(_LEADER, _LEADER.id == Community.leader_id)
        .outerjoin(_MINE, my_membership)
        .outerjoin(County, County.id == Community.county_id)
        .where(*where)
        .order_by(Community.is_active.desc(), Community.kind, County.name.is_not(None), County.name, Community.name)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    # The outer joins are to at most one row each (a leader, a county, one membership per person),
    # so they change no count; only the "mine" filter needs the membership.
    count = select(func.count()).select_from(Community)
    if mine_only:
        count = count.outerjoin(_MINE, my_membership)
    return stmt, count.where(*where)


@bp.route("/communities")
@login_required
def index():
    form = CommunityFilterForm(request.args)
    params = {"user_id": current_user.id}
    city_bureau = current_user.role == BUREAU and current_user.county_id is None
    scope = None if city_bureau else current_user.scope_county_id
    if scope is not None:
        params["scope"] = scope
    query = strip_controls(form.q.data or "").strip()
    if query:
        params["q"] = like_text(query)
    if form.kind.data in KINDS:
        params["kind"] = form.kind.data
    stmt, count = _index_statements(scope is not None, current_user.role != BUREAU, bool(query),
                                    form.kind.data in KINDS, bool(form.mine.data))
    page = page_of(db.session, stmt, count, params)
    return render_template("communities/index.html", page=page, form=form, cards=_cards(page.items),
                           can_create=can_create_community(current_user))


class Card(NamedTuple):
    url: str
    name: str
    is_active: bool
    kind: str
    where: str  # the county, or "city level"
    subject: str | None
    stage: str | None
    leader: Markup | None
    members: Markup
    my_status: str | None
    my_role: str | None  # of an active member


def _cards(rows) -> list[Card]:
    """The list's cards with their words and links worked out once per page: labels, filled-in
    translations and a link per card in the template were two thirds of the list's time."""
    link = url_for_ids("communities.community", "community_id")
    kinds, subjects, stages = translated(COMMUNITY_KIND_SHORT), translated(SUBJECT_LABELS), translated(STAGE_LABELS)
    roles = translated(MEMBER_ROLE_LABELS)
    city = str(COMMUNITY_LEVEL_LABELS["city"])
    leader, members = safe_translation(_("Leader: %(name)s")), safe_translation(_("%(n)d members"))
    return [
        Card(link(row.id), row.name, row.is_active, kinds.get(row.kind, row.kind), row.county_name or city,
             subjects.get(row.subject, row.subject) if row.subject else None,
             stages.get(row.stage, row.stage) if row.stage else None,
             leader % {"name": row.leader_name} if row.leader_name else None, members % {"n": row.member_count},
             row.my_status, roles.get(row.my_role, row.my_role) if row.my_status == "active" else None)
        for row in rows
    ]


# --- create and edit (bureau) ------------------------------------------------------------------


def _county_choices(form: CommunityForm) -> None:
    stmt = select(County.id, County.name).order_by(County.name)
    if current_user.county_id is not None:
        stmt = stmt.where(County.id == current_user.county_id)
    form.county_id.choices = [(0, "—")] + [(cid, name) for cid, name in db.session.execute(stmt)]


def _save_from_form(form: CommunityForm, community: Community | None) -> Community | None:
    try:
        county = db.session.get(County, form.county_id.data) if form.county_id.data else None
        return services.save_community(
            current_user,
            community,
            kind=form.kind.data,
            level=form.level.data,
            county=county,
            name=form.name.data,
            description=form.description.data or "",
            subject=form.subject.data or None,
            stage=form.stage.data or None,
            leader=find_user(form.leader.data, "leader"),
        )
    except DomainError as exc:
        db.session.rollback()
        form_error(form, exc, "name")
        return None


@bp.route("/communities/new", methods=["GET", "POST"])
@require_roles(BUREAU)
def new_community():
    form = CommunityForm()
    _county_choices(form)
    if request.method == "GET":
        form.kind.data = request.args.get("kind") if request.args.get("kind") in KINDS else "teacher"
        form.county_id.data = current_user.county_id or 0
    if form.validate_on_submit():
        community = _save_from_form(form, None)
        if community is not None:
            db.session.commit()
            flash(_("Community %(name)s created.", name=community.name), "success")
            return redirect(url_for("communities.community", community_id=community.id))
    return render_template("communities/form.html", form=form, community=None), 400 if form.errors else 200


@bp.route("/communities/<id:community_id>/edit", methods=["GET", "POST"])
@login_required
def edit_community(community_id: int):
    community, membership = load_community(community_id)
    if not can_manage_community(current_user, community):
        return _edit_description(community, membership)
    form = CommunityForm()
    _county_choices(form)
    if request.method == "GET":
        form.kind.data, form.name.data, form.level.data = community.kind, community.name, community.level
        form.county_id.data = community.county_id or 0
        form.leader.data = community.leader.username if community.leader else ""
        form.description.data = community.description_html
        form.subject.data, form.stage.data = community.subject or "", community.stage or ""
    if form.validate_on_submit():
        if _save_from_form(form, community) is not None:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("communities.community", community_id=community.id))
    return render_template("communities/form.html", form=form, community=community), 400 if form.errors else 200


def _edit_description(community: Community, membership: Membership | None):
    require(can_manage_members(current_user, community, membership))
    form = DescriptionForm()
    if request.method == "GET":
        form.description.data = community.description_html
    if form.validate_on_submit():
        try:
            services.update_description(current_user, community, form.description.data or "")
        except DomainError as exc:
            db.session.rollback()
            form_error(form, exc, "description")
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("communities.community", community_id=community.id))
    return render_template("communities/description_form.html", form=form, community=community,
                           membership=membership, tab="overview"), 400 if form.errors else 200


@bp.route("/communities/<id:community_id>/active", methods=["POST"])
@require_roles(BUREAU)
def set_community_active(community_id: int):
    community, _membership = load_community(community_id)
    require(can_manage_community(current_user, community))
    services.set_community_active(current_user, community, request.form.get("active") == "1")
    db.session.commit()
    flash(_("The community was reopened.") if community.is_active else _("The community was closed."), "success")
    return redirect(url_for("communities.community", community_id=community.id))


# --- a community's page ------------------------------------------------------------------------


# The overview's lists, built once with their values as bind parameters, as rows of the columns
# shown (no descriptions, bodies or whole accounts).
_UPCOMING = (
    select(Activity.id, Activity.title, Activity.starts_at, Activity.is_online, Activity.place,
           Activity.hours_tenths)
    .where(Activity.community_id == bindparam("community_id"), Activity.ends_at >= bindparam("now"),
           Activity.cancelled_at.is_(None))
    .order_by(Activity.starts_at)
    .limit(5)
)
_LATEST_THREADS = (
    select(Thread.id, Thread.title, Thread.reply_count, Thread.last_post_at, User.name.label("author_name"))
    .join(User, User.id == Thread.author_id)
    .where(Thread.community_id == bindparam("community_id"), Thread.deleted_at.is_(None))
    .order_by(Thread.last_post_at.desc())
    .limit(5)
)
_CORE = (
    select(User.id, User.name, User.school_id, School.name.label("school_name"))
    .join(Membership, Membership.user_id == User.id)
    .outerjoin(School, School.id == User.school_id)
    .where(Membership.community_id == bindparam("community_id"), Membership.status == "active",
           Membership.role.in_(("leader", "core")))
    .order_by(Membership.role.desc(), User.name)
    .limit(12)
)


@bp.route("/communities/<id:community_id>", endpoint="community")
@login_required
def show_community(community_id: int):
    community, membership = load_community(community_id)
    readable = can_read_community(current_user, community, membership)
    params = {"community_id": community.id}
    upcoming = plain_rows(_UPCOMING, {**params, "now": local_now()}).all()  # columns: plain rows
    threads = plain_rows(_LATEST_THREADS, params).all() if readable else []
    core = plain_rows(_CORE, params).all()
    can_join = can_ask_to_join(current_user, community, membership)
    return render_template(
        "communities/community.html",
        community=community,
        membership=membership,
        tab="overview",
        readable=readable,
        upcoming=_upcoming_lines(upcoming),
        threads=_thread_lines(threads),
        core=core,
        join_form=JoinForm() if can_join else None,
        can_join=can_join,
        can_leave=can_leave(current_user, community, membership),
        can_manage=can_manage_community(current_user, community),
        can_manage_members=can_manage_members(current_user, community, membership),
        can_plan=can_create_activity(current_user, community, membership),
    )


class Line(NamedTuple):
    """A line of the overview's lists: a link, its text and the words under it."""

    url: str
    title: str
    hint: Markup


def _upcoming_lines(rows) -> list[Line]:
    """The coming activities with their words and links worked out here: a link, a filled-in
    translation and a time per line in the template were most of the overview's lists."""
    link = url_for_ids("communities.activity", "activity_id")
    online, hours = safe_translation(_("Online")), safe_translation(_("%(h)s hours"))
    return [Line(link(row.id), row.title, _HINT % (format_local_datetime(row.starts_at),
                                                     online if row.is_online else row.place,
                                                     hours % {"h": hours_text(row.hours_tenths)}))
            for row in rows]


def _thread_lines(rows) -> list[Line]:
    link = url_for_ids("communities.thread", "thread_id")
    replies = safe_translation(_("%(n)d replies"))
    return [Line(link(row.id), row.title, _HINT % (row.author_name, replies % {"n": row.reply_count},
                                                     format_local_datetime(row.last_post_at)))
            for row in rows]


_HINT = Markup("%s · %s · %s")


@bp.route("/communities/<id:community_id>/join", methods=["POST"])
@login_required
def join(community_id: int):
    community, _membership = load_community(community_id)
    form = JoinForm()
    try:
        if not form.validate_on_submit():
            raise Invalid(_l("Please write at most 200 characters."), field="note")
        services.ask_to_join(current_user, community, form.note.data or "")
    except DomainError as exc:
        return fail(exc, show_community, community_id=community.id)
    db.session.commit()
    flash(_("Your request was sent to the leader. You will be told when it is answered."), "success")
    return redirect(url_for("communities.community", community_id=community.id))


@bp.route("/communities/<id:community_id>/leave", methods=["POST"])
@login_required
def leave(community_id: int):
    community, _membership = load_community(community_id)
    try:
        services.leave(current_user, community)
    except DomainError as exc:
        return fail(exc, show_community, community_id=community.id)
    db.session.commit()
    flash(_("You left %(name)s.", name=community.name), "success")
    return redirect(url_for("communities.community", community_id=community.id))
