"""Fixtures of the scheduling tests: ``lw``, a county of schools and people (see live_world.py), and
``w``, the county of the week timetables (week_world.py)."""

from .live_world import lw  # noqa: F401
from .week_world import w  # noqa: F401
