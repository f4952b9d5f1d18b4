"""Roster import: bureau admins upload .xlsx or .csv files of schools, classes or accounts.

The page speaks Chinese by default and the catalogue is filled in later, so these tests check
status codes, line numbers, usernames and counts rather than message wording.
"""

from __future__ import annotations

import io
import os
import re
import zipfile

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.core.labels import SUBJECT_LABELS
from portal.org import roster
from portal.org.models import Classroom, County, School

PAGE = "/admin/roster"
SCHOOL_HEADER = ["学校名称", "类型", "学段", "区县", "薄弱学校", "学生数", "地址"]
USER_HEADER = ["用户名", "姓名", "角色", "学校名称", "区县", "任教学科", "职称", "骨干教师", "初始密码"]


def xlsx(rows: list[list]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list], *, bom: bool = True, encoding: str = "utf-8") -> bytes:
    text = "\r\n".join(",".join(str(c) for c in row) for row in rows) + "\r\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)


def upload(auth, kind: str, data: bytes, filename: str):
    return auth.post(
        PAGE,
        data={"kind": kind, "file": (io.BytesIO(data), filename)},
        csrf_from=PAGE,
        content_type="multipart/form-data",
    )


def problem_lines(response) -> list[int]:
    section = response.get_data(as_text=True).split('id="problems"', 1)[-1]
    return [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', section)]


def count(db, model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.fixture
def bureau(login_as):
    return login_as("bureau")


# --- pages ----------------------------------------------------------------------------------


def test_bureau_admin_sees_the_import_form(bureau, client):
    page = client.get(PAGE)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'type="file"' in body and 'enctype="multipart/form-data"' in body
    for kind in roster.KINDS:
        assert f"/admin/roster/template/{kind}" in body


def test_bureau_admin_imports_schools_from_xlsx(bureau, auth, db, make):
    make.county("城关区")
    data = xlsx([
        SCHOOL_HEADER,
        ["城关一小", "城区学校", "小学", "城关区", "否", 1200, "城关路1号"],
        ["河口村完小", "村完小", "九年一贯制", "河口县", "是", 86.0, None],
        ["石门教学点", "教学点", "小学", "河口县", None, None, None],
    ])
    response = upload(auth, "schools", data, "学校.xlsx")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    schools = {s.name: s for s in db.session.execute(select(School)).scalars()}
    assert set(schools) == {"城关一小", "河口村完小", "石门教学点"}
    assert schools["河口村完小"].kind == "village" and schools["河口村完小"].stage == "nine_year"
    assert schools["河口村完小"].is_weak and schools["河口村完小"].student_count == 86
    assert schools["城关一小"].county.name == "城关区" and schools["城关一小"].address == "城关路1号"
    assert count(db, County) == 2  # 河口县 was created once for both of its schools


def test_users_csv_with_bom_creates_accounts_that_must_change_password(bureau, auth, db, make):
    school = make.school(name="城关一小")
    data = csv_bytes([
        USER_HEADER,
        ["zhang.wei", "张伟", "教师", "城关一小", "", "语文、数学", "一级教师", "是", "Qiu-shui-2026!"],
        ["li.na", "李娜", "校长", "城关一小", "", "英语", "", "", "Chun-feng-2026!"],
    ])
    response = upload(auth, "users", data, "users.csv")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    zhang = db.session.execute(select(User).where(User.username == "zhang.wei")).scalar_one()
    assert zhang.school_id == school.id and zhang.role == "teacher" and zhang.must_change_password
    assert zhang.subjects == ["chinese", "math"] and zhang.title == "first" and zhang.is_backbone
    assert "Qiu-shui-2026!" not in response.get_data(as_text=True)  # a given password is never echoed
    auth.logout()
    login = auth.login("zhang.wei", "Qiu-shui-2026!")
    assert login.status_code == 302 and login.headers["Location"].endswith("/password")


def test_users_without_password_are_shown_one_time_passwords(bureau, auth, db, make):
    make.school(name="城关一小")
    data = xlsx([["username", "name", "role", "school"], ["wang.fang", "王芳", "teacher", "城关一小"],
                 ["chen.jie", "陈杰", "教研员", None]])
    response = upload(auth, "users", data, "users.xlsx")
    assert response.status_code == 200
    passwords = re.findall(r'<code class="token">(Px-[^<]+)</code>', response.get_data(as_text=True))
    assert len(passwords) == 2
    assert count(db, User) == 3
    auth.logout()
    login = auth.login("wang.fang", passwords[0])
    assert login.status_code == 302 and login.headers["Location"].endswith("/password")


def test_bureau_admin_imports_classrooms_with_chinese_grades(bureau, auth, db, make):
    school = make.school(name="城关一小")
    make.classroom(school=school, grade=1, name="1班")
    data = csv_bytes([["学校名称", "年级", "班级名称", "学生数"], ["城关一小", "三年级", "2班", 45],
                      ["城关一小", "高一", "1班", ""], ["城关一小", "3年级", "1班", 40]], bom=False)
    response = upload(auth, "classrooms", data, "classes.csv")
    assert response.status_code == 200
    rows = db.session.execute(select(Classroom.grade, Classroom.name).order_by(Classroom.grade, Classroom.name)).all()
    assert [tuple(r) for r in rows] == [(1, "1班"), (3, "1班"), (3, "2班"), (10, "1班")]


def test_file_with_bad_rows_imports_nothing_and_names_each_bad_line(bureau, auth, db):
    data = xlsx([
        SCHOOL_HEADER,
        ["甲校", "城区学校", "小学", "城关区", "否", 100, ""],
        ["乙校", "私立学校", "小学", "城关区", "否", 100, ""],
        ["丙校", "乡镇", "初中", "城关区", "否", 100, ""],
        ["丁校", "乡镇", "大学", "城关区", "也许", "很多", ""],
    ])
    response = upload(auth, "schools", data, "schools.xlsx")
    assert response.status_code == 422
    assert sorted(set(problem_lines(response))) == [3, 5]
    assert problem_lines(response).count(5) == 3  # stage, weak flag and student count all reported
    assert count(db, School) == 0 and count(db, County) == 0


def test_duplicate_usernames_in_the_file_and_in_the_database_are_reported(bureau, auth, db, make):
    make.user("teacher", username="zhao.lei")
    school = make.school(name="城关一小")
    before = count(db, User)
    data = csv_bytes([
        USER_HEADER,
        ["Zhao.Lei", "赵磊", "教师", school.name, "", "", "", "", ""],
        ["sun.li", "孙丽", "教师", school.name, "", "", "", "", ""],
        ["sun.li", "孙丽", "教师", school.name, "", "", "", "", ""],
    ])
    response = upload(auth, "users", data, "users.csv")
    assert response.status_code == 422
    assert problem_lines(response) == [2, 4]
    body = response.get_data(as_text=True)
    assert "zhao.lei" in body and "<td class=\"num\">3</td>" not in body
    assert count(db, User) == before


def test_classroom_of_an_unknown_school_is_reported(bureau, auth, db):
    data = xlsx([["学校名称", "年级", "班级名称"], ["不存在的学校", 3, "1班"]])
    response = upload(auth, "classrooms", data, "classes.xlsx")
    assert response.status_code == 422 and problem_lines(response) == [2]
    assert count(db, Classroom) == 0


def test_missing_required_column_is_reported_on_line_one(bureau, auth, db):
    response = upload(auth, "schools", csv_bytes([["学校名称", "区县"], ["甲校", "城关区"]]), "s.csv")
    assert response.status_code == 422 and set(problem_lines(response)) == {1}
    assert count(db, School) == 0


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (os.urandom(4096), "roster.xlsx"),
        (os.urandom(4096), "roster.csv"),
        (PNG, "photo.png"),
        (PNG, "photo.csv"),
        (PNG, "photo.xlsx"),
        (b"", "empty.xlsx"),
        (b"", "empty.csv"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "old.xls"),
        (_zip({"word/document.xml": b"<w:document/>"}), "letter.xlsx"),
        (b"PK\x03\x04" + os.urandom(200), "broken.xlsx"),
    ],
)
def test_a_file_that_is_not_a_spreadsheet_is_refused(bureau, auth, db, data, filename):
    response = upload(auth, "schools", data, filename)
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True)
    assert count(db, School) == 0


