"""Concurrent writers: counters that stay exact, and edits that do not overwrite each other.

* **Counters** kept on a row (members, sign-ups, replies) are recounted after a change. On
  PostgreSQL (read committed) two transactions that each add a child and then count would each miss
  the other's child, and the later write would leave the count one short: ``lock_row`` takes
  the row's lock first, so the count runs after the other transaction committed and sees its child.
  (SQLite already runs one writing transaction at a time: see core/sqlite.py.)
* **Optimistic locking.** Records two people can edit at once carry a ``version`` (SQLAlchemy's
  ``version_id_col``): every ORM update adds one and checks the row still holds the version it
  read, else ``StaleDataError``. An edit form carries the version the person loaded; when the record
  has moved on since, ``check_version`` refuses the edit with a 409 (``StaleEdit``) and the page keeps
  what they typed. Counters and other bookkeeping on such rows are written with ``set_counts`` or
  ``add_to_counts`` (plain UPDATEs that leave the version alone): a sign-up, a rating or a download
  must not make the host's open form stale. Versioned: community activities, partnerships,
  resources (metadata), dual-teacher classes, quota rules. An observation draft uses its own
  ``revision`` the same way (observations/services.update_draft); a rubric template is never
  changed in place (each save is a new version row), so saving one that is no longer current is stale.
"""

from __future__ import annotations

from sqlalchemy import inspect, select, update
from sqlalchemy.orm.attributes import flag_modified, set_committed_value

from ..extensions import db
from .errors import Conflict, Invalid
from .i18n import lazy_gettext as _l

STALE_MESSAGE = _l("Someone else changed this while you were editing; your changes were not saved: "
                   "reload to see theirs.")


class StaleEdit(Conflict):
    """The record changed since the person loaded it: their edit is not saved."""

    code = "stale"

    def __init__(self, message=None, **kwargs):
        super().__init__(message or STALE_MESSAGE, field=kwargs.pop("field", "version"), **kwargs)


def _pk_column(obj):
    (column,) = inspect(obj).mapper.primary_key
    return column


def lock_row(obj, *, reload: bool = False) -> None:
    """Lock ``obj``'s row until the transaction ends (before counting its children, or before
    checking it was not changed meanwhile; ``reload`` then reads it again after the lock). FOR NO KEY
    UPDATE: a child inserted by another transaction holds a KEY SHARE lock on this row (its
    foreign key), which this does not wait for, so two such transactions cannot deadlock."""
    column = _pk_column(obj)
    db.session.execute(select(column).where(column == inspect(obj).identity[0]).with_for_update(key_share=True))
    if reload:
        db.session.refresh(obj)


def set_counts(obj, **values) -> None:
    """Write bookkeeping columns (counters) of ``obj`` with one UPDATE that leaves its version alone,
    and show the new values on the object without marking it changed."""
    column = _pk_column(obj)
    mapper = inspect(obj).mapper
    db.session.execute(
        update(mapper.local_table).where(column == inspect(obj).identity[0])
        .values({mapper.get_property(name).columns[0].name: value for name, value in values.items()})
    )
    for name, value in values.items():
        set_committed_value(obj, name, value)


def add_to_counts(obj, **deltas) -> None:
    """Add to counters of ``obj`` in one UPDATE (``n = n + delta``: exact under concurrent writers)
    that leaves its version alone; the object reloads them when next read."""
    column = _pk_column(obj)
    mapper = inspect(obj).mapper
    table = mapper.local_table
    values = {}
    for name, delta in deltas.items():
        target = table.c[mapper.get_property(name).columns[0].name]
        values[target.name] = target + delta
    db.session.execute(update(table).where(column == inspect(obj).identity[0]).values(values))
    db.session.expire(obj, list(deltas))


def mark_edited(obj, attribute: str) -> None:
    """Make this edit a new version even if it changed only related rows (a partnership's schools):
    the row is then written, and its version goes up."""
    flag_modified(obj, attribute)


def parse_version(raw) -> int | None:
    """A submitted version: None when absent (an older client: the ORM's own check still applies),
    else a whole number (an observation draft's revision starts at 0)."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise Invalid(_l("The version of the record is not valid; reload the page."), field="version")
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit() and len(raw.strip()) <= 9:
        value = int(raw.strip())
    else:
        raise Invalid(_l("The version of the record is not valid; reload the page."), field="version")
    if value < 0:
        raise Invalid(_l("The version of the record is not valid; reload the page."), field="version")
    return value


def submitted_version(form) -> int | None:
    """The version an edit form was loaded with (its hidden ``version`` field, as sent)."""
    raw = form.version.raw_data[0] if form.version.raw_data else None
    return parse_version(raw)


def check_version(obj, version: int | None) -> None:
    """Refuse an edit made on another version of ``obj`` than the one in the database now."""
    if version is not None and version != obj.version:
        raise StaleEdit()
