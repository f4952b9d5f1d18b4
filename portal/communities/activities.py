"""Activities (研修活动): plan, change, cancel, sign up, take attendance, write minutes.

Attendance is what earns training hours: marking someone present writes their ledger line
(TrainingRecord), marking them absent again removes it, so the ledger always follows the
host's latest register. Services flush and never commit.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update

from ..accounts.models import User
from ..accounts.notifications import notify, register_message
from ..core.errors import Conflict, Invalid, NotAllowed
from ..core.i18n import lazy_gettext as _l
from ..core.locking import check_version, lock_row, set_counts
from ..core.models import utcnow
from ..core.sanitize import clean_text, rich_text
from ..core.timeutil import school_year_of, to_local
from ..core.web import path_for
from ..extensions import db
from .models import ACTIVITY_KINDS, Activity, ActivityType, Community, Membership, Participant, TrainingRecord
from .permissions import (
    can_create_activity,
    can_edit_activity,
    can_manage_activity_types,
    can_sign_up,
    membership_of,
)
from .services import insert_once

log = logging.getLogger("portal.audit")

MAX_HOURS_TENTHS = 400  # 40 学时: more than a week of full days is a typing mistake
MAX_DURATION = timedelta(days=7)
PLAUSIBLE_YEARS = (2000, 2100)
_URL = re.compile(r"^https?://[^\s<>\"']+$", re.I)

register_message("activity.created", _l("New activity in %(community)s: %(title)s, %(when)s."))
register_message("activity.changed", _l("The activity %(title)s changed: now %(when)s, %(where)s."))
register_message("activity.cancelled", _l("The activity %(title)s on %(when)s is cancelled."))
register_message("activity.hours_earned", _l("You earned %(hours)s training hours for attending %(title)s."))


def activity_link(activity: Activity) -> str:
    return path_for("communities.activity", activity_id=activity.id)


def _when(activity: Activity) -> str:
    return to_local(activity.starts_at).strftime("%Y-%m-%d %H:%M")


def _where(activity: Activity) -> str:
    return activity.place or ("online" if activity.is_online else "")


def _member_ids(community: Community, *, exclude: int | None = None) -> list[int]:
    ids = db.session.execute(
        select(Membership.user_id).where(Membership.community_id == community.id, Membership.status == "active")
    ).scalars()
    return [i for i in ids if i != exclude]


def _participant_ids(activity: Activity) -> list[int]:
    return list(
        db.session.execute(select(Participant.user_id).where(Participant.activity_id == activity.id)).scalars()
    )


def _check(
    community: Community,
    *,
    title: str,
    kind: str,
    custom_type: ActivityType | None,
    starts_at: datetime,
    ends_at: datetime,
    is_online: bool,
    place: str,
    online_url: str,
    host: User | None,
    hours_tenths: int,
    capacity: int | None,
) -> tuple[str, str, str]:
    title = clean_text(title, max_length=120)
    if not title:
        raise Invalid(_l("Please give the activity a title."), field="title")
    if kind not in ACTIVITY_KINDS:
        raise Invalid(_l("Choose a type of activity."), field="kind")
    if kind == "custom":
        if custom_type is None or not custom_type.is_active:
            raise Invalid(_l("Choose a type of activity."), field="kind")
        if custom_type.community_kind not in (None, community.kind):
            raise Invalid(_l("This type of activity is not for this kind of community."), field="kind")
    if starts_at is None or ends_at is None:
        raise Invalid(_l("Please give the start and end times."), field="starts_at")
    # Year 1 is before UTC's year 1 once shifted from +08:00 (an OverflowError when stored).
    if not PLAUSIBLE_YEARS[0] <= starts_at.year <= PLAUSIBLE_YEARS[1]:
        raise Invalid(_l("The start date is not plausible."), field="starts_at")
    if ends_at <= starts_at:
        raise Invalid(_l("The activity must end after it starts."), field="ends_at")
    if ends_at - starts_at > MAX_DURATION:
        raise Invalid(_l("An activity lasts at most seven days."), field="ends_at")
    place = clean_text(place, max_length=200)
    online_url = clean_text(online_url, max_length=300)
    if online_url and not _URL.match(online_url):
        raise Invalid(_l("The meeting link must start with http:// or https://."), field="online_url")
    if not is_online and not place:
        raise Invalid(_l("Please say where the activity takes place, or mark it as online."), field="place")
    if host is None:
        raise Invalid(_l("Choose the host."), field="host")
    host_membership = membership_of(host, community)
    if host_membership is None or host_membership.status != "active" or not host.active:
        raise Invalid(_l("The host must be a member of the community."), field="host")
    if not 0 <= hours_tenths <= MAX_HOURS_TENTHS:
        raise Invalid(_l("Training hours must be from 0 to 40."), field="hours")
    if capacity is not None and not 1 <= capacity <= 10_000:
        raise Invalid(_l("The number of places must be from 1 to 10000."), field="capacity")
    return title, place, online_url


def save_activity(
    actor: User,
    community: Community,
    activity: Activity | None = None,
    *,
    title: str,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    is_online: bool = False,
    place: str = "",
    online_url: str = "",
    host: User | None = None,
    description: str = "",
    hours_tenths: int = 0,
    capacity: int | None = None,
    custom_type: ActivityType | None = None,
    version: int | None = None,
) -> Activity:
    """Plan an activity (members are told) or change one (those signed up are told). A change made
    on another ``version`` than the stored one (the host and the leader editing at once) is refused."""
    membership = membership_of(actor, community)
    if activity is None and not can_create_activity(actor, community, membership):
        raise NotAllowed(_l("Only the leader, core members and the bureau plan activities."))
    if activity is not None and not can_edit_activity(actor, activity, membership):
        raise NotAllowed(_l("Only the host, the leader and the bureau change this activity."))
    if activity is not None:
        check_version(activity, version)
    if activity is not None and activity.is_cancelled:
        raise Conflict(_l("This activity is cancelled."))
    host = host or actor
    title, place, online_url = _check(
        community, title=title, kind=kind, custom_type=custom_type, starts_at=starts_at, ends_at=ends_at,
        is_online=is_online, place=place, online_url=online_url, host=host, hours_tenths=hours_tenths,
        capacity=capacity,
    )
    if activity is not None and capacity is not None and capacity < activity.signup_count:
        raise Invalid(_l("%(n)d people have already signed up; allow at least that many places.",
                         n=activity.signup_count), field="capacity")
    created = activity is None
    if created:
        activity = Activity(community=community, created_by_id=actor.id)
        db.session.add(activity)
        moved = False
    else:
        moved = (activity.starts_at, activity.ends_at, activity.place, activity.is_online) != (
            starts_at, ends_at, place, is_online)
    hours_changed = not created and activity.hours_tenths != hours_tenths
    activity.title, activity.kind = title, kind
    activity.custom_type = custom_type if kind == "custom" else None
    activity.starts_at, activity.ends_at = starts_at, ends_at
    activity.is_online, activity.place, activity.online_url = is_online, place, online_url
    activity.host_id = host.id
    activity.description = clean_text(description, max_length=5000)
    activity.hours_tenths, activity.capacity = hours_tenths, capacity
    db.session.flush()
    if hours_changed and activity.attendance_taken_at is not None:
        _sync_hours(activity)
    if created:
        notify(_member_ids(community, exclude=actor.id), "activity.created",
               params={"community": community.name, "title": title, "when": _when(activity)},
               link=activity_link(activity))
    elif moved:
        notify([i for i in _participant_ids(activity) if i != actor.id], "activity.changed",
               params={"title": title, "when": _when(activity), "where": _where(activity)},
               link=activity_link(activity))
    log.info("activity saved id=%s community=%s by=%s", activity.id, community.id, actor.id)
    return activity


def cancel_activity(actor: User, activity: Activity) -> None:
    if not can_edit_activity(actor, activity, membership_of(actor, activity.community)):
        raise NotAllowed(_l("Only the host, the leader and the bureau change this activity."))
    if activity.is_cancelled:
        raise Conflict(_l("This activity is already cancelled."))
    if activity.attendance_taken_at is not None:
        raise Conflict(_l("Attendance has been taken: an activity that happened cannot be cancelled."))
    activity.cancelled_at = utcnow()
    notify([i for i in _participant_ids(activity) if i != actor.id], "activity.cancelled",
           params={"title": activity.title, "when": _when(activity)}, link=activity_link(activity))
    log.info("activity cancelled id=%s by=%s", activity.id, actor.id)


def _refresh_signups(activity: Activity) -> None:
    """Recount after the row is locked (people signing up at once), without touching the
    activity's version: a sign-up is not an edit of the activity."""
    db.session.flush()
    lock_row(activity)
    set_counts(activity, signup_count=db.session.execute(
        select(func.count()).where(Participant.activity_id == activity.id)
    ).scalar_one())


