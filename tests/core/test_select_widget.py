"""Our select widget writes what WTForms' own would, only faster (portal/core/forms.py)."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from wtforms import Form
from wtforms import SelectField as WTFormsSelectField
from wtforms import SelectMultipleField as WTFormsSelectMultipleField

from portal.core.forms import KeptSelect, SelectField, SelectMultipleField
from portal.core.i18n import lazy_gettext

CHOICES = [("", "任意"), ("a<b", 'A & "B"'), ("<script>", "<img src=x onerror=alert(1)>"), (True, "是"), (3, "三")]


@pytest.mark.parametrize("data", [None, "", "a<b", "<script>", True, 3])
def test_select_renders_as_wtforms_does(data):
    class Ours(Form):
        choice = SelectField("选择", choices=CHOICES, validate_choice=False)

    class Theirs(Form):
        choice = WTFormsSelectField("选择", choices=CHOICES, validate_choice=False)

    assert Ours(data={"choice": data}).choice() == Theirs(data={"choice": data}).choice()
    assert Ours(data={"choice": data}).choice(**{"aria-label": "x", "required": True}) == \
        Theirs(data={"choice": data}).choice(**{"aria-label": "x", "required": True})


def test_multiple_select_and_options_with_attributes_render_as_wtforms_does():
    choices = [("1", "一"), ("2", "二", {"disabled": True}), ("3", "<三>")]

    class Ours(Form):
        many = SelectMultipleField("多选", choices=choices)

    class Theirs(Form):
        many = WTFormsSelectMultipleField("多选", choices=choices)

    ours, theirs = Ours(data={"many": ["1", "3"]}).many(), Theirs(data={"many": ["1", "3"]}).many()
    assert ours == theirs
    assert "<img" not in ours and "&lt;三&gt;" in ours and "disabled" in ours


@pytest.mark.parametrize("data", [None, "", "a<b", "<script>", True, 3, "not a choice"])
def test_kept_select_renders_as_wtforms_does_every_time(data):
    class Ours(Form):
        choice = SelectField("选择", choices=CHOICES, validate_choice=False, widget=KeptSelect())

    class Theirs(Form):
        choice = WTFormsSelectField("选择", choices=CHOICES, validate_choice=False)

    for attributes in ({}, {"aria-label": "x"}, {}, {"aria-label": "x"}):
        assert Ours(data={"choice": data}).choice(**attributes) == Theirs(data={"choice": data}).choice(**attributes)


def test_kept_select_keeps_only_the_choices_values():
    widget = KeptSelect()

    class Filters(Form):
        choice = SelectField("选择", choices=[("", "任意"), ("a", "甲")], widget=widget)

    for value in ("", "a", "a", "typed by someone 1", "typed by someone 2"):
        Filters(data={"choice": value}).choice()
    assert len(widget._kept) == 2  # "" and "a"; what someone typed is rendered each time


def test_kept_select_follows_the_readers_language(app):
    class Filters(Form):
        subject = SelectField("科目", choices=[("", lazy_gettext("All subjects"))], widget=KeptSelect())

    with app.test_request_context():
        with force_locale("en"):
            english = Filters().subject()
        with force_locale("zh_Hans"):
            chinese = Filters().subject()
        with force_locale("en"):
            assert Filters().subject() == english
    assert "All subjects" in english and "全部学科" in chinese
