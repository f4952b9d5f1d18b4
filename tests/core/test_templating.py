"""Helpers every page uses to write links and labels."""

from __future__ import annotations

import pytest
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


def _text(html: str, start: str, end: str) -> str:
    return html.split(start, 1)[1].split(end, 1)[0]


def test_the_page_frame_speaks_the_readers_language(fast_login, client):
    # The frame's words and links are kept per language (core/templating.page_frame): a person
    # switching language sees the other language's frame at once, and others keep theirs.
    fast_login("teacher", locale="en")
    english = client.get("/schools").get_data(as_text=True)
    assert '<html lang="en">' in english and "Log out" in english and "Times shown in" in english
    fast_login("teacher", locale="zh_Hans")
    chinese = client.get("/schools").get_data(as_text=True)
    assert '<html lang="zh-Hans">' in chinese and "Log out" not in chinese
    assert _text(english, '<a class="brand" href="', '"') == _text(chinese, '<a class="brand" href="', '"') == "/"


def test_the_menu_marks_the_page_it_is_on_and_only_that_one(fast_login, client):
    fast_login("bureau")
    schools = client.get("/schools").get_data(as_text=True)
    assert schools.count('aria-current="page"') == 2  # desk bar and phone menu
    assert '<a href="/schools" aria-current="page">' in schools
    terms = client.get("/terms").get_data(as_text=True)
    assert '<a href="/terms" aria-current="page">' in terms and '<a href="/schools" >' in terms
    outside = client.get("/password").get_data(as_text=True)  # a page the menu does not name
    assert 'aria-current="page"' not in outside


def test_static_urls_of_the_frame_follow_the_file(app, tmp_path, monkeypatch):
    from portal.core import assets

    (tmp_path / "x.css").write_text("a{}")
    monkeypatch.setattr(app, "static_folder", str(tmp_path))
    monkeypatch.setattr(assets, "RECHECK_SECONDS", 0)
    with app.test_request_context("/"):
        first = assets.static_url("x.css")
        assert first == url_for("static", filename="x.css")
        (tmp_path / "x.css").write_text("a{color:red}")
        assert assets.static_url("x.css") == url_for("static", filename="x.css") != first
        assert assets.static_url("missing.css") == url_for("static", filename="missing.css")


def test_the_locale_selector_gives_one_parsed_locale_per_language(app):
    from portal.core.web import select_locale

    with app.test_request_context("/"):
        first, again = select_locale(), select_locale()
    assert first is again and str(first) == app.config["BABEL_DEFAULT_LOCALE"]


@pytest.fixture
def fast_login(make, client):
    def _login(role="teacher", **kwargs):
        user = make.user(role=role, **kwargs)
        with client.session_transaction() as session:
            session.clear()
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return user

    return _login
