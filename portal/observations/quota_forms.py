"""The form of an observation quota rule."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..core.forms import SelectField, SelectMultipleField
from ..core.i18n import lazy_gettext as _l
from ..core.labels import OBSERVATION_KIND_LABELS, ROLE_LABELS
from .quota_models import MAX_REQUIRED, QUOTA_ROLES

PERIOD_CHOICES = [("school_year", _l("School year (from 1 September)")),
                  ("semester", _l("Semester (autumn and spring each)"))]
CAP_CHOICES = [(0, _l("No cap")), (1, "1"), (2, "2"), (3, "3"), (4, "4")]


class QuotaRuleForm(FlaskForm):
    name = StringField(_l("Name (optional)"), validators=[Optional(), Length(max=80)])
    # Filled by the view: the city and the counties the bureau may set rules for.
    county = SelectField(_l("Applies in"), coerce=int, validate_choice=False)
    role = SelectField(_l("Who"), choices=[(r, ROLE_LABELS[r]) for r in QUOTA_ROLES])
    period = SelectField(_l("Per"), choices=PERIOD_CHOICES)
    required = IntegerField(_l("Class periods required"), validators=[
        InputRequired(_l("Give the number of periods.")),
        NumberRange(1, MAX_REQUIRED, _l("The number of periods must be from 1 to %(max)d.", max=MAX_REQUIRED))])
    kinds = SelectMultipleField(_l("Kinds of observation that count"), choices=list(OBSERVATION_KIND_LABELS.items()),
                                widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    max_periods_per_record = SelectField(_l("At most this many periods count from one record"), coerce=int,
                                         choices=CAP_CHOICES)
    version = HiddenField()  # on the change form: the version the editor loaded (core/locking.py)
