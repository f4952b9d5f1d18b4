"""Time zones: aware UTC inside, PORTAL_TIMEZONE at the edges."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def portal_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["PORTAL_TIMEZONE"])


def local_now() -> datetime:
    return datetime.now(UTC).astimezone(portal_tz())


def local_today() -> date:
    return local_now().date()


def to_local(value: datetime) -> datetime:
    return value.astimezone(portal_tz())


def isoformat_local(value: datetime | None) -> str | None:
    """ISO 8601 with the portal's offset, as the API promises."""
    return to_local(value).isoformat(timespec="seconds") if value else None


def school_year_of(day: date) -> int:
    """The school year starts on 1 September; it is named by the calendar year it starts in."""
    return day.year if day.month >= 9 else day.year - 1
