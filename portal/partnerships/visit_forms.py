"""Forms of researchers' contact schools and visits."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..core.forms import SelectField
from ..core.i18n import lazy_gettext as _l
from ..core.labels import VISIT_KIND_LABELS


class VisitForm(FlaskForm):
    # The choices are the researcher's contact schools; the service refuses any other with its own message.
    school = SelectField(_l("School visited"), coerce=int, validate_choice=False)
    visited_on = DateField(_l("Date of the visit"), validators=[InputRequired(_l("Please give the date of the visit."))])
    kind = SelectField(_l("Kind of visit"), choices=list(VISIT_KIND_LABELS.items()))
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=100_000)])


class ContactSchoolForm(FlaskForm):
    school = SelectField(_l("Rural school"), coerce=int, validate_choice=False)
