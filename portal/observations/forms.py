"""Forms of lesson observations. Values are read as text and checked by the service (one set of
rules for the page, the autosave and the API); the forms give CSRF, labels and rendering."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import Optional

from ..core.forms import KeptSelect, SelectField
from ..core.i18n import lazy_gettext as _l
from ..core.labels import OBSERVATION_GRADE_LABELS, OBSERVATION_KIND_LABELS, SUBJECT_LABELS


class ObservationForm(FlaskForm):
    school_id = SelectField(_l("School observed"), validate_choice=False)
    observed_teacher_id = SelectField(_l("Teacher observed"), validate_choice=False)
    classroom_id = SelectField(_l("Class"), validate_choice=False)
    observed_on = StringField(_l("Date of the lesson"))
    periods = StringField(_l("Periods (节) counted"))
    subject = SelectField(_l("Subject"), choices=[("", "—")] + list(SUBJECT_LABELS.items()), validate_choice=False)
    topic = StringField(_l("Topic of the lesson (课题)"))
    kind = SelectField(_l("Kind of lesson"), choices=list(OBSERVATION_KIND_LABELS.items()), validate_choice=False)
    record_html = TextAreaField(_l("Running record of the lesson"))
    strengths = TextAreaField(_l("Strengths"))
    problems = TextAreaField(_l("Problems"))
    suggestions = TextAreaField(_l("Suggestions"))
    action_steps = TextAreaField(_l("Action steps for the teacher (one per line; the next observation checks them)"))
    grade = SelectField(_l("Overall grade"), choices=[("", "—")] + list(OBSERVATION_GRADE_LABELS.items()),
                        validate_choice=False)
    private_notes = TextAreaField(_l("Private notes (only you see them)"))
    live_session_id = HiddenField()
    client_key = HiddenField()
    revision = HiddenField()


class AmendForm(ObservationForm):
    reason = StringField(_l("Reason for the correction"))


class AttachmentForm(FlaskForm):
    file = FileField(_l("Photo of the board, lesson plan…"))


class ReplyForm(FlaskForm):
    reply = TextAreaField(_l("Your reply"))


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    status = SelectField(_l("Status"), choices=[("", _l("All")), ("draft", _l("Drafts")), ("final", _l("Final"))],
                         validators=[Optional()], widget=KeptSelect())
    kind = SelectField(_l("Kind of lesson"), choices=[("", _l("All kinds"))] + list(OBSERVATION_KIND_LABELS.items()),
                       validators=[Optional()], widget=KeptSelect())
    year = SelectField(_l("School year"), choices=[("", _l("All years"))], validators=[Optional()])


class RubricForm(FlaskForm):
    name = StringField(_l("Name"))
    description = TextAreaField(_l("Description"))
