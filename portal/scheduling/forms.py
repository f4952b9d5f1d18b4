"""Forms for the school calendar and the dual-teacher classes."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..core.forms import KeptSelect, SelectField
from ..core.i18n import lazy_gettext as _l
from ..core.labels import GRADE_LABELS, SUBJECT_LABELS
from ..core.validate import form_id

WEEKDAYS = [(1, _l("Monday")), (2, _l("Tuesday")), (3, _l("Wednesday")), (4, _l("Thursday")), (5, _l("Friday"))]


class CalendarDayForm(FlaskForm):
    day = DateField(_l("Date"), validators=[InputRequired()])
    kind = SelectField(_l("Kind of day"), choices=[("holiday", _l("Holiday: no lessons")),
                                                   ("workday", _l("Make-up working day (调休)"))])
    follows_weekday = SelectField(_l("Follows the timetable of"), coerce=int,
                                  choices=[(0, "—")] + WEEKDAYS, default=0)
    name = StringField(_l("Name (e.g. 国庆节)"), validators=[Optional(), Length(max=60)])


# --- dual-teacher classes -------------------------------------------------------------------------

ALL_WEEKDAYS = WEEKDAYS + [(6, _l("Saturday")), (7, _l("Sunday"))]
MAX_SLOTS = 7
MAX_ROWS = 10  # receiving classrooms


class ReceivingRow(FlaskForm):
    class Meta:
        csrf = False

    classroom = SelectField(_l("Receiving classroom"), coerce=form_id, validate_choice=False, default=0)
    assistant = SelectField(_l("Assistant teacher"), coerce=form_id, validate_choice=False, default=0)


class SlotRow(FlaskForm):
    class Meta:
        csrf = False

    weekday = SelectField(_l("Weekday"), coerce=int, choices=[(0, "—")] + ALL_WEEKDAYS, default=0)
    start = StringField(_l("Starts"), validators=[Optional(), Length(max=5)])
    end = StringField(_l("Ends"), validators=[Optional(), Length(max=5)])


class SeriesForm(FlaskForm):
    """People, rooms and weekly times: shared by the new class and the change from a date."""

    main_teacher = SelectField(_l("Main teacher (主讲教师)"), coerce=form_id, validate_choice=False, default=0)
    main_classroom = SelectField(_l("Main classroom"), coerce=form_id, validate_choice=False, default=0)
    receiving = FieldList(FormField(ReceivingRow), min_entries=1, max_entries=MAX_ROWS)
    slots = FieldList(FormField(SlotRow), min_entries=1, max_entries=MAX_SLOTS)
    last_date = DateField(_l("Last date"), validators=[Optional()])
    skip_clashes = BooleanField(_l("Skip the clashing dates"))


class LiveClassForm(SeriesForm):
    subject = SelectField(_l("Subject"), choices=[("", "—")] + list(SUBJECT_LABELS.items()))
    grade = SelectField(_l("Grade"), coerce=int, choices=[(0, "—")] + list(GRADE_LABELS.items()), default=0)
    title = StringField(_l("Title (optional)"), validators=[Optional(), Length(max=120)])
    term = SelectField(_l("Term"), coerce=form_id, validate_choice=False, default=0)
    first_date = DateField(_l("First date"), validators=[Optional()])


class ChangeSeriesForm(SeriesForm):
    from_date = DateField(_l("Change from"), validators=[InputRequired()])
    version = HiddenField()  # the version of the class the editor loaded (core/locking.py)


class AddSessionForm(FlaskForm):
    day = DateField(_l("Date"), validators=[InputRequired()])
    start_time = StringField(_l("Starts"), validators=[InputRequired(), Length(max=5)])
    end_time = StringField(_l("Ends"), validators=[InputRequired(), Length(max=5)])


class MoveSessionForm(AddSessionForm):
    pass


class CancelSessionForm(FlaskForm):
    note = StringField(_l("Reason (optional)"), validators=[Optional(), Length(max=200)])


class AttendanceForm(FlaskForm):
    classroom_id = HiddenField()
    present = IntegerField(_l("Students present"), validators=[InputRequired(), NumberRange(0, 200)])
    class_size = IntegerField(_l("Class size"), validators=[InputRequired(), NumberRange(1, 200)])
    feedback = TextAreaField(_l("Feedback (optional)"), validators=[Optional(), Length(max=500)])


class ClassFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Teacher, school or title"), validators=[Optional(), Length(max=60)])
    subject = SelectField(_l("Subject"), choices=[("", _l("All subjects"))] + list(SUBJECT_LABELS.items()),
                          validators=[Optional()], widget=KeptSelect())
    state = SelectField(_l("State"), choices=[("current", _l("Current and coming")), ("ended", _l("Ended")),
                                               ("all", _l("All"))], validators=[Optional()], widget=KeptSelect())
