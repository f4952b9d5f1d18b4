"""Forms of the research-project pages: the project, a member to add, an output to attach."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..core.forms import SelectField
from ..core.i18n import lazy_gettext as _l
from ..core.labels import PROJECT_LEVEL_LABELS, PROJECT_STATUS_LABELS
from ..core.sanitize import MAX_HTML_CHARS
from .projects import NOTE_MAX, OUTPUT_KIND_LABELS, OUTPUT_TITLE_MAX, TITLE_MAX, URL_MAX

TOO_LONG = _l("The text is too long (at most %(max)d characters).")
BAD_DATE = _l("Please enter a date like 2026-09-01.")


class IsoDateField(DateField):
    """A yyyy-mm-dd date (an <input type="date">) whose error message is ours."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {"type": "date"})
        super().__init__(label, validators, format="%Y-%m-%d", **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(str(BAD_DATE)) from None


class ProjectForm(FlaskForm):
    title = StringField(_l("Title"), validators=[InputRequired(_l("Please give the project a title.")),
                                                 Length(max=TITLE_MAX, message=TOO_LONG)])
    lead = StringField(_l("Lead's username"), validators=[InputRequired(_l("Please enter a username.")),
                                                          Length(max=64, message=TOO_LONG)])
    level = SelectField(_l("Level"), choices=list(PROJECT_LEVEL_LABELS.items()), default="county")
    status = SelectField(_l("Status"), choices=list(PROJECT_STATUS_LABELS.items()), default="proposed")
    started_on = IsoDateField(_l("Starts on"), validators=[Optional()])
    ends_on = IsoDateField(_l("Ends on"), validators=[Optional()])
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=MAX_HTML_CHARS, message=TOO_LONG)])


class ProjectMemberForm(FlaskForm):
    username = StringField(_l("Username"), validators=[InputRequired(_l("Please enter a username.")),
                                                       Length(max=64, message=TOO_LONG)])


class OutputForm(FlaskForm):
    title = StringField(_l("Title"), validators=[InputRequired(_l("Please give the output a title.")),
                                                 Length(max=OUTPUT_TITLE_MAX, message=TOO_LONG)])
    kind = SelectField(_l("Kind of output"), choices=list(OUTPUT_KIND_LABELS.items()), default="report")
    url = StringField(_l("Link (http or https)"), validators=[Optional(), Length(max=URL_MAX, message=TOO_LONG)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=NOTE_MAX, message=TOO_LONG)])
