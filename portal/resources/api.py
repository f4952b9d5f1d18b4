"""API: resources (CONTRACT.md): share one (multipart), list and search them, download the file.

The same visibility as the pages (``visible_resources`` / ``can_view_resource``): a resource the
caller may not see is a 404, exactly like one that does not exist.
"""

from __future__ import annotations

import logging

from flask import jsonify, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..core.api import api, listing, login_required
from ..core.errors import Invalid, NotFound
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.labels import EDITION_LABELS, RESOURCE_KIND_LABELS, SUBJECT_LABELS
from ..core.pagination import page_args
from ..core.sqlite import writes_on_get
from ..core.timeutil import isoformat_local
from ..core.uploads import send_upload
from ..core.validate import BadRequest, query_choice
from ..extensions import db
from . import services
from .models import Resource
from .permissions import can_view_resource

audit = logging.getLogger("portal.audit")

TEXT_FIELDS = ("title", "description", "kind", "subject", "stage", "grade", "edition", "unit", "tags")


def resource_json(resource: Resource) -> dict:
    version = resource.current_version
    return {
        "id": resource.id,
        "title": resource.title,
        "description": resource.description,
        "kind": resource.kind,
        "subject": resource.subject,
        "stage": resource.stage,
        "grade": resource.grade,
        "edition": resource.edition,
        "unit": resource.unit,
        "tags": resource.tags.split() if resource.tags else [],
        "visibility": resource.visibility,
        "owner_id": resource.owner_id,
        "school_id": resource.school_id,
        "link_url": resource.link_url or None,
        "size": version.size if version else None,
        "original_name": version.original_name if version else None,
        "version": version.number if version else None,
        "created_at": isoformat_local(resource.created_at),
        "updated_at": isoformat_local(resource.updated_at),
        "download_url": url_for("api.download_resource", resource_id=resource.id) if version else None,
        "preview_url": (url_for("resources.preview", resource_id=resource.id)
                        if services.preview_kind(version) else None),
        "rating": resource.rating,
        "rating_count": resource.rating_count,
        "download_count": resource.download_count,
        "view_count": resource.view_count,
    }


def _load(resource_id: int) -> Resource:
    resource = db.session.execute(
        select(Resource).where(Resource.id == resource_id)
        .options(joinedload(Resource.current_version), selectinload(Resource.audiences))
    ).scalar_one_or_none()
    if resource is None or not can_view_resource(current_user, resource):
        raise NotFound(_("There is no resource with this id."))
    return resource


@api.route("/resources", methods=["POST"])
@login_required
def create_resource():
    form = request.form
    for name in (*TEXT_FIELDS, "visibility", "link_url"):
        if len(form.getlist(name)) > 1:
            raise Invalid(_l("%(field)s is given more than once.", field=name), field=name)
    if not form.get("visibility"):
        raise Invalid(_l("visibility is required: public, community, pairing or private."), field="visibility")
    files = request.files.getlist("file")
    if len(files) > 1:
        raise Invalid(_l("Send one file per resource."), field="file")
    resource = services.share_resource(
        current_user,
        **{name: form.get(name, "") for name in TEXT_FIELDS},
        visibility=form["visibility"],
        community_ids=form.getlist("community_ids"),
        partnership_ids=form.getlist("partnership_ids"),
        file=files[0] if files else None,
        link_url=form.get("link_url") or None,
    )
    db.session.commit()
    return jsonify(resource_json(resource)), 201


@api.route("/resources")
@login_required
def list_resources():
    raw = request.args.get("grade") or ""
    if raw and not (raw.isascii() and raw.isdigit() and len(raw) <= 2 and 1 <= int(raw) <= 12):
        raise BadRequest(_l("The grade must be a whole number from 1 to 12."), field="grade")
    page, per_page = page_args()
    found = services.resource_page(
        current_user,
        page=page,
        per_page=per_page,
        cards=False,
        q=request.args.get("q"),
        subject=query_choice("subject", tuple(SUBJECT_LABELS)),
        stage=query_choice("stage", services.STAGES),
        grade=int(raw) if raw else None,
        kind=query_choice("kind", tuple(RESOURCE_KIND_LABELS)),
        edition=query_choice("edition", tuple(EDITION_LABELS)),
        sort=query_choice("sort", services.SORTS),
        mine=request.args.get("mine") in ("1", "true"),
    )
    return jsonify(listing(found, resource_json))


@api.route("/resources/<id:resource_id>")
@login_required
def get_resource(resource_id: int):
    return jsonify(resource_json(_load(resource_id)))


@api.route("/resources/<id:resource_id>/download")
@writes_on_get  # the download row and counter
@login_required
def download_resource(resource_id: int):
    resource = _load(resource_id)
    version = resource.current_version
    if version is None:
        raise NotFound(_("This resource is a link; it has no file to download."))
    response = send_upload(version.stored_name, version.original_name, version.content_type)
    services.record_download(current_user, resource, version, response)
    db.session.commit()
    audit.info("resource downloaded id=%s version=%s by=%s api", resource.id, version.id, current_user.id)
    return response
