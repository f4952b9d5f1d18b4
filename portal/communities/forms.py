"""Forms for communities, members and activities."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ..core.forms import KeptSelect, SelectField
from ..core.i18n import lazy_gettext as _l
from ..core.labels import COMMUNITY_KIND_LABELS, COMMUNITY_LEVEL_LABELS, STAGE_LABELS, SUBJECT_LABELS

HOURS = re.compile(r"^\d{1,2}(\.\d)?$")


class CommunityForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=list(COMMUNITY_KIND_LABELS.items()))
    name = StringField(_l("Community name"), validators=[DataRequired(), Length(max=80)])
    level = SelectField(_l("Level"), choices=list(COMMUNITY_LEVEL_LABELS.items()), default="county")
    county_id = SelectField(_l("County"), coerce=int, validators=[Optional()])
    subject = SelectField(_l("Subject (teacher communities)"), choices=[("", "—")] + list(SUBJECT_LABELS.items()),
                          validators=[Optional()])
    stage = SelectField(_l("School stage (teacher communities)"), choices=[("", "—")] + list(STAGE_LABELS.items()),
                        validators=[Optional()])
    leader = StringField(_l("Leader's username"), validators=[Optional(), Length(max=64)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=100_000)])


class DescriptionForm(FlaskForm):
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=100_000)])


class JoinForm(FlaskForm):
    note = StringField(_l("A word to the leader (optional)"), validators=[Optional(), Length(max=200)])


class AddMemberForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    role = SelectField(_l("Role"), choices=[("member", _l("Member")), ("core", _l("Core member"))])


class CommunityFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Name"), validators=[Optional(), Length(max=80)])
    kind = SelectField(_l("Kind"), choices=[("", _l("All kinds"))] + list(COMMUNITY_KIND_LABELS.items()),
                       validators=[Optional()], widget=KeptSelect())
    mine = BooleanField(_l("Only mine"))


def _hours(form, field) -> None:
    if not HOURS.match((field.data or "").strip()):
        raise ValidationError(_l("Training hours like 2 or 1.5 (at most 40)."))


class ActivityForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    kind = SelectField(_l("Type"))
    starts_at = DateTimeLocalField(_l("Starts"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()])
    ends_at = DateTimeLocalField(_l("Ends"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()])
    is_online = BooleanField(_l("Online (网络教研)"))
    place = StringField(_l("Place"), validators=[Optional(), Length(max=200)])
    online_url = StringField(_l("Meeting link"), validators=[Optional(), Length(max=300)])
    host = SelectField(_l("Host"), coerce=int)
    hours = StringField(_l("Training hours for attending"), default="2", validators=[InputRequired(), _hours])
    capacity = IntegerField(_l("Places (empty: no limit)"), validators=[Optional(), NumberRange(1, 10_000)])
    description = TextAreaField(_l("What it is about"), validators=[Optional(), Length(max=5000)])
    version = HiddenField()  # the version the editor loaded (core/locking.py)

    def hours_tenths(self) -> int:
        whole, _, tenth = self.hours.data.strip().partition(".")
        return int(whole) * 10 + int(tenth or 0)


class MinutesForm(FlaskForm):
    minutes = TextAreaField(_l("Minutes"), validators=[Optional(), Length(max=100_000)])


class AttendanceForm(FlaskForm):
    """Checkboxes named ``present`` (user ids) are read from the request; walk-ins by username."""

    walk_ins = StringField(_l("Also present (usernames, separated by spaces or commas)"),
                           validators=[Optional(), Length(max=2000)])


class ActivityTypeForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=40)])
    community_kind = SelectField(
        _l("For"), choices=[("", _l("Both kinds"))] + list(COMMUNITY_KIND_LABELS.items()), validators=[Optional()]
    )
