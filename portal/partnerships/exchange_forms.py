"""Forms of teacher exchanges: recording or changing a placement."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..core.forms import SelectField
from ..core.i18n import lazy_gettext as _l
from ..core.labels import EXCHANGE_KIND_LABELS


class ExchangeForm(FlaskForm):
    username = StringField(_l("Teacher (username)"), validators=[InputRequired(_l("Give the teacher's username.")),
                                                                 Length(max=64)])
    kind = SelectField(_l("Kind of exchange"), choices=list(EXCHANGE_KIND_LABELS.items()))
    # The choices are filled by the view; the service refuses any school it must not accept.
    to_school = SelectField(_l("Placed at"), coerce=int, validate_choice=False)
    start_date = DateField(_l("Start date"), validators=[InputRequired(_l("Please give the start date."))])
    end_date = DateField(_l("End date (empty: open-ended)"), validators=[Optional()])
    days_per_week = IntegerField(_l("Days a week at the other school (travelling teachers)"),
                                 validators=[Optional(), NumberRange(1, 5)])
    partnership = SelectField(_l("Partnership (optional)"), coerce=int, validate_choice=False)
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])
