"""Forms for the school calendar."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

WEEKDAYS = [(1, _l("Monday")), (2, _l("Tuesday")), (3, _l("Wednesday")), (4, _l("Thursday")), (5, _l("Friday"))]


class CalendarDayForm(FlaskForm):
    day = DateField(_l("Date"), validators=[InputRequired()])
    kind = SelectField(_l("Kind of day"), choices=[("holiday", _l("Holiday: no lessons")),
                                                   ("workday", _l("Make-up working day (调休)"))])
    follows_weekday = SelectField(_l("Follows the timetable of"), coerce=int,
                                  choices=[(0, "—")] + WEEKDAYS, default=0)
    name = StringField(_l("Name (e.g. 国庆节)"), validators=[Optional(), Length(max=60)])
