"""Strict readers for ids, page numbers, query strings and JSON bodies: junk is a 4xx, never a 500."""

from __future__ import annotations

import pytest
from werkzeug.routing import ValidationError

from portal.core.converters import MAX_ID, IdConverter
from portal.core.errors import Invalid
from portal.core.pagination import MAX_PER_PAGE, page_args
from portal.core.validate import (
    BadRequest,
    get_int,
    get_str,
    json_body,
    parse_date,
    parse_time,
    query_choice,
    query_int,
)

from . import fast_login_as  # noqa: F401  (login_as without a password check)


@pytest.fixture
def converter(app):
    return IdConverter(app.url_map)


def test_id_converter_accepts_plain_ascii_ids_within_32_bits(converter):
    assert converter.to_python("1") == 1 and converter.to_python(str(MAX_ID)) == MAX_ID
    for value in ("0", str(MAX_ID + 1), "9999999999"):
        with pytest.raises(ValidationError):
            converter.to_python(value)


@pytest.mark.parametrize("path", ["/schools/99999999999999999999", "/schools/2147483648", "/schools/１", "/schools/١", "/schools/1_0", "/schools/+1"])
def test_odd_ids_in_page_urls_are_404(login_as, make, client, path):
    make.school()
    login_as("teacher")
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    "query, expected",
    [("", (1, 20)), ("page=3", (3, 20)), ("per_page=100", (1, 100)), ("page=100000&per_page=1", (100000, 1))],
)
def test_page_args_within_bounds(app, query, expected):
    with app.test_request_context(f"/?{query}"):
        assert page_args() == expected


@pytest.mark.parametrize(
    "query",
    ["page=0", "page=-1", "page=abc", "page=１", "page=1.5", "page= 2", "page=99999999999", "page=100001",
     f"per_page={MAX_PER_PAGE + 1}", "per_page=0", "per_page=1000000000"],
)
def test_page_args_refuse_junk_with_400(app, query):
    with app.test_request_context(f"/?{query}"), pytest.raises(BadRequest) as caught:
        page_args()
    assert caught.value.status == 400


def test_page_beyond_the_last_is_just_empty(login_as, client):
    login_as("bureau")
    assert client.get("/admin/users?page=5000").status_code == 200


@pytest.mark.parametrize("raw", ["abc", "0", "-1", "１", "99999999999999999999", str(MAX_ID + 1), "1e3", " 7"])
def test_query_int_refuses_junk(app, raw):
    with app.test_request_context("/", query_string={"school_id": raw}), pytest.raises(BadRequest):
        query_int("school_id")


def test_query_int_and_choice_accept_good_values(app):
    with app.test_request_context("/?school_id=42&role=teacher&empty="):
        assert query_int("school_id") == 42
        assert query_int("empty") is None and query_int("missing") is None
        assert query_choice("role", ("teacher", "bureau")) == "teacher"
    with app.test_request_context("/?role=admin"), pytest.raises(BadRequest):
        query_choice("role", ("teacher", "bureau"))


@pytest.mark.parametrize(
    "body",
    ['[]', '"x"', "null", "1", "{", '{"a": NaN}', '{"a": -Infinity}', '{"a": 1, "a": 2}', '{"a": "\\ud800"}',
     "[" * 100_000, '{"a":' * 50_000 + "1" + "}" * 50_000, b'{"a": "\xff"}'],
    ids=lambda b: str(b)[:20],
)
def test_json_body_refuses_junk(app, body):
    with app.test_request_context("/", method="POST", data=body, content_type="application/json"):
        with pytest.raises(BadRequest):
            json_body()


def test_json_body_needs_json_content_type(app):
    with app.test_request_context("/", method="POST", data='{"a": 1}', content_type="text/plain"):
        with pytest.raises(BadRequest):
            json_body()


def test_json_body_returns_an_object(app):
    with app.test_request_context("/", method="POST", json={"a": [1, {"b": "教研"}]}):
        assert json_body() == {"a": [1, {"b": "教研"}]}


@pytest.mark.parametrize("value", [True, "1", 1.0, [1], {"$ne": None}, 0, MAX_ID + 1, 10**400])
def test_get_int_is_strict(app, value):
    with app.test_request_context(), pytest.raises(Invalid):
        get_int({"id": value}, "id")


def test_get_int_and_get_str_accept_good_values(app):
    with app.test_request_context():
        assert get_int({"id": 7}, "id") == 7
        assert get_int({}, "id", required=False) is None
        assert get_str({"t": " 李\u202e四 "}, "t") == "李四"
        for bad in ({"t": 5}, {"t": ["a"]}, {"t": "  "}, {}, {"t": "x" * 201}):
            with pytest.raises(Invalid):
                get_str(bad, "t")


def test_dates_and_times_are_strict(app):
    with app.test_request_context():
        assert parse_date("2026-09-01", "d").isoformat() == "2026-09-01"
        assert parse_time("08:30", "t").isoformat() == "08:30:00"
        for bad in ("2026-02-30", "2026-9-1", "20260901", 20260901, None, "2026-09-01T00:00"):
            with pytest.raises(Invalid):
                parse_date(bad, "d")
        for bad in ("8:30", "25:00", "08:60", "0830", "08:30:00", None):
            with pytest.raises(Invalid):
                parse_time(bad, "t")
