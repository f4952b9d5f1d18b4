"""Research projects (课题) inside a community: a lead, members, a status and attached outputs.

Who may do what lives in ``permissions.py`` (can_create_project, can_edit_project,
can_add_project_output, can_remove_project_output). The lead is always a member of their
project; project members must be active members of the community. Services flush and never commit.
"""

from __future__ import annotations

import logging
import re
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..accounts.models import User
from ..accounts.notifications import notify, register_message
from ..core.errors import Conflict, Invalid, NotAllowed
from ..core.i18n import lazy_gettext as _l
from ..core.sanitize import clean_text, rich_text
from ..core.web import path_for
from ..extensions import db
from .models import PROJECT_LEVELS, PROJECT_STATUSES, Community, Membership, Project, ProjectMember, ProjectOutput
from .permissions import (
    can_add_project_output,
    can_create_project,
    can_edit_project,
    can_remove_project_output,
    membership_of,
)

log = logging.getLogger("portal.audit")

TITLE_MAX = 120
OUTPUT_TITLE_MAX = 200
URL_MAX = 300
NOTE_MAX = 2000
OUTPUT_KINDS = ("report", "paper", "lesson", "courseware", "other")
OUTPUT_KIND_LABELS = {
    "report": _l("Research report"),
    "paper": _l("Paper"),
    "lesson": _l("Lesson case"),
    "courseware": _l("Courseware"),
    "other": _l("Other"),
}
# Only absolute web links; no spaces, quotes or angle brackets (they end an href early).
_URL = re.compile(r"^https?://[^\s<>\"'\\]+$", re.I)

register_message("project.member_added", _l("%(by)s added you to the research project %(project)s."))
register_message("project.lead_appointed", _l("%(by)s made you the lead of the research project %(project)s."))

def project_link(project: Project) -> str:
    return path_for("communities.project", project_id=project.id)


def is_project_member(user, project: Project) -> bool:
    """The lead, or a person on the project's member list."""
    if not (user and user.is_authenticated):
        return False
    if project.lead_id == user.id:
        return True
    return db.session.execute(
        select(ProjectMember.id).where(ProjectMember.project_id == project.id, ProjectMember.user_id == user.id)
    ).first() is not None


def _active_member(community: Community, user: User) -> bool:
    return db.session.execute(
        select(Membership.id).where(
            Membership.community_id == community.id, Membership.user_id == user.id, Membership.status == "active"
        )
    ).first() is not None


def _check_person(community: Community, user: User | None, field: str) -> User:
    if user is None:
        raise Invalid(_l("Please enter a username."), field=field)
    if not user.active:
        raise Invalid(_l("%(name)s's account is deactivated.", name=user.name), field=field)
    if not _active_member(community, user):
        raise Invalid(_l("%(name)s is not a member of this community.", name=user.name), field=field)
    return user


def _check_fields(title: str, level: str, started_on: date | None, ends_on: date | None) -> str:
    title = clean_text(title, max_length=TITLE_MAX)
    if not title:
        raise Invalid(_l("Please give the project a title."), field="title")
    if level not in PROJECT_LEVELS:
        raise Invalid(_l("Choose the project's level."), field="level")
    if started_on and ends_on and ends_on < started_on:
        raise Invalid(_l("The project cannot end before it starts."), field="ends_on")
    return title


def _ensure_member(project: Project, user: User) -> bool:
    """Put ``user`` on the project's list; True when they were not on it."""
    exists = db.session.execute(
        select(ProjectMember.id).where(ProjectMember.project_id == project.id, ProjectMember.user_id == user.id)
    ).first()
    if exists is not None:
        return False
    try:
        with db.session.begin_nested():  # added twice at once: the second finds it there
            db.session.add(ProjectMember(project_id=project.id, user_id=user.id))
            db.session.flush()
    except IntegrityError:
        return False
    return True


def _notify_lead(actor: User, project: Project, lead: User) -> None:
    if lead.id != actor.id:
        notify([lead], "project.lead_appointed", params={"by": actor.name, "project": project.title},
               link=project_link(project))


def create_project(
    actor: User,
    community: Community,
    *,
    title: str,
    lead: User | None,
    level: str = "county",
    summary: str = "",
    started_on: date | None = None,
    ends_on: date | None = None,
) -> Project:
    """The leader, a core member or the bureau starts a project; its lead must be a member."""
    if not can_create_project(actor, community, membership_of(actor, community)):
        raise NotAllowed(_l("Only the leader, core members and the bureau start research projects."))
    title = _check_fields(title, level, started_on, ends_on)
    lead = _check_person(community, lead, "lead")
    project = Project(
        community_id=community.id, title=title, lead_id=lead.id, status="proposed", level=level,
        summary_html=rich_text(summary), started_on=started_on, ends_on=ends_on,
    )
    db.session.add(project)
    db.session.flush()
    _ensure_member(project, lead)
    _notify_lead(actor, project, lead)
    log.info("project created id=%s community=%s lead=%s by=%s", project.id, community.id, lead.id, actor.id)
    return project


