"""Lesson observation services: record (draft or final), save drafts as you type, finalise,
amend a final record (audited), the observed teacher's acknowledgement and reply, action steps,
attachments. Services validate, flush, notify and log; they never commit."""

from __future__ import annotations

import logging
import re
from datetime import date

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..accounts.notifications import notify, register_message
from ..core.audit import record as audit_record
from ..core.audit import school_county
from ..core.errors import Conflict, Invalid, NotAllowed, UploadRefused
from ..core.i18n import lazy_gettext as _l
from ..core.labels import SUBJECT_LABELS
from ..core.locking import StaleEdit, lock_row
from ..core.models import utcnow
from ..core.sanitize import clean_text, rich_text
from ..core.timeutil import local_today, to_local
from ..core.uploads import save_upload
from ..core.web import path_for
from ..extensions import db
from ..org.models import Classroom
from ..scheduling.models import LiveSession
from .models import (
    AMENDABLE_FIELDS,
    GRADES,
    KINDS,
    MAX_PERIODS,
    MIN_PERIODS,
    ActionStep,
    Observation,
    ObservationAmendment,
    ObservationAttachment,
    RubricTemplate,
)
from .permissions import (
    can_amend_observation,
    can_edit_observation,
    can_observe_session,
    can_observe_teacher,
    can_record_observations,
    can_respond_to_observation,
)
from .rubrics import check_scores, ensure_default_template, weighted_total

audit = logging.getLogger("portal.audit")
log = logging.getLogger("portal.observations")

EARLIEST = date(2000, 1, 1)
MAX_TEXT = 5000
MAX_TOPIC = 120
MAX_STEPS = 10
MAX_STEP = 500
MAX_REPLY = 2000
MAX_REASON = 500
MAX_ATTACHMENTS = 10
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
ATTACHMENT_KINDS = frozenset({"image", "pdf", "office"})

register_message("observations.finalized", _l("%(observer)s recorded an observation of your lesson “%(topic)s” "
                                               "(%(date)s). Read it and acknowledge it."))
register_message("observations.acknowledged", _l("%(teacher)s acknowledged your observation of %(date)s."))
register_message("observations.replied", _l("%(teacher)s replied to your observation of %(date)s."))
register_message("observations.amended", _l("%(observer)s corrected the observation of your lesson of "
                                             "%(date)s (%(fields)s)."))


def record_link(observation: Observation) -> str:
    return path_for("observations.record", observation_id=observation.id)


def attachment_max_bytes() -> int:
    configured = current_app.config.get("MAX_CONTENT_LENGTH")
    return min(configured, MAX_ATTACHMENT_BYTES) if configured else MAX_ATTACHMENT_BYTES


# --- reading values (forms, autosave and the API share this) -------------------------------------


