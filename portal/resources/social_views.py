"""Pages: rating, "used in my class" and comments on a resource (forms shown on its detail page),
the per-school view of resources shared and used (urban → rural flow), and attaching resources
to community activities.

A resource the person cannot see is a 404 on every route here.
"""

from __future__ import annotations

import io

from flask import abort, current_app, flash, g, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from openpyxl import Workbook

from ..core.authz import require
from ..core.errors import DomainError, Invalid
from ..core.exports import XLSX_MIMETYPE, cell
from ..core.forms import form_error
from ..core.i18n import gettext as _
from ..core.labels import RESOURCE_KIND_LABELS, SCHOOL_KIND_LABELS, label
from ..core.timeutil import local_today
from ..core.validate import BadRequest
from ..extensions import db
from ..org.models import School
from . import links, social
from .blueprint import bp
from .models import KINDS, Resource, ResourceComment
from .permissions import (
    can_delete_comment,
    can_edit_comment,
    can_mark_used,
    can_rate,
    can_view_resource,
    can_view_school_flows,
)
from .social_forms import CommentForm, RatingForm, UseForm

YEARS_SHOWN = 5


def _load_resource(resource_id: int) -> Resource:
    resource = db.session.get(Resource, resource_id)
    if resource is None or not can_view_resource(current_user, resource):
        abort(404)
    return resource


def _detail(resource: Resource, anchor: str = "") -> str:
    return url_for("resources.resource", resource_id=resource.id) + anchor


def _status(exc: DomainError) -> int:
    return 400 if exc.status == 422 else exc.status


def _rerender(resource: Resource, status: int, message: str, **forms):
    """The detail page again, the failed form showing its error, with a 4xx status."""
    db.session.rollback()
    g.social_forms = forms
    view = current_app.view_functions.get("resources.resource")
    if view is None:  # the detail page is not there: a plain error page says what went wrong
        return render_template("errors/error.html", status=status, message=message), status
    response = current_app.make_response(view(resource_id=resource.id))
    response.status_code = status
    return response


# --- rating, used, comments --------------------------------------------------------------------------


@bp.route("/resources/<id:resource_id>/rating", methods=["POST"])
@login_required
def rate(resource_id: int):
    resource = _load_resource(resource_id)
    require(can_rate(current_user, resource))
    form = RatingForm()
    try:
        form.validate_on_submit()
        social.rate_resource(current_user, resource, form.stars.data)
    except DomainError as exc:
        form_error(form, exc, "stars")
        return _rerender(resource, _status(exc), str(exc.message), rating=form)
    db.session.commit()
    flash(_("Thank you: your rating is saved."), "success")
    return redirect(_detail(resource, "#rating"))


@bp.route("/resources/<id:resource_id>/used", methods=["POST"])
@login_required
def mark_used(resource_id: int):
    resource = _load_resource(resource_id)
    require(can_mark_used(current_user, resource))
    if request.form.get("remove") == "1":
        social.unmark_used(current_user, resource)
        db.session.commit()
        flash(_("Your mark is removed."), "success")
        return redirect(_detail(resource, "#used"))
    form = UseForm()
    try:
        if not form.validate_on_submit():
            field = next(iter(form.errors), "used_on")
            raise Invalid(form.errors[field][0], field=field)
        social.mark_used(current_user, resource, used_on=form.used_on.data, note=form.note.data or "")
    except DomainError as exc:
        form.used_on.errors, form.note.errors = [], []
        form_error(form, exc, "used_on")
        return _rerender(resource, _status(exc), str(exc.message), use=form)
    db.session.commit()
    flash(_("Marked as used in your class."), "success")
    return redirect(_detail(resource, "#used"))


@bp.route("/resources/<id:resource_id>/comments", methods=["POST"])
@login_required
def add_comment(resource_id: int):
    resource = _load_resource(resource_id)
    form = CommentForm()
    try:
        if not form.validate_on_submit():
            raise Invalid(form.body.errors[0] if form.body.errors else _("Please write something."), field="body")
        comment = social.add_comment(current_user, resource, body=form.body.data)
    except DomainError as exc:
        form.body.errors = []
        form_error(form, exc, "body")
        return _rerender(resource, _status(exc), str(exc.message), comment=form)
    db.session.commit()
    flash(_("Comment posted."), "success")
    return redirect(_detail(resource, f"#comment-{comment.id}"))


def _load_comment(comment_id: int) -> tuple[ResourceComment, Resource]:
    comment = db.session.get(ResourceComment, comment_id)
    if comment is None or comment.deleted_at is not None:
        abort(404)
    return comment, _load_resource(comment.resource_id)


@bp.route("/resource-comments/<id:comment_id>/edit", methods=["GET", "POST"])
@login_required
def edit_comment(comment_id: int):
    comment, resource = _load_comment(comment_id)
    require(can_edit_comment(current_user, comment, resource))
    from ..communities.discussions import editable_text

    form = CommentForm(data={"body": editable_text(comment.body_html)})
    if form.validate_on_submit():
        try:
            social.edit_comment(current_user, comment, resource, body=form.body.data)
        except DomainError as exc:
            db.session.rollback()
            form_error(form, exc, "body")
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(_detail(resource, f"#comment-{comment.id}"))
    return render_template("resources/comment_form.html", form=form, comment=comment,
                           resource=resource), 400 if form.errors else 200


