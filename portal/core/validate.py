"""Strict readers for JSON bodies and query strings: wrong types, NaN, duplicate keys,
absurd nesting or sizes all become a 400/422 with a message, never a 500."""

from __future__ import annotations

import json
from datetime import date, datetime, time

from flask import request

from .converters import MAX_ID
from .errors import DomainError, Invalid
from .i18n import lazy_gettext as _l
from .sanitize import clean_text

MAX_JSON_BYTES = 1_000_000


class BadRequest(DomainError):
    status = 400
    code = "bad_request"


def _no_constants(name: str):
    raise ValueError(f"{name} is not allowed")


def _no_duplicates(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {key!r}")
        seen[key] = value
    return seen


def json_body() -> dict:
    """The request's JSON object. Refuses non-JSON, NaN/Infinity, duplicate keys and deep nesting."""
    if not request.is_json:
        raise BadRequest(_l("The request body must be JSON (Content-Type: application/json)."))
    raw = request.get_data(cache=True)
    if len(raw) > MAX_JSON_BYTES:
        raise BadRequest(_l("The request body is too large."))
    try:
        data = json.loads(raw or b"{}", parse_constant=_no_constants, object_pairs_hook=_no_duplicates)
    except RecursionError:
        raise BadRequest(_l("The JSON is nested too deeply.")) from None
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(_l("The request body is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise BadRequest(_l("The request body must be a JSON object."))
    try:
        # "\ud800" escapes decode to lone surrogates, which no database driver can encode.
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(_l("The request body is not valid JSON.")) from None
    return data


def get_int(data: dict, name: str, *, required: bool = True, low: int = 1, high: int = MAX_ID) -> int | None:
    value = data.get(name)
    if value is None:
        if required:
            raise Invalid(_l("%(field)s is required.", field=name), field=name)
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid(_l("%(field)s must be a whole number from %(low)d to %(high)d.", field=name, low=low, high=high), field=name)
    return value


def get_str(data: dict, name: str, *, required: bool = True, max_length: int = 200) -> str | None:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise Invalid(_l("%(field)s is required.", field=name), field=name)
        return None
    if not isinstance(value, str):
        raise Invalid(_l("%(field)s must be text.", field=name), field=name)
    return clean_text(value, max_length=max_length)


def parse_date(value, name: str) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise Invalid(_l("%(field)s must be a date like 2026-09-01.", field=name), field=name)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(_l("%(field)s must be a date like 2026-09-01.", field=name), field=name) from None


def parse_time(value, name: str) -> time:
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        raise Invalid(_l("%(field)s must be a time like 08:30.", field=name), field=name)
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise Invalid(_l("%(field)s must be a time like 08:30.", field=name), field=name) from None


def form_id(value) -> int:
    """``coerce`` for a form's id <select>: ASCII digits within 32 bits, 0 for "none chosen". Anything
    else (20 digits, full-width digits, text) is refused by the field as an invalid choice, before
    it can reach the database as an integer it cannot hold."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = str(value)
        if not (text.isascii() and text.isdigit()) or len(text) > 10:
            raise ValueError("not an id")
        number = int(text)
    if not 0 <= number <= MAX_ID:
        raise ValueError("not an id")
    return number


def query_int(name: str) -> int | None:
    """An optional id-like integer from the query string; junk is a 400."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10 or not 1 <= int(raw) <= MAX_ID:
        raise BadRequest(_l("%(field)s must be a positive whole number.", field=name), field=name)
    return int(raw)


def query_str(name: str, max_length: int = 100) -> str | None:
    """An optional text filter from the query string, trimmed and cleaned; too long (or otherwise
    refused by clean_text) is a 400 like every other bad query argument, not a form's 422."""
    raw = request.args.get(name)
    if not raw or not raw.strip():
        return None
    try:
        return clean_text(raw, max_length=max_length)
    except Invalid as exc:
        raise BadRequest(exc.message, field=name) from exc


def query_choice(name: str, choices) -> str | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if raw not in choices:
        raise BadRequest(_l("%(field)s must be one of: %(choices)s.", field=name, choices=", ".join(choices)), field=name)
    return raw


def parse_iso_datetime(value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise Invalid(_l("%(field)s must be a date and time in ISO 8601.", field=name), field=name) from None
    return parsed