def _int(raw, field: str, label, low: int, high: int, *, required: bool = True) -> int | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            raise Invalid(_l("%(field)s is required.", field=label), field=field)
        return None
    if isinstance(raw, str) and raw.strip().lstrip("-").isdigit() and len(raw.strip()) <= 12:
        raw = int(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
        raise Invalid(_l("%(field)s must be a whole number from %(low)d to %(high)d.", field=label, low=low,
                         high=high), field=field)
    return raw


def _date(raw, field: str) -> date:
    if isinstance(raw, date):
        day = raw
    elif isinstance(raw, str) and len(raw.strip()) == 10:
        try:
            day = date.fromisoformat(raw.strip())
        except ValueError:
            day = None
        if day is None:
            raise Invalid(_l("The date must be like 2026-09-01."), field=field)
    elif raw is None or raw == "":
        raise Invalid(_l("The date of the lesson is required."), field=field)
    else:
        raise Invalid(_l("The date must be like 2026-09-01."), field=field)
    if day > local_today():
        raise Invalid(_l("The date of the lesson cannot be in the future."), field=field)
    if day < EARLIEST:
        raise Invalid(_l("The date of the lesson is too long ago."), field=field)
    return day


def _text(raw, field: str, max_length: int) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise Invalid(_l("%(field)s must be text.", field=field), field=field)
    text = clean_text(raw.replace("\r\n", "\n"), max_length=None)
    if len(text) > max_length:
        raise Invalid(_l("The text is too long (at most %(n)d characters).", n=max_length), field=field)
    return text


def _steps(raw) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        raw = raw.splitlines()
    if not isinstance(raw, list) or not all(isinstance(s, str) for s in raw):
        raise Invalid(_l("Action steps must be a list of texts."), field="action_steps")
    steps = [re.sub(r"^\s*(?:[-*•]|\d+[.、)])\s*", "", s).strip() for s in raw]
    steps = [s for s in steps if s]
    if len(steps) > MAX_STEPS:
        raise Invalid(_l("At most %(n)d action steps per record.", n=MAX_STEPS), field="action_steps")
    for step in steps:
        if len(step) > MAX_STEP:
            raise Invalid(_l("An action step has at most %(n)d characters.", n=MAX_STEP), field="action_steps")
    return [clean_text(s) for s in steps]


def read_values(actor: User, raw: dict, template: RubricTemplate, *, amending: Observation | None = None) -> dict:
    """Check an observation's fields from a form, an autosave or the API. Raises Invalid naming
    the field. The school observed is the classroom's, else the observed teacher's.

    ``amending``: a final record being corrected keeps its teacher, live session and school
    (unless the class changes), even if the teacher has since moved or left."""
    values: dict = {}
    session = None
    session_id = _int(raw.get("live_session_id"), "live_session_id", _l("The live session"), 1, 2**31 - 1,
                      required=False)
    if amending is not None:
        session_id = amending.live_session_id
        session = db.session.get(LiveSession, session_id) if session_id else None
    elif session_id is not None:
        session = db.session.execute(
            select(LiveSession).where(LiveSession.id == session_id).options(joinedload(LiveSession.live_class))
        ).scalar_one_or_none()
        if session is None or not can_observe_session(actor, session):
            raise Invalid(_l("There is no such live session you may observe."), field="live_session_id")
        if session.status == "cancelled":
            raise Invalid(_l("This live session was cancelled."), field="live_session_id")
        if session.starts_at > utcnow():
            raise Invalid(_l("This live session has not started yet."), field="live_session_id")
    values["live_session_id"] = session_id

    teacher_id = _int(raw.get("observed_teacher_id"), "observed_teacher_id", _l("The observed teacher"), 1,
                      2**31 - 1)
    teacher = db.session.execute(
        select(User).where(User.id == teacher_id).options(joinedload(User.school))
    ).scalar_one_or_none()
    allowed_live = session is not None and teacher is not None and teacher.id == session.live_class.main_teacher_id \
        and teacher.id != actor.id and teacher.active
    if amending is not None:
        teacher = amending.observed_teacher
    elif not (allowed_live or can_observe_teacher(actor, teacher)):
        raise Invalid(_l("You cannot record an observation of this person: choose an active teacher of a school "
                         "you work with."), field="observed_teacher_id")
    values["observed_teacher_id"] = teacher.id
    values["observed_on"] = _date(raw.get("observed_on"), "observed_on")
    values["periods"] = _int(raw.get("periods"), "periods", _l("Periods"), MIN_PERIODS, MAX_PERIODS)
    subject = raw.get("subject")
    if not isinstance(subject, str) or subject not in SUBJECT_LABELS:
        raise Invalid(_l("Choose the subject of the lesson."), field="subject")
    values["subject"] = subject
    values["topic"] = _text(raw.get("topic"), "topic", MAX_TOPIC)
    kind = raw.get("kind") or ("live" if session is not None else "drop_in")
    if not isinstance(kind, str) or kind not in KINDS:
        raise Invalid(_l("Choose the kind of lesson."), field="kind")
    if session is not None:
        kind = "live"
    values["kind"] = kind

    classroom_id = _int(raw.get("classroom_id"), "classroom_id", _l("The class"), 1, 2**31 - 1, required=False)
    school_id = teacher.school_id
    if amending is not None and classroom_id == amending.classroom_id:
        school_id = amending.school_id
    values["classroom_id"] = None
    if classroom_id is not None:
        classroom = db.session.get(Classroom, classroom_id)
        session_rooms = set()
        if session is not None:
            session_rooms = {session.live_class.main_classroom_id} | {r.classroom_id for r in session.live_class.receiving}
        if amending is not None and classroom_id == amending.classroom_id:
            session_rooms.add(classroom_id)  # unchanged: stays as recorded
        if classroom is None or (classroom.school_id != teacher.school_id and classroom.id not in session_rooms):
            raise Invalid(_l("Choose a class of the observed teacher's school."), field="classroom_id")
        values["classroom_id"] = classroom.id
        school_id = classroom.school_id
    values["school_id"] = school_id

    record = raw.get("record_html") or ""
    if not isinstance(record, str):
        raise Invalid(_l("The running record must be text."), field="record_html")
    values["record_html"] = rich_text(record) if record.strip() else ""
    for name in ("strengths", "problems", "suggestions", "private_notes"):
        values[name] = _text(raw.get(name), name, MAX_TEXT)
    grade = raw.get("grade") or None
    if grade is not None and (not isinstance(grade, str) or grade not in GRADES):
        raise Invalid(_l("Choose an overall grade: excellent, good, fair or poor."), field="grade")
    values["grade"] = grade
    values["scores"] = check_scores(template, raw.get("scores"))
    values["action_steps"] = _steps(raw.get("action_steps"))
    return values


def prefill_from_session(actor: User, session: LiveSession) -> dict:
    """The fields a live dual-teacher session gives a new observation."""
    live_class = session.live_class
    return {"live_session_id": session.id, "observed_teacher_id": live_class.main_teacher_id,
            "classroom_id": live_class.main_classroom_id, "subject": live_class.subject,
            "observed_on": to_local(session.starts_at).date(), "kind": "live",
            "topic": (session.note or live_class.title or "")[:MAX_TOPIC], "periods": 1}


# --- writing -------------------------------------------------------------------------------------

_COLUMNS = ("live_session_id", "observed_teacher_id", "observed_on", "periods", "subject", "topic", "kind",
            "classroom_id", "school_id", "record_html", "strengths", "problems", "suggestions", "private_notes",
            "grade", "scores")


def _apply(observation: Observation, values: dict) -> list[str]:
    changed = []
    for name in _COLUMNS:
        if getattr(observation, name) != values[name]:
            setattr(observation, name, values[name])
            changed.append(name)
    if "scores" in changed or observation.total_score is None and observation.scores:
        observation.total_score = weighted_total(observation.rubric_template, observation.scores or {})
    return changed


def _sync_steps(observation: Observation, texts: list[str]) -> bool:
    current = [s.text for s in observation.action_steps]
    if current == texts:
        return False
    observation.action_steps[:] = [ActionStep(teacher_id=observation.observed_teacher_id, text=t) for t in texts]
    return True


def _county(observation: Observation) -> int | None:
    return school_county(observation.school_id)


def _summary(observation: Observation) -> str:
    teacher = db.session.get(User, observation.observed_teacher_id)
    teacher = teacher.name if teacher is not None else ""
    return f"{teacher} · {observation.observed_on.isoformat()} · {observation.topic or observation.subject}"


def create_observation(actor: User, raw: dict, *, final: bool = False, client_key: str | None = None,
                       template: RubricTemplate | None = None) -> Observation:
    """Record an observation as a draft (or final at once, as the API does by default)."""
    if not can_record_observations(actor):
        raise NotAllowed(_l("You cannot record observations."))
    template = template or ensure_default_template()
    values = read_values(actor, raw, template)
    observation = Observation(observer_id=actor.id, rubric_template=template, status="draft",
                              client_key=client_key, revision=1)
    steps = values.pop("action_steps")
    observation.action_steps = []
    _apply(observation, values)
    db.session.add(observation)
    _sync_steps(observation, steps)
    db.session.flush()
    audit.info("user %s recorded observation %s of user %s", actor.id, observation.id, observation.observed_teacher_id)
    audit_record(actor, "observation.created", "observation", observation.id, county_id=_county(observation),
                 summary=_summary(observation), details={"teacher_id": observation.observed_teacher_id})
    if final:
        finalize_observation(actor, observation)
    return observation


def update_draft(actor: User, observation: Observation, raw: dict, revision: int | None = None) -> bool:
    """Save a draft's fields; True when something changed (the revision goes up only then, so
    sending the same draft twice changes nothing). Given the ``revision`` the page was editing,
    a change to a draft saved since from elsewhere (another tab, another device) is refused
    rather than overwriting it; the same content sent again is not a change, so not refused."""
    if revision is not None:
        # Read the stored revision under the row's lock: two saves at the same moment queue here.
        lock_row(observation, reload=True)
    if observation.status == "final":
        raise Conflict(_l("This record is final; it can only be corrected by an amendment."))
    if not can_edit_observation(actor, observation):
        raise NotAllowed(_l("Only the observer edits this draft."))
    stored_revision = observation.revision or 0
    values = read_values(actor, raw, observation.rubric_template)
    steps = values.pop("action_steps")
    changed = _apply(observation, values)
    if "observed_teacher_id" in changed:
        for step in observation.action_steps:
            step.teacher_id = observation.observed_teacher_id
    steps_changed = _sync_steps(observation, steps)
    if (changed or steps_changed) and revision is not None and revision != stored_revision:
        raise StaleEdit()
    if changed or steps_changed:
        observation.revision = (observation.revision or 0) + 1
        db.session.flush()
        return True
    return False


def finalize_observation(actor: User, observation: Observation) -> None:
    """Lock the record and tell the observed teacher."""
    if observation.status == "final":
        raise Conflict(_l("This record is already final."))
    if observation.observer_id != actor.id:
        raise NotAllowed(_l("Only the observer finalises this record."))
    if observation.observed_on > local_today():
        raise Invalid(_l("The date of the lesson cannot be in the future."), field="observed_on")
    observation.status = "final"
    observation.finalized_at = utcnow()
    observation.revision = (observation.revision or 0) + 1
    db.session.flush()
    notify([observation.observed_teacher_id], "observations.finalized",
           params={"observer": actor.name, "topic": observation.topic or "—",
                   "date": observation.observed_on.isoformat()},
           link=record_link(observation))
    audit.info("user %s finalised observation %s", actor.id, observation.id)
    audit_record(actor, "observation.finalized", "observation", observation.id, county_id=_county(observation),
                 summary=_summary(observation))


def _shown(name: str, value) -> str:
    if value is None:
        return ""
    if name == "scores":
        return ", ".join(f"{k}={v}" for k, v in sorted((value or {}).items()))
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def amend_observation(actor: User, observation: Observation, raw: dict, reason: str) -> list[ObservationAmendment]:
    """Correct a final record: each changed field is kept as an amendment row (who, when,
    field, old and new value, reason). Observer, status and template never change."""
    if observation.status != "final":
        raise Conflict(_l("A draft is edited, not amended."))
    if not can_amend_observation(actor, observation):
        raise NotAllowed(_l("Only the observer corrects this record."))
    reason = clean_text(reason or "", max_length=MAX_REASON)
    if len(reason) < 2:
        raise Invalid(_l("Give the reason for the correction."), field="reason")
    merged = {name: getattr(observation, name) for name in _COLUMNS}
    merged["observed_on"] = observation.observed_on.isoformat()
    merged["action_steps"] = [s.text for s in observation.action_steps]
    for name in AMENDABLE_FIELDS + ("private_notes",):
        if name in raw:
            merged[name] = raw[name]
    values = read_values(actor, merged, observation.rubric_template, amending=observation)
    values.pop("action_steps")
    rows = []
    for name in AMENDABLE_FIELDS + ("private_notes",):
        old, new = getattr(observation, name), values[name]
        if old == new:
            continue
        rows.append(ObservationAmendment(observation=observation, user_id=actor.id, field=name,
                                         old_value=_shown(name, old) if name != "private_notes" else "",
                                         new_value=_shown(name, new) if name != "private_notes" else "",
                                         reason=reason))
    if not rows:
        raise Invalid(_l("Nothing was changed."), field="reason")
    _apply(observation, values)
    observation.revision = (observation.revision or 0) + 1
    db.session.add_all(rows)
    db.session.flush()
    public = [r.field for r in rows if r.field != "private_notes"]
    if public:
        notify([observation.observed_teacher_id], "observations.amended",
               params={"observer": actor.name, "date": observation.observed_on.isoformat(),
                       "fields": ", ".join(public)}, link=record_link(observation))
    audit.info("user %s amended observation %s: %s (%s)", actor.id, observation.id,
               ",".join(r.field for r in rows), reason)
    audit_record(actor, "observation.amended", "observation", observation.id, county_id=_county(observation),
                 summary=_summary(observation), details={"fields": [r.field for r in rows], "reason": reason})
    return rows


def delete_draft(actor: User, observation: Observation) -> None:
    if not can_edit_observation(actor, observation):
        raise NotAllowed(_l("Only the observer deletes a draft; a final record stays."))
    audit.info("user %s deleted draft observation %s", actor.id, observation.id)
    audit_record(actor, "observation.draft_deleted", "observation", observation.id, county_id=_county(observation),
                 summary=_summary(observation))
    db.session.delete(observation)
    db.session.flush()


# --- the observed teacher's side -----------------------------------------------------------------


def acknowledge_observation(actor: User, observation: Observation) -> bool:
    if not can_respond_to_observation(actor, observation):
        raise NotAllowed(_l("Only the observed teacher acknowledges this record."))
    if observation.acknowledged_at is not None:
        return False
    observation.acknowledged_at = utcnow()
    db.session.flush()
    notify([observation.observer_id], "observations.acknowledged",
           params={"teacher": actor.name, "date": observation.observed_on.isoformat()}, link=record_link(observation))
    audit.info("user %s acknowledged observation %s", actor.id, observation.id)
    return True


def reply_to_observation(actor: User, observation: Observation, text: str) -> None:
    """The teacher's reply (acknowledging it too); a later reply replaces the earlier one."""
    if not can_respond_to_observation(actor, observation):
        raise NotAllowed(_l("Only the observed teacher replies to this record."))
    text = _text(text, "reply", MAX_REPLY)
    if not text:
        raise Invalid(_l("Write your reply."), field="reply")
    observation.teacher_reply = text
    observation.replied_at = utcnow()
    if observation.acknowledged_at is None:
        observation.acknowledged_at = observation.replied_at
    db.session.flush()
    notify([observation.observer_id], "observations.replied",
           params={"teacher": actor.name, "date": observation.observed_on.isoformat()}, link=record_link(observation))
    audit.info("user %s replied to observation %s", actor.id, observation.id)


# --- action steps ----------------------------------------------------------------------------------


def steps_to_check(actor: User, observation: Observation) -> list[ActionStep]:
    """Open action steps for the same teacher from earlier final records the observer may read:
    the next observation of the teacher checks them."""
    from .permissions import visible_observations

    return list(db.session.execute(
        select(ActionStep).join(Observation, Observation.id == ActionStep.observation_id)
        .where(ActionStep.teacher_id == observation.observed_teacher_id, ActionStep.observation_id != observation.id,
               Observation.status == "final", Observation.observed_on <= observation.observed_on,
               visible_observations(actor),
               (ActionStep.status != "met") | (ActionStep.checked_in_id == observation.id))
        .options(joinedload(ActionStep.observation).joinedload(Observation.observer))
        .order_by(Observation.observed_on, ActionStep.id)
    ).scalars())


def check_action_step(actor: User, observation: Observation, step: ActionStep, status: str) -> None:
    """Mark an earlier action step met or not yet, from the next observation of that teacher."""
    if status not in ("met", "not_yet"):
        raise Invalid(_l("Choose met or not yet."), field="status")
    if observation.observer_id != actor.id:
        raise NotAllowed(_l("Only the observer of this record checks action steps."))
    if step.id not in {s.id for s in steps_to_check(actor, observation)}:
        raise NotAllowed(_l("This action step is not one this record checks."))
    step.status = status
    step.checked_in_id = observation.id
    step.checked_at = utcnow()
    db.session.flush()
    audit.info("user %s checked action step %s in observation %s: %s", actor.id, step.id, observation.id, status)


# --- attachments ---------------------------------------------------------------------------------


def add_attachment(actor: User, observation: Observation, file_storage) -> ObservationAttachment:
    """A photo of the board, a lesson plan...: images, pdf or Office documents, checked by content."""
    if not can_edit_observation(actor, observation):
        raise NotAllowed(_l("Files are added by the observer while the record is a draft."))
    if len(observation.attachments) >= MAX_ATTACHMENTS:
        raise Conflict(_l("A record has at most %(n)d files.", n=MAX_ATTACHMENTS), field="file")
    try:
        saved = save_upload(file_storage, kinds=set(ATTACHMENT_KINDS), max_bytes=attachment_max_bytes())
    except UploadRefused as exc:
        log.info("observation attachment refused obs=%s by=%s code=%s", observation.id, actor.id, exc.code)
        raise
    attachment = ObservationAttachment(observation=observation, stored_name=saved.stored_name,
                                       original_name=saved.original_name, content_type=saved.content_type,
                                       size=saved.size, uploaded_by_id=actor.id)
    db.session.add(attachment)
    db.session.flush()
    audit.info("user %s attached %s (sha256 %s) to observation %s", actor.id, attachment.id, saved.sha256,
               observation.id)
    return attachment


def remove_attachment(actor: User, attachment: ObservationAttachment) -> None:
    if not can_edit_observation(actor, attachment.observation):
        raise NotAllowed(_l("Files are removed by the observer while the record is a draft."))
    audit.info("user %s removed attachment %s of observation %s", actor.id, attachment.id, attachment.observation_id)
    db.session.delete(attachment)
    db.session.flush()

