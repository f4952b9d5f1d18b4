"""The training-hours (学时) ledger: a person's hours per school year and over the rolling
five-year cycle, external hours entered by the bureau, and the ledger as an Excel sheet.

Activity lines are written by the attendance service (activities._sync_hours) and follow the
host's register; this module only reads them. Hours are kept in tenths so sums stay exact.

The cycle is the current school year (it starts on 1 September) and the four before it. The
target is ``TRAINING_HOURS_TARGET`` (360 by the national norm). A person is *on track* when
their cycle total reaches the share of the target that the time elapsed in the cycle calls for:
four whole years plus the months of the current school year begun so far (September counts as
one month), over five years. Services flush and never commit.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..accounts.notifications import notify, register_message
from ..core.errors import Conflict, Invalid, NotAllowed
from ..core.exports import cell_text
from ..core.i18n import gettext
from ..core.i18n import lazy_gettext as _l
from ..core.sanitize import clean_text
from ..core.timeutil import local_today, school_year_of
from ..core.web import path_for
from ..extensions import db
from .models import TrainingRecord, hours_text
from .permissions import can_record_hours

log = logging.getLogger("portal.audit")

CYCLE_YEARS = 5
MIN_TENTHS, MAX_TENTHS = 5, 4000  # 0.5 to 400 hours for one external line
TITLE_MAX = 200
EARLIEST = date(2000, 1, 1)
HOURS_MESSAGE = _l("Hours must be a number from 0.5 to 400, with at most one decimal.")
SOURCE_LABELS = {"activity": _l("Community activity"), "external": _l("Recorded by the bureau")}

register_message("hours.recorded", _l("%(hours)s training hours were recorded for you: %(title)s."))


@dataclass
class YearTotal:
    school_year: int
    tenths: int

    @property
    def hours(self) -> str:
        return hours_text(self.tenths)

    @property
    def label(self) -> str:
        return f"{self.school_year}–{self.school_year + 1}"


@dataclass
class Ledger:
    user: User
    today: date
    years: list[YearTotal]  # oldest first, the current school year last
    target: int  # hours
    cycle_tenths: int = 0
    expected_tenths: int = 0
    records: list[TrainingRecord] = field(default_factory=list)  # filled by the export only

    @property
    def first_year(self) -> int:
        return self.years[0].school_year

    @property
    def current_year(self) -> int:
        return self.years[-1].school_year

    @property
    def cycle_label(self) -> str:
        return f"{self.first_year}–{self.current_year + 1}"

    @property
    def cycle_hours(self) -> str:
        return hours_text(self.cycle_tenths)

    @property
    def expected_hours(self) -> str:
        return hours_text(self.expected_tenths)

    @property
    def percent(self) -> int:
        """The cycle total as a share of the target, in whole percent (may pass 100)."""
        if self.target <= 0:
            return 100
        return int(self.cycle_tenths * 100 // (self.target * 10))

    @property
    def progress_tenths(self) -> int:
        """What a progress bar shows: the total, capped at the target."""
        return min(self.cycle_tenths, self.target * 10)

    @property
    def on_track(self) -> bool:
        return self.cycle_tenths >= self.expected_tenths


def elapsed_months(today: date) -> int:
    """Months of the cycle begun by ``today``: 48 for the four past years, plus 1 (September) to 12."""
    return (CYCLE_YEARS - 1) * 12 + (today.month - 9) % 12 + 1


# Built once (every ledger page asks): SQLAlchemy reuses its cache key; values are bound.
_YEAR_SUMS = (
    select(TrainingRecord.school_year, func.sum(TrainingRecord.hours_tenths))
    .where(TrainingRecord.user_id == bindparam("user_id"),
           TrainingRecord.school_year.between(bindparam("first"), bindparam("current")))
    .group_by(TrainingRecord.school_year)
)


def ledger(user: User, today: date | None = None) -> Ledger:
    """The person's totals for the five school years of the rolling cycle: one grouped query."""
    today = today or local_today()
    current = school_year_of(today)
    first = current - CYCLE_YEARS + 1
    sums = dict(db.session.execute(_YEAR_SUMS, {"user_id": user.id, "first": first, "current": current}).all())
    years = [YearTotal(year, int(sums.get(year) or 0)) for year in range(first, current + 1)]
    target = max(int(current_app.config.get("TRAINING_HOURS_TARGET", 360)), 0)
    result = Ledger(user=user, today=today, years=years, target=target)
    result.cycle_tenths = sum(y.tenths for y in years)
    # ceil(target × 10 × months / 60): the tenths the elapsed share of the cycle calls for
    result.expected_tenths = -(-target * 10 * elapsed_months(today) // (CYCLE_YEARS * 12))
    return result


def records_query(user: User) -> Select:
    """Every line of the person's ledger, newest first, with its activity (one query)."""
    return (
        select(TrainingRecord)
        .where(TrainingRecord.user_id == user.id)
        .options(joinedload(TrainingRecord.activity))
        .order_by(TrainingRecord.earned_on.desc(), TrainingRecord.id.desc())
    )


def parse_hours(raw: str | None) -> int:
    """"1.5" → 15 tenths. Hours from 0.5 to 400 with at most one decimal; anything else is Invalid."""
    text = (raw or "").strip()
    whole, _dot, tenth = text.partition(".")
    if not (whole.isascii() and whole.isdigit() and len(whole) <= 4) or (
        _dot and not (len(tenth) == 1 and tenth.isascii() and tenth.isdigit())
    ):
        raise Invalid(HOURS_MESSAGE, field="hours")
    tenths = int(whole) * 10 + int(tenth or 0)
    if not MIN_TENTHS <= tenths <= MAX_TENTHS:
        raise Invalid(HOURS_MESSAGE, field="hours")
    return tenths


def record_external_hours(actor: User, person: User, *, title: str, hours_tenths: int, earned_on: date
                          ) -> TrainingRecord:
    """The bureau enters hours earned outside the portal (provincial platform, school-based training)."""
    if not can_record_hours(actor, person):
        raise NotAllowed(_l("Only the bureau of this person's county records external hours."))
    title = clean_text(title, max_length=TITLE_MAX)
    if not title:
        raise Invalid(_l("Please say what the training was."), field="title")
    if isinstance(hours_tenths, bool) or not isinstance(hours_tenths, int) or not (
        MIN_TENTHS <= hours_tenths <= MAX_TENTHS
    ):
        raise Invalid(HOURS_MESSAGE, field="hours")
    if not isinstance(earned_on, date) or not EARLIEST <= earned_on <= local_today():
        raise Invalid(_l("The date must be a past day (the training has taken place)."), field="earned_on")
    record = TrainingRecord(
        user_id=person.id, activity_id=None, source="external", title=title, hours_tenths=hours_tenths,
        earned_on=earned_on, school_year=school_year_of(earned_on), recorded_by_id=actor.id,
    )
    db.session.add(record)
    db.session.flush()
    notify([person], "hours.recorded", params={"hours": record.hours, "title": title},
           link=path_for("communities.hours"))
    log.info("hours recorded id=%s user=%s tenths=%s by=%s", record.id, person.id, hours_tenths, actor.id)
    return record


def delete_external_record(actor: User, record: TrainingRecord, person: User | None = None) -> None:
    """The bureau removes an external line; activity lines follow attendance and stay."""
    person = person or db.session.get(User, record.user_id)
    if not can_record_hours(actor, person):
        raise NotAllowed(_l("Only the bureau of this person's county removes external hours."))
    if record.source != "external":
        raise Conflict(_l("Hours from an activity follow its attendance; correct the register instead."))
    db.session.delete(record)
    db.session.flush()
    log.info("hours deleted id=%s user=%s by=%s", record.id, record.user_id, actor.id)


# --- Excel ------------------------------------------------------------------------------------------





def _hours_number(tenths: int) -> float | int:
    whole, rest = divmod(int(tenths), 10)
    return whole if not rest else tenths / 10


def export_workbook(person: User, data: Ledger, records: list[TrainingRecord]) -> bytes:
    """The ledger as an .xlsx: a summary block (one row per school year, the cycle total, the
    target) and then every record. Hours are numbers; every text is formula-safe."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = cell_text(gettext("Training hours"))[:31]
    bold = Font(bold=True)

    def row(*values, strong=False):
        sheet.append([cell_text(v) if isinstance(v, str) else v for v in values])
        if strong:
            for cell in sheet[sheet.max_row]:
                cell.font = bold

    school = person.school.name if person.school else ""
    row(gettext("Training hours of %(name)s", name=person.name), strong=True)
    row(gettext("Username"), person.username)
    row(gettext("School"), school)
    row(gettext("As of"), data.today.isoformat())
    row()
    row(gettext("School year"), gettext("Hours"), strong=True)
    for year in reversed(data.years):
        row(year.label, _hours_number(year.tenths))
    row(gettext("Five-year cycle %(years)s", years=data.cycle_label), _hours_number(data.cycle_tenths), strong=True)
    row(gettext("Target"), data.target)
    row(gettext("Percent of target"), data.percent)
    row()
    row(gettext("Date"), gettext("Title"), gettext("Source"), gettext("Hours"), gettext("School year"), strong=True)
    for record in records:
        row(record.earned_on.isoformat(), record.title, str(SOURCE_LABELS.get(record.source, record.source)),
            _hours_number(record.hours_tenths), f"{record.school_year}–{record.school_year + 1}")
    for letter, width in zip("ABCDE", (28, 40, 18, 10, 14), strict=True):
        sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
