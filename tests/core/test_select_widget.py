"""Our select widget writes what WTForms' own would, only faster (portal/core/forms.py)."""

from __future__ import annotations

import pytest
from wtforms import Form
from wtforms import SelectField as WTFormsSelectField
from wtforms import SelectMultipleField as WTFormsSelectMultipleField

from portal.core.forms import SelectField, SelectMultipleField

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
