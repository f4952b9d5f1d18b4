"""Helpers every page form shares."""

from __future__ import annotations

from .errors import DomainError


def form_error(form, exc: DomainError, default_field: str, aliases: dict[str, str] | None = None) -> None:
    """Show a service's refusal under the form field it names (``aliases`` maps a service's field
    name to the form's), or under ``default_field`` when the form has no such field."""
    name = (aliases or {}).get(exc.field, exc.field) or default_field
    field = getattr(form, name, None)
    if field is None or not hasattr(field, "errors"):
        field = getattr(form, default_field)
    field.errors = list(field.errors) + [str(exc.message)]
