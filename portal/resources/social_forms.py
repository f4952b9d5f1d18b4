"""Forms of the social part of a resource page: rating, "used in my class", comments; and the
small forms that attach a resource to a community activity."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..core.i18n import lazy_gettext as _l
from ..core.sanitize import MAX_HTML_CHARS
from .social import NOTE_MAX


class RatingForm(FlaskForm):
    # Radio buttons drawn by the template; the value is checked by social.parse_stars, the one
    # rule for pages and the API (0, 6, 3.5, "abc" and a missing value are all refused).
    stars = StringField(_l("Your rating"))


class UseForm(FlaskForm):
    used_on = DateField(_l("Date of the lesson"), validators=[Optional()],
                        render_kw={"max": "9999-12-31"})
    note = StringField(
        _l("Class and lesson"),
        validators=[Length(max=NOTE_MAX, message=_l("The note is too long (at most %(max)d characters)."))],
        render_kw={"placeholder": _l("e.g. 三年级二班 第2课时")},
    )


class CommentForm(FlaskForm):
    body = TextAreaField(
        _l("Your comment"),
        validators=[
            InputRequired(_l("Please write something.")),
            Length(max=MAX_HTML_CHARS, message=_l("The text is too long (at most %(max)d characters).")),
        ],
    )
