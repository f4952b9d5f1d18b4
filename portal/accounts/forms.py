"""Account forms (Flask-WTF: every one carries the CSRF token)."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..core.forms import KeptSelect, SelectField, SelectMultipleField
from ..core.i18n import lazy_gettext as _l
from ..core.labels import ROLE_LABELS, SUBJECT_LABELS, TITLE_LABELS


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    remember = BooleanField(_l("Keep me logged in on this device"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=1024)])
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two new passwords differ."))],
    )


def _choices(mapping):
    return [(code, text) for code, text in mapping.items()]


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=3, max=64)])
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=60)])
    role = SelectField(_l("Role"), choices=_choices(ROLE_LABELS))
    school_id = SelectField(_l("School"), coerce=int, validate_choice=True)
    county_id = SelectField(_l("County (bureau staff and researchers)"), coerce=int, validate_choice=True)
    # Checkboxes rather than a multiple select: far easier on a phone.
    subjects = SelectMultipleField(
        _l("Subjects taught"),
        choices=_choices(SUBJECT_LABELS),
        validators=[Optional()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    title = SelectField(_l("Professional title"), choices=_choices(TITLE_LABELS))
    is_backbone = BooleanField(_l("Backbone teacher (骨干教师)"))
    password = PasswordField(_l("Initial password"), validators=[Optional(), Length(max=256)])


class UserFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Name or username"), validators=[Optional(), Length(max=64)])
    role = SelectField(_l("Role"), choices=[("", _l("All roles"))] + _choices(ROLE_LABELS), validators=[Optional()], widget=KeptSelect())
