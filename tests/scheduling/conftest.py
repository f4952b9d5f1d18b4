"""Fixtures of the scheduling tests: ``lw``, a county of schools and people (see live_world.py)."""

from .live_world import lw  # noqa: F401
