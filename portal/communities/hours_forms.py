"""The bureau's form for hours earned outside the portal."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length, ValidationError

from ..core.errors import Invalid
from ..core.i18n import lazy_gettext as _l
from .hours import HOURS_MESSAGE, TITLE_MAX, parse_hours
from .project_forms import IsoDateField


class ExternalHoursForm(FlaskForm):
    title = StringField(_l("Training"), validators=[
        InputRequired(_l("Please say what the training was.")),
        Length(max=TITLE_MAX, message=_l("The text is too long (at most %(max)d characters).")),
    ])
    hours = StringField(_l("Hours"), validators=[InputRequired(HOURS_MESSAGE)], render_kw={"inputmode": "decimal"})
    earned_on = IsoDateField(_l("Date"), validators=[InputRequired(_l("Please enter a date like 2026-09-01."))])

    def validate_hours(self, field):
        try:
            self.hours_tenths = parse_hours(field.data)
        except Invalid as exc:
            raise ValidationError(str(exc.message)) from None
