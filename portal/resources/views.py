"""Pages of the resource library: the list and search, one resource (preview, versions, download),
sharing, changing, new versions, taking down, downloads and inline previews.

Every route loads the resource and asks ``can_view_resource`` first: a resource the person may
not see is a 404 everywhere (its existence is private), then the action's own predicate (403).
"""

from __future__ import annotations

import importlib.util
import logging
from functools import lru_cache

from flask import abort, flash, redirect, render_template, request, send_file, session, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required
from jinja2.filters import do_filesizeformat as filesizeformat
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.datastructures import MultiDict

from ..core.authz import require
from ..core.errors import DomainError
from ..core.forms import form_error
from ..core.i18n import gettext as _
from ..core.labels import (
    EDITION_LABELS,
    GRADE_LABELS,
    RESOURCE_KIND_LABELS,
    STAGE_LABELS,
    SUBJECT_LABELS,
    VISIBILITY_LABELS,
    translated,
)
from ..core.locking import submitted_version
from ..core.pagination import page_args
from ..core.sqlite import writes_on_get
from ..core.templating import format_local_date, url_for_ids
from ..core.uploads import clean_filename, extensions_of, send_upload, upload_path
from ..extensions import db
from . import (
    services,
    social_views,  # noqa: F401  (its routes join this blueprint)
)
from .blueprint import bp
from .forms import FilterForm, ResourceForm, VersionForm
from .models import Resource, ResourceVersion
from .permissions import can_delete_resource, can_edit_resource, can_share, can_view_resource

__all__ = ["bp"]

audit = logging.getLogger("portal.audit")

# The inline preview runs nothing: a sandboxed document (no scripts, no forms, no plugins
# beyond the browser's own viewers), nothing fetched but itself, framed only by the portal.
PREVIEW_CSP = ("sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; "
               "frame-ancestors 'self'")
SEEN_KEY = "resource_views"
# The list counts matches up to here and then says "more than 1,000" (50 pages): nobody pages that
# far, and counting everything a city can see (200,000 resources) cost more than finding the page.
RESOURCES_COUNTED = 1_000


def _load(resource_id: int) -> Resource:
    resource = db.session.execute(
        select(Resource).where(Resource.id == resource_id)
        .options(joinedload(Resource.owner), joinedload(Resource.school), joinedload(Resource.current_version),
                 selectinload(Resource.audiences))
    ).scalar_one_or_none()
    if resource is None:
        abort(404)
    require(can_view_resource(current_user, resource), hide=True)
    return resource


def _load_version(version_id: int) -> tuple[ResourceVersion, Resource]:
    version = db.session.get(ResourceVersion, version_id)
    if version is None:
        abort(404)
    return version, _load(version.resource_id)


# The services name these fields as the API does; the form names them as the page shows them.
FIELD_ALIASES = {"community_ids": "communities", "partnership_ids": "partnerships"}


# --- the list ------------------------------------------------------------------------------------


def _choice(value, choices):
    return value if value in choices else None


