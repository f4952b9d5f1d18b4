"""Helpers every page form shares."""

from __future__ import annotations

from flask import flash
from flask_babel import get_locale
from markupsafe import Markup
from wtforms import fields, widgets

from .errors import DomainError

_OPTION = Markup('<option value="%s">%s</option>')
_SELECTED = Markup('<option selected value="%s">%s</option>')


class Select(widgets.Select):
    """WTForms' select, its plain options written directly: ``html_params`` and an
    ``inspect.signature`` per select cost a fifth of a resource list page's time (seven filters,
    sixty options). Options with attributes of their own go through WTForms as before."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        if choice.render_kw or kwargs:
            return super().render_option(choice, **kwargs)
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        # Markup's % escapes each value; html_params' order: attributes sorted
        template = _SELECTED if choice.selected else _OPTION
        return template % (value, choice.label or choice.value)

    @classmethod
    def _dispatch_render_option(cls):
        return cls.render_option  # our signature is the current one: no need to inspect it per select


class KeptSelect(Select):
    """A select whose choices are fixed where its form is declared (a list's filters): each
    rendering is kept per language, chosen value and attributes and given again, instead of
    writing the same fifty options for every page of a list (a millisecond per page for the
    resource list's seven filters). A value that is not one of the choices is rendered, not kept.
    One instance per declared field: ``SelectField(..., widget=KeptSelect())``."""

    MAX_KEPT = 512

    def __init__(self, multiple=False):
        super().__init__(multiple=multiple)
        self._kept: dict = {}
        self._values: frozenset | None = None  # of the choices, as strings

    def __call__(self, field, **kwargs):
        chosen = "" if field.data is None else str(field.data)
        if self._values is None:
            self._values = frozenset(str(value) for value, *_rest in field.choices)
        if chosen not in self._values:
            return super().__call__(field, **kwargs)
        key = (field.name, field.id, str(get_locale()), chosen, tuple(sorted(kwargs.items())))
        html = self._kept.get(key)
        if html is None:
            html = super().__call__(field, **kwargs)
            if len(self._kept) < self.MAX_KEPT:
                self._kept[key] = html
        return html


class SelectField(fields.SelectField):
    widget = Select()


class SelectMultipleField(fields.SelectMultipleField):
    widget = Select(multiple=True)


def form_error(form, exc: DomainError, default_field: str, aliases: dict[str, str] | None = None) -> None:
    """Show a service's refusal under the form field it names (``aliases`` maps a service's field
    name to the form's), or under ``default_field`` when the form has no such field. An edit made
    on a version someone else has changed since is said at the top of the page (the form keeps
    what the person typed, and ``form_status`` answers 409)."""
    from .locking import StaleEdit

    if isinstance(exc, StaleEdit):
        form.stale = True
        flash(str(exc.message), "error")
        return
    name = (aliases or {}).get(exc.field, exc.field) or default_field
    field = getattr(form, name, None)
    if field is None or not hasattr(field, "errors"):
        field = getattr(form, default_field)
    if field.type == "HiddenField":  # nobody would see it there
        field = getattr(form, default_field)
    field.errors = list(field.errors) + [str(exc.message)]


def form_status(form) -> int:
    """The status of a form page shown again: 409 when the edit was refused as stale, 400 with
    errors, else 200."""
    if getattr(form, "stale", False):
        return 409
    return 400 if form.errors else 200
