"""The register of observations (听课记录台账) as an Excel file a bureau prints."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from portal.observations import register

HEADINGS = ["No.", "Date", "Observer", "Position", "School", "Teacher", "Subject", "Grade / class", "Topic",
            "Kind of lesson", "Periods", "Overall grade", "Main strengths", "Problems", "Suggestions"]


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr(register, "local_today", lambda: date(2026, 11, 30))


def book_of(response):
    assert response.status_code == 200, response.data[:300]
    return load_workbook(io.BytesIO(response.data))


def test_register_has_one_row_per_final_record_with_the_bureaus_columns(make, login_as, client):
    county = make.county()
    principal = make.user("principal", county=county, name="张校长")
    teacher = make.user("teacher", school=principal.school, name="李老师")
    classroom = make.classroom(school=principal.school, grade=3, name="2班")
    make.counted(principal, date(2026, 10, 12), periods=2, teacher=teacher, classroom_id=classroom.id,
                 topic="=分数的初步认识", grade="good", strengths="目标明确", problems="练习偏少",
                 suggestions="增加当堂练习")
    make.counted(principal, date(2026, 9, 15), periods=1, teacher=teacher, kind="open")
    make.counted(principal, date(2026, 10, 20), teacher=teacher, status="draft")
    make.counted(principal, date(2026, 8, 31), teacher=teacher)  # last school year
    login_as(make.user("bureau", county=county, locale="en"))
    sheet = book_of(client.get(f"/observations/register.xlsx?observer_id={principal.id}")).active
    assert sheet["A1"].value == "Register of lesson observations"
    assert [c.value for c in sheet[3]] == HEADINGS
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    assert len(rows) == 2
    assert rows[0][:4] == (1, "2026-09-15", "张校长", "Principal")
    second = dict(zip(HEADINGS, rows[1]))
    assert second["Date"] == "2026-10-12" and second["Teacher"] == "李老师" and second["Periods"] == 2
    assert second["Grade / class"] == "Grade 3 2班" and second["Topic"] == "'=分数的初步认识"  # never a formula
    assert (second["Main strengths"], second["Problems"], second["Suggestions"]) == ("目标明确", "练习偏少", "增加当堂练习")
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.print_title_rows == "$3:$3"
    assert sheet.column_dimensions["M"].width == 36
    assert sheet["A3"].font.bold


def test_register_lists_only_records_the_viewer_may_read(make, login_as, client):
    north, south = make.county(), make.county()
    here = make.user("principal", county=north)
    there = make.user("principal", county=south)
    make.counted(here, date(2026, 10, 12))
    make.counted(there, date(2026, 10, 12))
    make.counted(there, date(2026, 10, 13))
    login_as(make.user("bureau", county=north))
    assert len(list(book_of(client.get("/observations/register.xlsx")).active.iter_rows(min_row=4))) == 1
    assert client.get(f"/observations/register.xlsx?county={south.id}").status_code == 403


def test_city_bureau_register_of_a_county(make, login_as, client):
    north, south = make.county(), make.county()
    make.counted(make.user("principal", county=north), date(2026, 10, 12))
    make.counted(make.user("principal", county=south), date(2026, 10, 12))
    login_as(make.user("bureau"))
    book = book_of(client.get(f"/observations/register.xlsx?county={south.id}&year=2026"))
    assert len(list(book.active.iter_rows(min_row=4))) == 1


def test_teacher_register_holds_only_their_own_and_about_them(make, login_as, client):
    principal = make.user("principal")
    teacher = make.user("teacher", school=principal.school)
    make.counted(principal, date(2026, 10, 12), teacher=teacher)
    make.counted(principal, date(2026, 10, 13))  # of another teacher
    login_as(teacher)
    assert len(list(book_of(client.get("/observations/register.xlsx")).active.iter_rows(min_row=4))) == 1


@pytest.mark.parametrize("query, status", [("year=2019", 400), ("year=abc", 400), ("observer_id=0", 400),
                                           ("observer_id=999999", 404), ("school=999999", 404)])
def test_register_bad_parameters(make, login_as, client, query, status):
    login_as(make.user("bureau"))
    assert client.get(f"/observations/register.xlsx?{query}").status_code == status


def test_register_needs_a_login(client):
    assert client.get("/observations/register.xlsx").status_code == 302


def test_a_register_too_big_to_print_asks_to_narrow_it(make, login_as, client, monkeypatch):
    monkeypatch.setattr(register, "MAX_ROWS", 2)
    county = make.county()
    principal = make.user("principal", county=county)
    for day in (12, 13, 14):
        make.counted(principal, date(2026, 10, day))
    login_as(make.user("bureau", locale="en"))
    response = client.get("/observations/register.xlsx")
    assert response.status_code == 422 and "choose a county" in response.get_data(as_text=True)
    assert client.get(f"/observations/register.xlsx?observer_id={principal.id}").status_code == 422
    make.counted(make.user("principal"), date(2026, 10, 12))
    assert client.get(f"/observations/register.xlsx?school={make.user('principal').school_id}").status_code == 200
