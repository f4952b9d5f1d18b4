"""Forms for schools, classrooms, terms and bell schedules."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, FieldList, FormField, IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..core.forms import KeptSelect, SelectField
from ..core.i18n import lazy_gettext as _l
from ..core.labels import GRADE_LABELS, SCHOOL_KIND_LABELS, SEMESTER_LABELS, STAGE_LABELS


class SchoolForm(FlaskForm):
    name = StringField(_l("School name"), validators=[DataRequired(), Length(max=80)])
    kind = SelectField(_l("Kind"), choices=list(SCHOOL_KIND_LABELS.items()))
    stage = SelectField(_l("Stage"), choices=list(STAGE_LABELS.items()))
    county = StringField(_l("County"), validators=[DataRequired(), Length(max=60)])
    is_weak = BooleanField(_l("Weak school (薄弱学校)"))
    student_count = IntegerField(_l("Students"), default=0, validators=[InputRequired(), NumberRange(0, 100_000)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])


class ClassroomForm(FlaskForm):
    grade = SelectField(_l("Grade"), coerce=int, choices=list(GRADE_LABELS.items()))
    name = StringField(_l("Class name"), validators=[DataRequired(), Length(max=40)])
    student_count = IntegerField(_l("Students"), default=0, validators=[InputRequired(), NumberRange(0, 200)])


class TermForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=60)])
    school_year = IntegerField(_l("School year (the year it starts)"), validators=[InputRequired(), NumberRange(2000, 2100)])
    semester = SelectField(_l("Semester"), choices=list(SEMESTER_LABELS.items()))
    start_date = DateField(_l("First day"), validators=[InputRequired()])
    end_date = DateField(_l("Last day"), validators=[InputRequired()])


class PeriodRow(FlaskForm):
    class Meta:
        csrf = False

    number = StringField(_l("Period"), validators=[Optional(), Length(max=2)])
    start = StringField(_l("Starts"), validators=[Optional(), Length(max=5)])
    end = StringField(_l("Ends"), validators=[Optional(), Length(max=5)])


class BellScheduleForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=40)])
    from_month_day = StringField(_l("In force from (MM-DD)"), validators=[Optional(), Length(max=5)])
    to_month_day = StringField(_l("In force until (MM-DD)"), validators=[Optional(), Length(max=5)])
    periods = FieldList(FormField(PeriodRow), min_entries=10, max_entries=20)


class SchoolFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Name"), validators=[Optional(), Length(max=80)])
    kind = SelectField(_l("Kind"), choices=[("", _l("All kinds"))] + list(SCHOOL_KIND_LABELS.items()), validators=[Optional()], widget=KeptSelect())