def _require_edit(actor: User, project: Project) -> None:
    if not can_edit_project(actor, project, membership_of(actor, project.community_id)):
        raise NotAllowed(_l("Only the project's lead, the community's leader and the bureau change a project."))


def update_project(
    actor: User,
    project: Project,
    *,
    title: str,
    lead: User | None,
    level: str,
    summary: str = "",
    started_on: date | None = None,
    ends_on: date | None = None,
) -> Project:
    """Change the project's fields. A new lead joins the project; the former lead stays a member."""
    _require_edit(actor, project)
    title = _check_fields(title, level, started_on, ends_on)
    lead = _check_person(project.community, lead, "lead")
    project.title, project.level = title, level
    project.summary_html = rich_text(summary)
    project.started_on, project.ends_on = started_on, ends_on
    if lead.id != project.lead_id:
        project.lead_id = lead.id
        project.lead = lead
        _ensure_member(project, lead)
        _notify_lead(actor, project, lead)
    db.session.flush()
    log.info("project updated id=%s by=%s", project.id, actor.id)
    return project


def set_project_status(actor: User, project: Project, status: str) -> None:
    _require_edit(actor, project)
    if status not in PROJECT_STATUSES:
        raise Invalid(_l("Unknown project status."), field="status")
    if status != project.status:
        project.status = status
        log.info("project status id=%s status=%s by=%s", project.id, status, actor.id)


def add_project_member(actor: User, project: Project, user: User | None) -> ProjectMember:
    """Editors add active members of the community; the person is told."""
    _require_edit(actor, project)
    user = _check_person(project.community, user, "username")
    if not _ensure_member(project, user):
        raise Conflict(_l("%(name)s is already in this project.", name=user.name), field="username")
    if user.id != actor.id:
        notify([user], "project.member_added", params={"by": actor.name, "project": project.title},
               link=project_link(project))
    log.info("project member added id=%s user=%s by=%s", project.id, user.id, actor.id)
    return db.session.execute(
        select(ProjectMember).where(ProjectMember.project_id == project.id, ProjectMember.user_id == user.id)
    ).scalar_one()


def remove_project_member(actor: User, project: Project, user: User) -> None:
    _require_edit(actor, project)
    if user.id == project.lead_id:
        raise Conflict(_l("The lead stays in the project; choose another lead first."))
    row = db.session.execute(
        select(ProjectMember).where(ProjectMember.project_id == project.id, ProjectMember.user_id == user.id)
    ).scalar_one_or_none()
    if row is None:
        raise Conflict(_l("%(name)s is not in this project.", name=user.name))
    db.session.delete(row)
    db.session.flush()
    log.info("project member removed id=%s user=%s by=%s", project.id, user.id, actor.id)


def check_url(raw: str | None) -> str:
    """An optional http(s) link; anything else (javascript:, data:, relative) is refused."""
    url = clean_text(raw, max_length=URL_MAX)
    if url and not _URL.match(url):
        raise Invalid(_l("The link must start with http:// or https://."), field="url")
    return url


def add_output(
    actor: User, project: Project, *, title: str, kind: str = "other", url: str = "", note: str = ""
) -> ProjectOutput:
    """Project members (and editors) attach a report, paper, lesson case... with a link or a note."""
    membership = membership_of(actor, project.community_id)
    if not can_add_project_output(actor, project, membership, is_project_member(actor, project)):
        raise NotAllowed(_l("Only the project's members add outputs."))
    title = clean_text(title, max_length=OUTPUT_TITLE_MAX)
    if not title:
        raise Invalid(_l("Please give the output a title."), field="title")
    if kind not in OUTPUT_KINDS:
        raise Invalid(_l("Choose the kind of output."), field="kind")
    output = ProjectOutput(
        project_id=project.id, title=title, kind=kind, url=check_url(url),
        note=clean_text(note, max_length=NOTE_MAX), added_by_id=actor.id,
    )
    db.session.add(output)
    db.session.flush()
    log.info("project output added id=%s project=%s by=%s", output.id, project.id, actor.id)
    return output


def remove_output(actor: User, output: ProjectOutput, project: Project | None = None) -> None:
    project = project or db.session.get(Project, output.project_id)
    if not can_remove_project_output(actor, output, project, membership_of(actor, project.community_id)):
        raise NotAllowed(_l("Only whoever added an output, the project's lead, the leader and the bureau remove it."))
    db.session.delete(output)
    db.session.flush()
    log.info("project output removed id=%s project=%s by=%s", output.id, project.id, actor.id)