def sign_up(user: User, activity: Activity) -> Participant:
    membership = membership_of(user, activity.community)
    if not can_sign_up(user, activity, membership):
        if activity.is_cancelled:
            raise Conflict(_l("This activity is cancelled."))
        if activity.ends_at <= utcnow():
            raise Conflict(_l("This activity is over."))
        raise NotAllowed(_l("Only members of the community can sign up."))
    existing = db.session.execute(
        select(Participant).where(Participant.activity_id == activity.id, Participant.user_id == user.id)
    ).scalar_one_or_none()
    if existing is not None:
        raise Conflict(_l("You have already signed up."))
    if activity.capacity is not None:
        # Take the place with one conditional UPDATE: two people signing up at the same moment
        # cannot both get the last place (the row is locked, or SQLite writes one at a time).
        taken = db.session.execute(
            update(Activity)
            .where(Activity.id == activity.id, Activity.signup_count < Activity.capacity)
            .values(signup_count=Activity.signup_count + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not taken:
            raise Conflict(_l("The activity is full."))
    participant = Participant(activity_id=activity.id, user_id=user.id)
    insert_once(participant, _l("You have already signed up."))
    _refresh_signups(activity)
    return participant


def withdraw(user: User, activity: Activity) -> None:
    participant = db.session.execute(
        select(Participant).where(Participant.activity_id == activity.id, Participant.user_id == user.id)
    ).scalar_one_or_none()
    if participant is None:
        raise Conflict(_l("You have not signed up."))
    if activity.has_started():
        raise Conflict(_l("The activity has begun; ask the host to change the attendance instead."))
    db.session.delete(participant)
    _refresh_signups(activity)


def record_attendance(actor: User, activity: Activity, attended_ids: set[int]) -> int:
    """Take (or correct) the register: everyone signed up is present or absent; members who
    came without signing up may be added. Returns how many were present."""
    community = activity.community
    if not can_edit_activity(actor, activity, membership_of(actor, community)):
        raise NotAllowed(_l("Only the host, the leader and the bureau take attendance."))
    if activity.is_cancelled:
        raise Conflict(_l("This activity is cancelled."))
    if not activity.has_started():
        raise Conflict(_l("Attendance can be taken once the activity has begun."))
    participants = {
        p.user_id: p
        for p in db.session.execute(select(Participant).where(Participant.activity_id == activity.id)).scalars()
    }
    walk_ins = set(attended_ids) - set(participants)
    if walk_ins:
        members = set(
            db.session.execute(
                select(Membership.user_id).where(
                    Membership.community_id == community.id,
                    Membership.status == "active",
                    Membership.user_id.in_(walk_ins),
                )
            ).scalars()
        )
        if walk_ins - members:
            raise Invalid(_l("Only members of the community can be marked present."), field="attended")
        for user_id in sorted(walk_ins):
            participants[user_id] = Participant(activity=activity, user_id=user_id)
            db.session.add(participants[user_id])
    newly_present = [uid for uid, p in participants.items() if uid in attended_ids and p.attended is not True]
    for user_id, participant in participants.items():
        participant.attended = user_id in attended_ids
    activity.attendance_taken_at = utcnow()
    _refresh_signups(activity)
    _sync_hours(activity)
    if activity.hours_tenths and newly_present:
        notify(newly_present, "activity.hours_earned", params={"hours": activity.hours, "title": activity.title},
               link=path_for("communities.hours"))
    log.info("attendance id=%s present=%d by=%s", activity.id, len(attended_ids), actor.id)
    return sum(1 for p in participants.values() if p.attended)


def _sync_hours(activity: Activity) -> None:
    """Make the ledger match the register: one line per person present, none for the absent."""
    db.session.flush()
    present = set(
        db.session.execute(
            select(Participant.user_id).where(Participant.activity_id == activity.id, Participant.attended.is_(True))
        ).scalars()
    )
    stale = delete(TrainingRecord).where(TrainingRecord.activity_id == activity.id)
    if present and activity.hours_tenths:
        stale = stale.where(TrainingRecord.user_id.not_in(present))
    db.session.execute(stale)
    if not (present and activity.hours_tenths):
        return
    earned_on = to_local(activity.starts_at).date()
    recorded = {
        r.user_id: r
        for r in db.session.execute(select(TrainingRecord).where(TrainingRecord.activity_id == activity.id)).scalars()
    }
    for user_id in present:
        record = recorded.get(user_id)
        if record is None:
            record = TrainingRecord(user_id=user_id, activity_id=activity.id, source="activity")
            db.session.add(record)
        record.title = activity.title
        record.hours_tenths = activity.hours_tenths
        record.earned_on, record.school_year = earned_on, school_year_of(earned_on)


def save_minutes(actor: User, activity: Activity, raw: str) -> None:
    if not can_edit_activity(actor, activity, membership_of(actor, activity.community)):
        raise NotAllowed(_l("Only the host, the leader and the bureau write the minutes."))
    activity.minutes_html = rich_text(raw)
    activity.minutes_by_id, activity.minutes_at = actor.id, utcnow()


def save_activity_type(actor: User, activity_type: ActivityType | None, *, name: str,
                       community_kind: str | None) -> ActivityType:
    """The bureau names its own activity types (e.g. 同课异构, 送教下乡 within a community)."""
    if not can_manage_activity_types(actor):
        raise NotAllowed(_l("Only the bureau defines activity types."))
    name = clean_text(name, max_length=40)
    if not name:
        raise Invalid(_l("Please name the type."), field="name")
    if community_kind not in (None, "teacher", "principal"):
        raise Invalid(_l("Choose a teacher or a principal community."), field="community_kind")
    clash = db.session.execute(select(ActivityType.id).where(ActivityType.name == name)).scalar_one_or_none()
    if clash is not None and (activity_type is None or clash != activity_type.id):
        raise Conflict(_l("A type named %(name)s already exists.", name=name), field="name")
    if activity_type is None:
        activity_type = ActivityType()
        db.session.add(activity_type)
    activity_type.name, activity_type.community_kind = name, community_kind
    db.session.flush()
    return activity_type


def set_activity_type_active(actor: User, activity_type: ActivityType, active: bool) -> None:
    if not can_manage_activity_types(actor):
        raise NotAllowed(_l("Only the bureau defines activity types."))
    activity_type.is_active = active
