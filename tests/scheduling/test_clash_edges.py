"""Clash edges the create tests leave out: overlaps from either side, one class inside the other, and
back-to-back on both sides, for a shared assistant and for a shared receiving classroom only."""

from __future__ import annotations

from datetime import time

import pytest

from portal.core.errors import Conflict
from portal.scheduling.recurrence import Slot

from .live_world import schedule

pytestmark = pytest.mark.usefixtures("english")


@pytest.mark.parametrize(
    ("start", "end", "clash"),
    [
        (time(8, 30), time(9, 10), True),  # starts before, ends inside
        (time(9, 30), time(10, 10), True),  # starts inside
        (time(9, 10), time(9, 30), True),  # inside
        (time(8, 30), time(10, 0), True),  # around
        (time(8, 20), time(9, 0), False),  # ends as the other starts
        (time(9, 40), time(10, 20), False),  # starts as the other ends
    ],
)
@pytest.mark.parametrize(
    ("shared", "role"),
    [
        ((("village_room2", "assistant"),), "assistant"),  # 赵强 again, in his school's other room
        ((("village_room", "village_teacher"),), "receiving_classroom"),  # the same room, another assistant
    ],
)
def test_overlaps_clash_and_back_to_back_does_not(db, lw, start, end, clash, shared, role):
    schedule(lw, weeks=1)  # Monday 09:00–09:40, 山口村小学 with 赵强
    db.session.commit()
    other = dict(teacher="teacher2", room="main_room2", receiving=shared, slots=(Slot(1, start, end),), weeks=1)
    if clash:
        with pytest.raises(Conflict) as caught:
            schedule(lw, **other)
        assert {c["role"] for c in caught.value.details["conflicts"]} == {role}
    else:
        schedule(lw, **other)
