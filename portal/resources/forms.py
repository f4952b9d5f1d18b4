"""Forms of the resource library: share (file or link), change, new version, the list's filters.

Choices are not checked by WTForms (``validate_choice=False``): the services refuse a wrong
kind, grade, edition or audience with their own message, the same one the API gives.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..core.forms import KeptSelect, SelectField, SelectMultipleField
from ..core.i18n import lazy_gettext as _l
from ..core.labels import (
    EDITION_LABELS,
    GRADE_LABELS,
    RESOURCE_KIND_LABELS,
    STAGE_LABELS,
    SUBJECT_LABELS,
    VISIBILITY_LABELS,
)
from .services import MAX_DESCRIPTION, MAX_LINK, MAX_NOTE, MAX_TITLE, MAX_UNIT, STAGES


def _grades():
    return [(str(g), text) for g, text in GRADE_LABELS.items()]


def _stages():
    return [(s, STAGE_LABELS[s]) for s in STAGES]


class ResourceForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(_l("Please give the resource a title.")),
                                                 Length(max=MAX_TITLE)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=MAX_DESCRIPTION)])
    kind = SelectField(_l("Type of resource"), choices=list(RESOURCE_KIND_LABELS.items()), validate_choice=False)
    subject = SelectField(_l("Subject"), choices=list(SUBJECT_LABELS.items()), validate_choice=False)
    stage = SelectField(_l("Stage"), choices=_stages(), validate_choice=False)
    grade = SelectField(_l("Grade"), choices=[("", _l("Any grade"))] + _grades(), validate_choice=False)
    edition = SelectField(_l("Textbook edition"), choices=[("", _l("Not tied to an edition"))]
                          + list(EDITION_LABELS.items()), validate_choice=False)
    unit = StringField(_l("Unit or chapter"), validators=[Optional(), Length(max=MAX_UNIT)])
    tags = StringField(_l("Tags"), validators=[Optional(), Length(max=400)])
    visibility = RadioField(_l("Who can see it"), choices=list(VISIBILITY_LABELS.items()), default="public",
                            validate_choice=False)
    # Choices are the owner's communities and partnerships; the service refuses any other id.
    communities = SelectMultipleField(_l("Communities"), coerce=int, validate_choice=False,
                                      widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    partnerships = SelectMultipleField(_l("Partnerships"), coerce=int, validate_choice=False,
                                       widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    file = FileField(_l("File"))
    link_url = StringField(_l("Or a link to the resource elsewhere"), validators=[Optional(), Length(max=MAX_LINK)])
    version = HiddenField()  # on the change form: the version the owner loaded (core/locking.py)


class VersionForm(FlaskForm):
    file = FileField(_l("New file"))
    note = StringField(_l("What changed"), validators=[Optional(), Length(max=MAX_NOTE)])


def _filter() -> dict:
    """A filter's settings: any value is read (the list ignores what it does not know), and
    its rendering is kept (core/forms.KeptSelect: one per field)."""
    return {"validate_choice": False, "widget": KeptSelect()}


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search titles, descriptions and tags"), validators=[Optional(), Length(max=200)])
    subject = SelectField(_l("Subject"), choices=[("", _l("All subjects"))] + list(SUBJECT_LABELS.items()), **_filter())
    stage = SelectField(_l("Stage"), choices=[("", _l("All stages"))] + _stages(), **_filter())
    grade = SelectField(_l("Grade"), choices=[("", _l("All grades"))] + _grades(), **_filter())
    kind = SelectField(_l("Type of resource"),
                       choices=[("", _l("All types of resource"))] + list(RESOURCE_KIND_LABELS.items()), **_filter())
    edition = SelectField(_l("Textbook edition"), choices=[("", _l("All editions"))] + list(EDITION_LABELS.items()),
                          **_filter())
    sort = SelectField(_l("Sort"), choices=[("relevance", _l("Best match first")), ("date", _l("Newest first"))],
                       default="relevance", **_filter())
    mine = BooleanField(_l("Only mine"))