def test_a_workbook_with_too_many_entries_is_refused(bureau, auth, db):
    bomb = _zip({f"xl/junk/{i}.xml": b"<x/>" for i in range(roster.MAX_ENTRIES + 1)})
    assert upload(auth, "schools", bomb, "bomb.xlsx").status_code == 400


def test_a_workbook_that_unpacks_too_large_is_refused(bureau, auth):
    bomb = _zip({"xl/worksheets/sheet1.xml": bytes(roster.MAX_UNPACKED + 1)})
    assert len(bomb) < 1_000_000
    assert upload(auth, "schools", bomb, "bomb.xlsx").status_code == 400


def test_a_file_over_five_megabytes_is_refused(bureau, auth):
    response = upload(auth, "schools", b"a," * (roster.MAX_BYTES // 2 + 1), "big.csv")
    assert response.status_code == 413


# --- who may import -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["teacher", "principal", "researcher"])
def test_other_roles_cannot_import(role, login_as, auth, client, db):
    login_as(role)
    before = count(db, School)
    assert client.get(PAGE).status_code == 403
    assert client.get("/admin/roster/template/schools").status_code == 403
    data = xlsx([SCHOOL_HEADER, ["甲校", "城区学校", "小学", "城关区", "", "", ""]])
    response = auth.post(PAGE, data={"kind": "schools", "file": (io.BytesIO(data), "s.xlsx")},
                         content_type="multipart/form-data")
    assert response.status_code == 403
    assert count(db, School) == before


def test_anonymous_visitor_is_sent_to_login(client):
    for path in (PAGE, "/admin/roster/template/users"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_county_admin_cannot_import_a_school_into_another_county(login_as, auth, db, make):
    own, other = make.county("城关区"), make.county("河口县")
    login_as(make.user("bureau", county=own))
    data = xlsx([SCHOOL_HEADER, ["甲校", "城区学校", "小学", "", "", "", ""],
                 ["乙校", "城区学校", "小学", other.name, "", "", ""]])
    response = upload(auth, "schools", data, "s.xlsx")
    assert response.status_code == 422 and problem_lines(response) == [3]
    assert count(db, School) == 0
    response = upload(auth, "schools", xlsx([SCHOOL_HEADER, ["甲校", "城区学校", "小学", "", "", "", ""]]), "s.xlsx")
    assert response.status_code == 200
    assert db.session.execute(select(School)).scalar_one().county_id == own.id


def test_county_admin_cannot_place_accounts_in_another_countys_school(login_as, auth, db, make):
    own = make.county("城关区")
    make.school(name="河口中学", county=make.county("河口县"))
    login_as(make.user("bureau", county=own))
    data = csv_bytes([USER_HEADER, ["xu.ming", "徐明", "教师", "河口中学", "", "", "", "", ""],
                      ["he.ping", "何平", "教育局", "", "", "", "", "", ""]])
    response = upload(auth, "users", data, "u.csv")
    assert response.status_code == 422 and problem_lines(response) == [2]
    assert db.session.execute(select(User).where(User.username == "he.ping")).scalar_one_or_none() is None


def test_a_post_without_csrf_token_is_refused(bureau, client, db):
    data = xlsx([SCHOOL_HEADER, ["甲校", "城区学校", "小学", "城关区", "", "", ""]])
    response = client.post(PAGE, data={"kind": "schools", "file": (io.BytesIO(data), "s.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert count(db, School) == 0


def test_a_post_without_a_file_is_refused(bureau, auth):
    assert auth.post(PAGE, data={"kind": "schools"}, csrf_from=PAGE).status_code == 400


@pytest.mark.parametrize("kind", roster.KINDS)
def test_template_holds_the_chinese_header_row(bureau, client, kind):
    response = client.get(f"/admin/roster/template/{kind}")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert [c.value for c in sheet[1]] == [c.header for c in roster.COLUMNS[kind]]
    assert sheet.max_row == 1


def test_unknown_template_is_not_found(bureau, client):
    assert client.get("/admin/roster/template/teachers").status_code == 404


# --- the parser and the service, directly -----------------------------------------------------


def test_headers_match_chinese_names_english_aliases_and_marked_required():
    index, errors = roster.map_header("users", ["Username", "姓名*", " ROLE ", "学校", "备注", "password"])
    assert errors == []
    assert index == {"username": 0, "name": 1, "role": 2, "school": 3, "password": 5}
    index, errors = roster.map_header("schools", ["name", "学校名称", "kind"])
    assert [(e.line, e.column) for e in errors] == [(1, "学校名称"), (1, "学段")]


@pytest.mark.parametrize(
    ("text", "grade"),
    [("3", 3), ("3年级", 3), ("３年级", 3), ("三年级", 3), ("一年级", 1), ("九年级", 9), ("十二年级", 12),
     ("初一", 7), ("高一", 10), ("高三", 12), ("12", 12), ("0", None), ("13", None), ("三班", None), ("", None)],
)
def test_grades_are_read_in_digits_or_chinese(text, grade):
    assert roster.parse_grade(text) == grade


def test_subjects_are_split_on_any_common_separator():
    assert roster.parse_subjects("语文、数学,英语，音乐;体育与健康 美术  信息技术") == (
        ["chinese", "math", "english", "music", "pe", "art", "it"], []
    )
    assert roster.parse_subjects("物理；化学/生物 历史 地理 math 数学") == (
        ["physics", "chemistry", "biology", "history", "geography", "math"], []
    )
    assert roster.parse_subjects("语文、烹饪") == (["chinese"], ["烹饪"])
    assert roster.parse_subjects("") == ([], [])


def test_every_subject_code_has_chinese_words():
    assert set(roster.SUBJECT_WORDS.values()) == set(SUBJECT_LABELS)


def test_csv_falls_back_to_gb18030_and_keeps_line_numbers():
    data = "学校名称,类型\r\n\r\n城关一小,城区\r\n".encode("gb18030")
    assert roster.read_table("s.csv", data) == [["学校名称", "类型"], [], ["城关一小", "城区"]]


def test_xlsx_numbers_are_read_as_plain_text():
    table = roster.read_table("s.xlsx", xlsx([["学生数", "薄弱学校"], [300.0, True], [None, None], [12.5, "否"]]))
    assert table == [["学生数", "薄弱学校"], ["300", "1"], [], ["12.5", "否"]]


def test_too_many_rows_are_refused():
    with pytest.raises(roster.UploadRefused):
        roster.read_table("s.csv", b"name\n" + b"x\n" * (roster.MAX_ROWS + 1))


def test_service_reports_every_bad_row_and_creates_nothing(app, make, db):
    actor = make.user("bureau")
    school = make.school(name="城关一小")
    table = [
        ["用户名", "姓名", "角色", "学校名称", "任教学科", "职称", "初始密码"],
        ["ok.user", "好人", "教师", school.name, "语文", "", "Good-pass-2026!"],
        ["x", "短名", "教师", school.name, "", "", ""],
        ["no.school", "无校", "教师", "", "", "", ""],
        ["bad.bits", "坏数据", "厨师", school.name, "烹饪", "院士", "123456"],
    ]
    with app.test_request_context():
        with pytest.raises(roster.RosterInvalid) as caught:
            roster.import_roster(actor, "users", table)
    found = {(e.line, e.column) for e in caught.value.errors}
    assert found == {(3, "用户名"), (4, "学校名称"), (5, "角色"), (5, "任教学科"), (5, "职称"), (5, "初始密码")}
    db.session.rollback()
    assert db.session.execute(select(User).where(User.username == "ok.user")).scalar_one_or_none() is None
