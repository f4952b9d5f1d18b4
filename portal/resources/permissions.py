"""Who may see, download or change a resource. Lists, search, pages, downloads and the API all
filter through ``visible_resources`` and ask ``can_view_resource``: the same rows everywhere."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Date, and_, bindparam, case, false, literal, literal_column, or_, select, true, union_all

from ..communities.models import Community, Membership
from ..core import cache as kept_cache
from ..core.authz import BUREAU, PRINCIPAL, RESEARCHER, TEACHER, has_role
from ..core.models import plain_rows
from ..core.timeutil import local_today
from ..extensions import db
from ..partnerships.models import Partnership, PartnershipSchool
from ..partnerships.services import active_filter
from .models import Resource, ResourceAudience

SIGNED_IN = (BUREAU, RESEARCHER, PRINCIPAL, TEACHER)


def visible_resources(user):
    """A WHERE clause: the resources this person may see.

    public: every signed-in person; community: active members of a chosen active community;
    pairing: people of the schools of a chosen current partnership (lead or member);
    private: the owner only. The owner always sees their own; the bureau sees every
    resource of its scope that is not private (it supervises what is shared there, as it takes
    resources down there): a county's bureau its county's, the city's all. Deleted ones: nobody."""
    return _visibility(*visibility_of(user))


def visibility_of(user) -> tuple[tuple, dict]:
    """``visible_resources`` in two parts, for statements built once and run many times: which
    form of the rule applies to ``user`` (the key of ``visibility_clause``) and the values of its
    bind parameters."""
    if not has_role(user, *SIGNED_IN):
        return ("nobody",), {}
    if user.role == BUREAU:
        values = {"visible_owner": user.id}
        if user.county_id is not None:
            values["visible_county"] = user.county_id
        return ("bureau", user.county_id is not None), values
    communities, partnerships = _audiences_of(user)
    values = {"visible_owner": user.id}
    if communities:
        values["visible_communities"] = communities
    if partnerships:
        values["visible_partnerships"] = partnerships
    return ("member", bool(communities), bool(partnerships)), values


@cache  # a handful of keys: see visibility_of
def visibility_clause(shape: tuple):
    """The WHERE clause of ``visible_resources`` for one key of ``visibility_of``, its values
    left as bind parameters for the execution to give. Built once per key: building it (and its
    cache key) on every list cost more than running the statement."""
    return _visibility(shape)


def _visibility(shape: tuple, values: dict | None = None):
    """The rule for one key of ``visibility_of``; given ``values``, they are bound in it."""

    def param(name: str, **kw):
        if values is None:
            return bindparam(name, **kw)
        return bindparam(name, values[name], unique=True, **kw)  # unique: a statement may hold the rule twice

    if shape[0] == "nobody":
        return false()
    if shape[0] == "bureau":
        by_level = Resource.visibility != "private"
        if shape[1]:
            by_level = and_(by_level, or_(Resource.visibility == "public",
                                          Resource.county_id == param("visible_county")))
    else:
        # One CASE on the level rather than an OR of indexable terms, so a list ordered by date
        # reads the newest rows until the page is full instead of collecting every public row
        # first (200,000 resources: about 1 s down to a few ms for the page). The person's
        # communities and current partnerships are looked up first (one small query) and named
        # in the statement: with subqueries there, PostgreSQL built the set of every resource
        # shared with them on each list (16,000 for a member of a city-wide community; 27 ms for
        # the count of a list, 6 ms this way), and SQLite an IN list of them (3-4 ms).
        _member, communities, partnerships = shape
        by_level = case(
            (Resource.visibility == "public", true()),
            (Resource.visibility == "community",
             _shared_with(ResourceAudience.community_id, param("visible_communities", expanding=True))
             if communities else false()),
            (Resource.visibility == "pairing",
             _shared_with(ResourceAudience.partnership_id, param("visible_partnerships", expanding=True))
             if partnerships else false()),
            else_=false(),
        )
    return and_(Resource.deleted_at.is_(None), or_(by_level, Resource.owner_id == param("visible_owner")))


def _shared_with(column, ids):
    """EXISTS: the resource (of the outer query) is shared with one of ``ids`` (an index probe).

    OFFSET 0 keeps it a probe per row on PostgreSQL, which otherwise turns such an EXISTS into a
    hashed set of every resource shared with the ids, built before the first row is read: 16,500
    for a member of a city-wide community, 5.3 of the library page's 5.5 ms for 21 rows read
    (0.6 ms now). The CASE asks it only of rows shared with communities or partnerships."""
    return (select(ResourceAudience.id).where(ResourceAudience.resource_id == Resource.id, column.in_(ids))
            .offset(literal_column("0")).exists())