def _cards(items: list[services.ResourceCard]) -> Markup:
    """The page's cards as HTML, written here rather than by the template: their labels and
    sentences translated and escaped once per page, each card one string. Twenty cards of a dozen
    values each, looked up and escaped one by one in the template, cost more than the rest of the
    list's page. The markup is the one ``resources/index.html`` had, character for character."""
    link = url_for_ids("resources.resource", "resource_id")
    kinds, subjects, stages, grades, editions, levels = (
        translated(mapping, escaped=True) for mapping in (RESOURCE_KIND_LABELS, SUBJECT_LABELS, STAGE_LABELS,
                                                          GRADE_LABELS, EDITION_LABELS, VISIBILITY_LABELS))
    # Sentences of our catalogue, escaped once, filled with numbers only (Markup's own ``%`` wraps
    # every value it fills in: a fifth of the cards' time).
    rating, downloads = str(escape(_("Rating: %(r)s / 5"))), str(escape(_("Downloads: %(n)d")))
    a_link = str(escape(_("Link")))
    cards = []
    for r in items:
        facts = [subjects.get(r.subject) or escape(r.subject), stages.get(r.stage) or escape(r.stage)]
        if r.grade:
            facts.append(grades.get(r.grade) or str(r.grade))
        if r.edition:
            facts.append(editions.get(r.edition) or escape(r.edition))
        byline = escape(r.owner_name) if r.school_name is None else f"{escape(r.owner_name)} · {escape(r.school_name)}"
        stats = [downloads % {"n": r.download_count}]
        if r.rating:
            stats.insert(0, rating % {"r": float(r.rating)})
        if r.is_link:
            stats.append(a_link)
        elif r.size is not None:
            stats.append(escape(filesizeformat(r.size)))
        level = "" if r.visibility == "public" else (
            f' <span class="tag">{levels.get(r.visibility) or escape(r.visibility)}</span>')
        cards.append(
            f'  <li class="card resource-card">\n'
            f'    <h2><a href="{escape(link(r.id))}">{escape(r.title)}</a></h2>\n'
            f'    <p class="muted"><span class="tag">{kinds.get(r.kind) or escape(r.kind)}</span> '
            f'{" · ".join(facts)}{level}</p>\n'
            f'    <p>{byline} · {format_local_date(r.created_at)}</p>\n'
            f'    <p class="muted resource-stats"><span>{"</span> · <span>".join(stats)}</span></p>\n'
            f'  </li>\n')
    return Markup("".join(cards))  # noqa: S704  (every value in it escaped here)


@lru_cache(maxsize=256)
def _filter_bar_html(language: str, args: tuple[tuple[str, str], ...]) -> Markup:
    """The filter form filled in with ``args`` in ``language`` (the request's): a pure function
    of the two, kept for the lists asked for again and again (the library's first page, a
    subject, a common word, the pages of one search). Forty options and eight fields written by
    WTForms and the template cost a tenth of the list's page."""
    return Markup(render_template("resources/_filters.html", form=FilterForm(MultiDict(args))))  # noqa: S704


def _filter_bar() -> Markup:
    args = request.args
    return _filter_bar_html(str(get_locale()), tuple((name, value) for name in _FILTER_FIELDS
                                                     for value in args.getlist(name)))


_FILTER_FIELDS = ("q", "subject", "stage", "grade", "kind", "edition", "sort", "mine")  # FilterForm's fields


@bp.route("/resources")
@login_required
def index():
    form = FilterForm(request.args)
    grade = form.grade.data or ""
    number, per_page = page_args()
    page = services.resource_page(
        current_user,
        page=number,
        per_page=per_page,
        count_up_to=RESOURCES_COUNTED,
        q=form.q.data,
        subject=_choice(form.subject.data, SUBJECT_LABELS),
        stage=_choice(form.stage.data, services.STAGES),
        grade=int(grade) if grade.isascii() and grade.isdigit() and 1 <= int(grade) <= 12 else None,
        kind=_choice(form.kind.data, RESOURCE_KIND_LABELS),
        edition=_choice(form.edition.data, EDITION_LABELS),
        sort=_choice(form.sort.data, services.SORTS),
        mine=bool(form.mine.data),
    )
    return render_template("resources/index.html", page=page, filters=_filter_bar(), can_share=can_share(current_user),
                           searching=bool(services.normalise_query(form.q.data)), cards=_cards(page.items))


# --- one resource --------------------------------------------------------------------------------


def _social_context(resource: Resource) -> dict:
    """Ratings, comments and "used in my class" (portal/resources/social.py), once it exists."""
    if importlib.util.find_spec(f"{__package__}.social") is None:
        return {}
    from .social import social_context

    return social_context(current_user, resource)


