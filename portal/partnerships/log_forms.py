"""Forms of the pairing activity log: an entry (with optional files), adding a file, the list's filters."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..core.forms import KeptSelect, SelectField, SelectMultipleField
from ..core.i18n import lazy_gettext as _l
from ..core.labels import PAIRING_ACTIVITY_LABELS


class LogEntryForm(FlaskForm):
    kind = SelectField(_l("Kind of activity"), choices=list(PAIRING_ACTIVITY_LABELS.items()))
    title = StringField(_l("Title"), validators=[DataRequired(_l("Please give the entry a title.")), Length(max=120)])
    happened_on = DateField(_l("Date"), validators=[InputRequired(_l("Please give the date it happened."))])
    # The choices are the partnership's schools; the service refuses any other id with its own message.
    schools = SelectMultipleField(_l("Schools involved"), coerce=int, validate_choice=False,
                                  widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    people = StringField(_l("People with an account (usernames, separated by spaces or commas)"),
                         validators=[Optional(), Length(max=3000)])
    other_people = StringField(_l("Others (names, for people without an account)"),
                               validators=[Optional(), Length(max=300)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=100_000)])
    files = MultipleFileField(_l("Files (optional)"))


class AttachmentForm(FlaskForm):
    file = FileField(_l("File"))


class LogFilterForm(FlaskForm):
    class Meta:
        csrf = False

    kind = SelectField(_l("Kind"), choices=[("", _l("All kinds"))] + list(PAIRING_ACTIVITY_LABELS.items()),
                       validators=[Optional()], widget=KeptSelect())
    year = SelectField(_l("School year"), choices=[("", _l("All years"))], validators=[Optional()])
