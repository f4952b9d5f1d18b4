"""Typed lists of usernames (attendance walk-ins, people in a log entry)."""

from __future__ import annotations

import pytest

from portal.accounts.services import user_ids_from_list
from portal.core.errors import Invalid

pytestmark = pytest.mark.usefixtures("english")


def test_names_are_found_in_order_once_whatever_the_separator_or_case(make):
    a, b = make.user("teacher", username="zhao.qiang"), make.user("teacher", username="chen.jing")
    assert user_ids_from_list("Chen.Jing，zhao.qiang、chen.jing ;", field="people") == [b.id, a.id]
    assert user_ids_from_list("  ", field="people") == []


def test_unknown_names_and_too_many_are_refused_by_name(make):
    make.user("teacher", username="zhao.qiang")
    with pytest.raises(Invalid, match="Unknown usernames: nobody.here"):
        user_ids_from_list("zhao.qiang nobody.here", field="people")
    with pytest.raises(Invalid, match="At most 2 people"):
        user_ids_from_list("a b c", field="people", max_count=2)