def _count_view(resource: Resource) -> None:
    seen = session.get(SEEN_KEY)
    seen = dict(seen) if isinstance(seen, dict) else {}
    before = dict(seen)
    if services.record_view(current_user, resource, seen):
        db.session.commit()
    if seen != before:
        session[SEEN_KEY] = seen


@bp.route("/resources/<id:resource_id>")
@login_required
def resource(resource_id: int):
    resource = _load(resource_id)
    if request.method == "GET":  # not when a failed rating or comment form shows the page again
        _count_view(resource)
    editable = can_edit_resource(current_user, resource)
    return render_template(
        "resources/resource.html", resource=resource, versions=services.versions_of(resource),
        preview=services.preview_kind(resource.current_version), editable=editable,
        deletable=can_delete_resource(current_user, resource),
        audiences=services.audience_names(resource) if editable or current_user.role == "bureau" else [],
        **_social_context(resource),
    )


# --- sharing and changing ----------------------------------------------------------------------------


def _prepare(form: ResourceForm, resource: Resource | None = None) -> None:
    communities = [(c.id, c.name) for c in services.shareable_communities(current_user)]
    partnerships = [(p.id, p.name) for p in services.shareable_partnerships(current_user)]
    if resource is not None:  # audiences it already has stay choosable
        from ..communities.models import Community
        from ..partnerships.models import Partnership

        have = {c for c, _name in communities}
        extra = [a.community_id for a in resource.audiences if a.community_id and a.community_id not in have]
        if extra:
            communities += db.session.execute(select(Community.id, Community.name)
                                              .where(Community.id.in_(extra))).tuples().all()
        have = {p for p, _name in partnerships}
        extra = [a.partnership_id for a in resource.audiences if a.partnership_id and a.partnership_id not in have]
        if extra:
            partnerships += db.session.execute(select(Partnership.id, Partnership.name)
                                               .where(Partnership.id.in_(extra))).tuples().all()
    form.communities.choices = communities
    form.partnerships.choices = partnerships


def _values(form: ResourceForm) -> dict:
    return dict(title=form.title.data or "", description=form.description.data or "", kind=form.kind.data,
                subject=form.subject.data, stage=form.stage.data, grade=form.grade.data,
                edition=form.edition.data or "", unit=form.unit.data or "", tags=form.tags.data or "",
                visibility=form.visibility.data, community_ids=form.communities.data or [],
                partnership_ids=form.partnerships.data or [])


def _render_form(form: ResourceForm, resource: Resource | None, status: int = 200):
    return render_template("resources/form.html", form=form, resource=resource,
                           accept=",".join("." + e for e in extensions_of(services.FILE_KINDS)),
                           max_mb=services.max_upload_bytes() // (1024 * 1024)), status


@bp.route("/resources/new", methods=["GET", "POST"])
@login_required
def new_resource():
    require(can_share(current_user))
    form = ResourceForm()
    _prepare(form)
    if request.method == "GET":
        if current_user.subjects:
            form.subject.data = current_user.subjects[0]
        return _render_form(form, None)
    if form.validate_on_submit():
        try:
            resource = services.share_resource(current_user, **_values(form), file=form.file.data,
                                               link_url=form.link_url.data or None)
        except DomainError as exc:
            db.session.rollback()
            form_error(form, exc, "title", FIELD_ALIASES)
            return _render_form(form, None, exc.status)
        db.session.commit()
        flash(_("Shared."), "success")
        return redirect(url_for("resources.resource", resource_id=resource.id))
    return _render_form(form, None, 400)


@bp.route("/resources/<id:resource_id>/edit", methods=["GET", "POST"])
@login_required
def edit_resource(resource_id: int):
    resource = _load(resource_id)
    require(can_edit_resource(current_user, resource))
    form = ResourceForm()
    _prepare(form, resource)
    if request.method == "GET":
        for name in ("title", "description", "kind", "subject", "stage", "edition", "unit", "tags", "visibility",
                     "link_url"):
            getattr(form, name).data = getattr(resource, name)
        form.grade.data = str(resource.grade) if resource.grade else ""
        form.communities.data = [a.community_id for a in resource.audiences if a.community_id]
        form.partnerships.data = [a.partnership_id for a in resource.audiences if a.partnership_id]
        form.version.data = resource.version
        return _render_form(form, resource)
    if form.validate_on_submit():
        try:
            services.update_resource(current_user, resource, **_values(form),
                                     link_url=form.link_url.data if resource.is_link else None,
                                     version=submitted_version(form))
        except DomainError as exc:
            db.session.rollback()
            form_error(form, exc, "title", FIELD_ALIASES)
            return _render_form(form, resource, exc.status)
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("resources.resource", resource_id=resource.id))
    return _render_form(form, resource, 400)


