"""Helpers every page uses to write links and labels."""

from __future__ import annotations

from flask import url_for

from portal.core.templating import url_for_ids


def test_url_for_ids_writes_what_url_for_writes(app):
    with app.test_request_context("/"):
        for endpoint, id_arg, values in (
            ("resources.resource", "resource_id", {}),  # the id as a path segment
            ("scheduling.classroom_timetable", "classroom_id", {"week": "2026-09-07"}),  # and a query after it
            ("supervision.coverage", "county", {"gaps": "school"}),  # the id as a query argument
        ):
            link = url_for_ids(endpoint, id_arg, **values)
            for object_id in (1, 42, 2_000_000):
                assert link(object_id) == url_for(endpoint, **{id_arg: object_id}, **values)


def test_url_for_ids_asks_url_for_when_the_stand_in_shows_twice(app):
    from portal.core.converters import MAX_ID

    with app.test_request_context("/"):
        link = url_for_ids("supervision.coverage", "county", gaps=str(MAX_ID))
        assert link(7) == url_for("supervision.coverage", county=7, gaps=str(MAX_ID))
