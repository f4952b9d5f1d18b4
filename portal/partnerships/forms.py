"""Forms for partnerships: the bureau's form, ending, the people responsible, a year's goals."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..core.forms import KeptSelect, SelectField, SelectMultipleField
from ..core.i18n import lazy_gettext as _l
from ..core.labels import PARTNERSHIP_KIND_LABELS


class PartnershipForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=list(PARTNERSHIP_KIND_LABELS.items()))
    name = StringField(_l("Partnership name"), validators=[DataRequired(), Length(max=100)])
    lead_school = SelectField(_l("Lead school"), coerce=int)
    members = SelectMultipleField(_l("Member schools"), coerce=int, widget=ListWidget(prefix_label=False),
                                  option_widget=CheckboxInput())
    start_date = DateField(_l("Start date"), validators=[InputRequired()])
    end_date = DateField(_l("End date (empty: open-ended)"), validators=[Optional()])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=100_000)])
    version = HiddenField()  # the version the editor loaded (core/locking.py)


class EndForm(FlaskForm):
    end_date = DateField(_l("Last day"), validators=[InputRequired()])


class PeopleForm(FlaskForm):
    people = TextAreaField(
        _l("People responsible: one per line, username then duty (e.g. zhang.wei 总校长)"),
        validators=[Optional(), Length(max=3000)],
        id="people-text",  # the page's section is #people (redirects land there): ids are unique
    )


class GoalsForm(FlaskForm):
    school_year = IntegerField(_l("School year (the year it starts)"), validators=[InputRequired(),
                                                                                   NumberRange(2000, 2100)])
    # The page's section is #goals (redirects land there): the field's id must differ.
    goals = TextAreaField(_l("Goals for the year"), validators=[Optional(), Length(max=100_000)], id="goals-text")


class PartnershipFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Name or school"), validators=[Optional(), Length(max=80)])
    kind = SelectField(_l("Kind"), choices=[("", _l("All kinds"))] + list(PARTNERSHIP_KIND_LABELS.items()),
                       validators=[Optional()], widget=KeptSelect())
    state = SelectField(_l("State"), choices=[("current", _l("Current")), ("ended", _l("Ended")), ("all", _l("All"))],
                        default="current", validators=[Optional()], widget=KeptSelect())