def _audiences_statement(with_school: bool):
    communities = (
        select(literal("community"), Membership.community_id)
        .join(Community, Community.id == Membership.community_id)
        .where(Membership.user_id == bindparam("user"), Membership.status == "active",
               Community.is_active.is_(True))
    )
    if not with_school:
        return communities
    school = bindparam("school")
    return union_all(communities, select(literal("pairing"), Partnership.id).where(
        active_filter(bindparam("today", type_=Date)),
        or_(Partnership.lead_school_id == school,
            Partnership.id.in_(select(PartnershipSchool.partnership_id).where(PartnershipSchool.school_id == school))),
    ))


# Built once (every list asks): for people without a school, and with one.
_AUDIENCES = {False: _audiences_statement(False), True: _audiences_statement(True)}


def _audiences_of(user) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The active communities the person is an active member of, and the partnerships active
    today of their school (as lead or member): one query, kept (core/cache.kept) per person,
    school and day until a membership, a community or a partnership changes. Every list,
    search and page of a shared resource asks; the answer changes a few times a term."""
    return kept_cache.kept(("audiences", user.id, user.school_id, local_today()), lambda: _read_audiences(user),
                           kept_cache.AUDIENCES)


def _read_audiences(user) -> tuple[tuple[int, ...], tuple[int, ...]]:
    if user.school_id is None:
        rows = plain_rows(_AUDIENCES[False], {"user": user.id})
    else:
        rows = plain_rows(_AUDIENCES[True], {"user": user.id, "school": user.school_id, "today": local_today()})
    found: dict[str, list[int]] = {"community": [], "pairing": []}
    for kind, target in rows:
        found[kind].append(target)
    return tuple(sorted(found["community"])), tuple(sorted(found["pairing"]))


def can_view_resource(user, resource: Resource) -> bool:
    """The same rule as ``visible_resources``, for one resource (public and own: no query; else
    the person's audiences and the resource, two small queries)."""
    if resource.deleted_at is not None or not has_role(user, *SIGNED_IN):
        return False
    if resource.visibility == "public" or resource.owner_id == user.id:
        return True
    return db.session.execute(
        select(Resource.id).where(Resource.id == resource.id, visible_resources(user))
    ).first() is not None


def can_share(user) -> bool:
    """Teachers, principals, researchers and the bureau share resources."""
    return has_role(user, *SIGNED_IN)


def can_edit_resource(user, resource: Resource) -> bool:
    """The owner changes a resource and uploads new versions; the bureau may take one down."""
    if resource.deleted_at is not None:
        return False
    return (has_role(user, *SIGNED_IN) and resource.owner_id == user.id)


def can_delete_resource(user, resource: Resource) -> bool:
    """The owner, and the bureau (of the owner's county) for what breaks the rules."""
    if can_edit_resource(user, resource):
        return True
    return has_role(user, BUREAU) and resource.deleted_at is None and (
        user.county_id is None or resource.county_id == user.county_id)


def can_rate(user, resource: Resource) -> bool:
    """Anyone who can see a resource rates it, except its owner."""
    return resource.owner_id != user.id and can_view_resource(user, resource)


def can_mark_used(user, resource: Resource) -> bool:
    """Teachers and principals who can see a resource mark it used in their class."""
    return has_role(user, TEACHER, PRINCIPAL) and can_view_resource(user, resource)


def can_view_school_flows(user, school) -> bool:
    """A school's shared/used figures: its principal, researchers and the bureau of its county."""
    if has_role(user, PRINCIPAL):
        return user.school_id == school.id
    if has_role(user, BUREAU, RESEARCHER):
        return user.county_id is None or user.county_id == school.county_id
    return False


def can_edit_comment(user, comment, resource: Resource) -> bool:
    """Authors edit their own comments on a resource they can still see (the caller checked it)."""
    return (has_role(user, *SIGNED_IN) and comment.deleted_at is None and comment.author_id == user.id
            and resource.deleted_at is None)


def can_delete_comment(user, comment, resource: Resource) -> bool:
    """Authors delete their own comments; the bureau (of the resource's county) removes any."""
    if can_edit_comment(user, comment, resource):
        return True
    return (has_role(user, BUREAU) and comment.deleted_at is None and resource.deleted_at is None
            and (user.county_id is None or resource.county_id == user.county_id))
