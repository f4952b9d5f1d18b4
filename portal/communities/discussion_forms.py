"""Forms of the discussion pages: a thread (title and text) and a reply (text)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from ..core.i18n import lazy_gettext as _l
from ..core.sanitize import MAX_HTML_CHARS
from .discussions import TITLE_MAX


class ThreadForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[
            InputRequired(_l("Please give the thread a title.")),
            Length(max=TITLE_MAX, message=_l("The title is too long (at most %(max)d characters).")),
        ],
    )
    body = TextAreaField(
        _l("Text"),
        validators=[
            InputRequired(_l("Please write something.")),
            Length(max=MAX_HTML_CHARS, message=_l("The text is too long (at most %(max)d characters).")),
        ],
    )


class ReplyForm(FlaskForm):
    body = TextAreaField(
        _l("Your reply"),
        validators=[
            InputRequired(_l("Please write something.")),
            Length(max=MAX_HTML_CHARS, message=_l("The text is too long (at most %(max)d characters).")),
        ],
    )