@bp.route("/resource-comments/<id:comment_id>/delete", methods=["POST"])
@login_required
def delete_comment(comment_id: int):
    comment, resource = _load_comment(comment_id)
    require(can_delete_comment(current_user, comment, resource))
    social.delete_comment(current_user, comment, resource)
    db.session.commit()
    flash(_("The comment was deleted."), "success")
    return redirect(_detail(resource, "#comments"))


# --- a school's resources: shared and used -----------------------------------------------------------


def _school_year() -> int:
    current = social.current_school_year()
    raw = request.args.get("year", "")
    if not raw:
        return current
    if not (raw.isascii() and raw.isdigit() and len(raw) == 4 and 2000 <= int(raw) <= current + 1):
        raise BadRequest(_("year must be a school year from 2000 to %(y)d.", y=current + 1), field="year")
    return int(raw)


def _flows(school_id: int):
    school = db.get_or_404(School, school_id)
    require(can_view_school_flows(current_user, school))
    year = _school_year()
    row = social.school_flows([school.id], year)[0]
    return school, year, row, social.top_shared(current_user, school, year), \
        social.top_received(current_user, school, year)


@bp.route("/schools/<id:school_id>/resources", endpoint="school_resources")
@login_required
def school_resources(school_id: int):
    school, year, row, shared, received = _flows(school_id)
    current = social.current_school_year()
    return render_template("resources/school.html", school=school, year=year, row=row, top_shared=shared,
                           top_received=received, years=range(current, current - YEARS_SHOWN, -1),
                           kinds=KINDS)




@bp.route("/schools/<id:school_id>/resources/export.xlsx", endpoint="school_resources_export")
@login_required
def school_resources_export(school_id: int):
    school, year, row, shared, received = _flows(school_id)
    book = Workbook()
    sheet = book.active
    sheet.title = _("Summary")[:31]
    sheet.append([cell(school.name), f"{year}-{year + 1}"])
    sheet.append([_("Resources shared"), row.shared])
    for kind in KINDS:
        if row.shared_by_kind.get(kind):
            sheet.append([str(label(RESOURCE_KIND_LABELS, kind)), row.shared_by_kind[kind]])
    sheet.append([_("Downloads by urban schools"), row.downloaded_by_urban])
    sheet.append([_("Downloads by rural schools"), row.downloaded_by_rural])
    sheet.append([_("Used in class by urban schools"), row.used_by_urban])
    sheet.append([_("Used in class by rural schools"), row.used_by_rural])
    sheet.append([_("Resources taken from urban schools"), row.received_from_urban])
    sheet.append([_("Resources taken from rural schools"), row.received_from_rural])
    for title, rows in ((_("Most used by others"), shared), (_("Most taken from others"), received)):
        ws = book.create_sheet(title[:31])
        ws.append([_("Title"), _("Kind"), _("Shared by"), _("School"), _("School kind"), _("Downloads"),
                   _("Used in class")])
        for top in rows:
            r = top.resource
            ws.append([cell(r.title), str(label(RESOURCE_KIND_LABELS, r.kind)), cell(r.owner.name),
                       cell(top.school_name), str(label(SCHOOL_KIND_LABELS, top.school_kind)), top.downloads,
                       top.uses])
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return send_file(buffer, as_attachment=True,
                     mimetype=XLSX_MIMETYPE,
                     download_name=f"school-{school.id}-resources-{year}-{local_today():%Y%m%d}.xlsx")


# --- resources of a community activity ---------------------------------------------------------------


def _activity_url(activity_id: int) -> str:
    return url_for("communities.activity", activity_id=activity_id) + "#resources"


@bp.route("/activities/<id:activity_id>/resources", methods=["POST"])
@login_required
def attach_to_activity(activity_id: int):
    activity, membership = links.load_activity(activity_id, current_user)
    require(links.ACTIVITY.can_attach(current_user, activity))
    raw = request.form.get("resource_id", "")
    if not (raw.isascii() and raw.isdigit() and len(raw) < 10):
        raise BadRequest(_("Choose a resource to attach."), field="resource_id")
    resource = _load_resource(int(raw))
    if links.attach_to_activity(current_user, activity, resource):
        db.session.commit()
        flash(_("“%(title)s” is attached to the activity.", title=resource.title), "success")
    else:
        flash(_("“%(title)s” was attached already.", title=resource.title), "info")
    return redirect(_activity_url(activity.id))


@bp.route("/activities/<id:activity_id>/resources/<id:resource_id>/remove", methods=["POST"])
@login_required
def detach_from_activity(activity_id: int, resource_id: int):
    activity, membership = links.load_activity(activity_id, current_user)
    require(links.ACTIVITY.can_attach(current_user, activity))
    resource = _load_resource(resource_id)
    if links.detach_from_activity(current_user, activity, resource):
        db.session.commit()
        flash(_("“%(title)s” is no longer attached.", title=resource.title), "success")
    return redirect(_activity_url(activity.id))