@bp.route("/resources/<id:resource_id>/delete", methods=["POST"])
@login_required
def delete_resource(resource_id: int):
    resource = _load(resource_id)
    require(can_delete_resource(current_user, resource))
    services.delete_resource(current_user, resource)
    db.session.commit()
    flash(_("The resource is taken down."), "success")
    return redirect(url_for("resources.index"))


@bp.route("/resources/<id:resource_id>/versions/new", methods=["GET", "POST"])
@login_required
def new_version(resource_id: int):
    resource = _load(resource_id)
    require(can_edit_resource(current_user, resource))
    if resource.is_link:
        abort(404)
    form = VersionForm()

    def render(status=200):
        return render_template("resources/version_form.html", form=form, resource=resource,
                               accept=",".join("." + e for e in extensions_of(services.FILE_KINDS)),
                               max_mb=services.max_upload_bytes() // (1024 * 1024)), status

    if request.method == "GET":
        return render()
    if form.validate_on_submit():
        try:
            version = services.add_version(current_user, resource, form.file.data, form.note.data or "")
        except DomainError as exc:
            db.session.rollback()
            form_error(form, exc, "file", FIELD_ALIASES)
            return render(exc.status)
        db.session.commit()
        flash(_("Version %(n)d is uploaded.", n=version.number), "success")
        return redirect(url_for("resources.resource", resource_id=resource.id) + "#versions")
    return render(400)


# --- files ---------------------------------------------------------------------------------------


def _download(resource: Resource, version: ResourceVersion | None):
    if version is None:
        abort(404)  # a link, or a resource whose file is gone
    response = send_upload(version.stored_name, version.original_name, version.content_type)
    services.record_download(current_user, resource, version, response)
    db.session.commit()
    audit.info("resource downloaded id=%s version=%s by=%s", resource.id, version.id, current_user.id)
    return response


@bp.route("/resources/<id:resource_id>/download")
@writes_on_get  # the download row and counter
@login_required
def download(resource_id: int):
    resource = _load(resource_id)
    return _download(resource, resource.current_version)


@bp.route("/versions/<id:version_id>/download")
@writes_on_get
@login_required
def download_version(version_id: int):
    version, resource = _load_version(version_id)
    return _download(resource, version)


def _preview(version: ResourceVersion | None):
    """The file shown inline: only images, PDF, audio and MP4 video, typed by the stored extension,
    sandboxed and nosniff. Every other type has no preview (404): it is downloaded."""
    if version is None or services.preview_kind(version) is None:
        abort(404)
    response = send_file(upload_path(version.stored_name), mimetype=services.preview_content_type(version),
                         as_attachment=False, download_name=clean_filename(version.original_name) or None,
                         conditional=True, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = PREVIEW_CSP
    response.headers["Cache-Control"] = "private, max-age=0"
    return response


@bp.route("/resources/<id:resource_id>/preview")
@login_required
def preview(resource_id: int):
    return _preview(_load(resource_id).current_version)


@bp.route("/versions/<id:version_id>/preview")
@login_required
def preview_version(version_id: int):
    version, _resource = _load_version(version_id)
    return _preview(version)
