"""Roster import pages (filled in by the roster import work)."""
