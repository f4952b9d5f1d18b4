"""Roster import: read an uploaded .xlsx or .csv, check every row, then create schools,
classrooms or users through the org and accounts services.

Two phases: first every row is parsed and checked (cells, in-file duplicates, batched look-ups
against the database), collecting all problems; only when none is found are the rows created,
through ``save_school``, ``save_classroom`` and ``create_user`` so their rules still apply.
Any problem raises ``RosterInvalid`` with the whole list; the caller rolls back. Never commits.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import secrets
import unicodedata
import warnings
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..accounts.models import User
from ..accounts.passwords import check_password_policy
from ..accounts.services import _validate_username, create_user
from ..core.authz import PRINCIPAL, TEACHER
from ..core.errors import DomainError, Invalid, UploadRefused, UploadTooLarge
from ..core.i18n import lazy_gettext as _l
from ..core.sanitize import clean_text
from ..extensions import db
from .models import Classroom, County, School
from .services import get_or_create_county, save_classroom, save_school

log = logging.getLogger("portal.audit")

KINDS = ("schools", "classrooms", "users")
MAX_BYTES = 5 * 1024 * 1024
MAX_UNPACKED = 50 * 1024 * 1024  # zip bomb guard: zipfile never inflates past the declared sizes
MAX_ENTRIES = 1000
MAX_ROWS = 20_000
MAX_COLS = 30
NOT_A_SPREADSHEET = _l("This file is not a spreadsheet. Please upload an .xlsx workbook or a .csv file.")
EMPTY = _l("This cell must not be empty.")
_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class RowError:
    line: int  # as the spreadsheet shows it: the header is line 1
    column: str
    message: object  # a lazy string, rendered in the reader's language


class RosterInvalid(Invalid):
    """One or more rows are bad; nothing may be imported."""

    def __init__(self, errors: list[RowError]):
        super().__init__(_l("Nothing was imported: %(n)d problems were found.", n=len(errors)))
        self.errors = sorted(errors, key=lambda e: e.line)


@dataclass
class ImportResult:
    kind: str
    created: int = 0
    counties_created: int = 0
    passwords: list[tuple[int, str, str, str]] = field(default_factory=list)  # line, username, name, password


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the Chinese header of the template
    aliases: tuple[str, ...]
    required: bool
    hint: object

    @property
    def english(self) -> str:
        return next((a for a in self.aliases if a.isascii()), "")


def _word(text: str) -> str:
    """Fold a code-like cell: full-width to half-width, case and spacing ignored."""
    return re.sub(r"[\s\-]+", "_", unicodedata.normalize("NFKC", text or "").strip().casefold())


def _words(spec: str) -> dict[str, str]:
    """{folded word: code} from "code: word word | code: …"; each code also stands for itself."""
    pairs = (part.partition(":") for part in spec.split("|"))
    return {_word(w): code.strip() for code, _, words in pairs for w in (code, *words.split())}


KIND_WORDS = _words("urban: 城区学校 城区 | township: 乡镇学校 乡镇 | village: 村小 村小学 村完小 | teaching_point: 教学点")
STAGE_WORDS = _words("primary: 小学 | junior: 初中 初级中学 | nine_year: 九年一贯制 九年一贯制学校 | senior: 高中 高级中学 |"
                     "twelve_year: 十二年一贯制 十二年一贯制学校")
ROLE_WORDS = _words("bureau: 教育局 | researcher: 教研员 | principal: 校长 | teacher: 教师 老师")
TITLE_WORDS = _words("none: 无 未定级 | third: 三级教师 | second: 二级教师 | first: 一级教师 | senior: 高级教师 |"
                     "professor: 正高级教师")
SUBJECT_WORDS = _words(
    "chinese: 语文 | math: 数学 | english: 英语 | physics: 物理 | chemistry: 化学 | biology: 生物 生物学 |"
    "morality: 道德与法治 道法 思想政治 政治 | history: 历史 | geography: 地理 | science: 科学 | music: 音乐 |"
    "pe: 体育 体育与健康 | art: 美术 | it: 信息技术 信息科技 | psychology: 心理健康 心理 | labour: 劳动 劳动教育 |"
    "calligraphy: 书法 | other: 其他"
)
YES_NO = {"": False, "是": True, "否": False, "yes": True, "no": False, "y": True, "n": False,
          "1": True, "0": False, "true": True, "false": False}
_CN_NUMBERS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10, "十一": 11, "十二": 12}
_GRADE_WORDS = {"初一": 7, "初二": 8, "初三": 9, "高一": 10, "高二": 11, "高三": 12}

_COUNTY = Column("county", "区县", ("县区", "区/县", "county", "district"), False,
                 _l("County or district. County-level admins may leave it empty: their own county is used."))
COLUMNS: dict[str, tuple[Column, ...]] = {
    "schools": (
        Column("name", "学校名称", ("学校", "校名", "name", "school", "school_name"), True, _l("The school's full name.")),
        Column("kind", "类型", ("学校类型", "kind", "type"), True, _l("城区学校, 乡镇学校, 村小 or 教学点.")),
        Column("stage", "学段", ("stage",), True, _l("小学, 初中, 九年一贯制, 高中 or 十二年一贯制.")),
        _COUNTY,
        Column("is_weak", "薄弱学校", ("是否薄弱学校", "is_weak", "weak"), False, _l("是 or 否; empty means 否.")),
        Column("student_count", "学生数", ("学生人数", "student_count", "students"), False, _l("A whole number.")),
        Column("address", "地址", ("学校地址", "address"), False, _l("Optional.")),
    ),
    "classrooms": (
        Column("school", "学校名称", ("学校", "school", "school_name"), True,
               _l("A school already in the portal: import the schools first.")),
        _COUNTY,
        Column("grade", "年级", ("grade",), True, _l("1 to 12, or 三年级, 初一, 高二 …")),
        Column("name", "班级名称", ("班级", "班名", "name", "class", "class_name"), True, _l("For example 1班.")),
        Column("student_count", "学生数", ("学生人数", "student_count", "students"), False, _l("0 to 200.")),
    ),
    "users": (
        Column("username", "用户名", ("账号", "帐号", "登录名", "username", "login"), True,
               _l("3 to 64 letters, digits, dots, dashes or underscores.")),
        Column("name", "姓名", ("name", "full_name"), True, _l("The person's name.")),
        Column("role", "角色", ("role",), True, _l("教育局, 教研员, 校长 or 教师.")),
        Column("school", "学校名称", ("学校", "school", "school_name"), False,
               _l("Required for teachers and principals; the school must already be in the portal.")),
        _COUNTY,
        Column("subjects", "任教学科", ("学科", "subjects", "subject"), False, _l("For example 语文、数学.")),
        Column("title", "职称", ("title",), False, _l("无, 三级教师, 二级教师, 一级教师, 高级教师 or 正高级教师.")),
        Column("is_backbone", "骨干教师", ("是否骨干教师", "骨干", "is_backbone", "backbone"), False, _l("是 or 否.")),
        Column("password", "初始密码", ("密码", "password", "initial_password"), False,
               _l("Optional. Left empty, a one-time password is generated and shown once.")),
    ),
}


# --- reading the file ---------------------------------------------------------------------


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()


def _collect(rows: Iterable[Iterable]) -> list[list[str]]:
    """Rows as lists of text, index + 1 being the line; refuses more than MAX_ROWS data rows."""
    table: list[list[str]] = []
    for line, raw in enumerate(rows, start=1):
        cells = [_cell(v) for v in list(raw)[:MAX_COLS]]
        while cells and not cells[-1]:
            cells.pop()
        if line > MAX_ROWS + 1:
            if cells:
                raise UploadRefused(_l("The file has more than %(n)d rows; split it into smaller files.", n=MAX_ROWS))
            continue
        table.append(cells)
    return table


def _read_xlsx(data: bytes) -> list[list[str]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
        if len(entries) > MAX_ENTRIES or sum(e.file_size for e in entries) > MAX_UNPACKED:
            raise UploadRefused(_l("This workbook unpacks to too much data; it is refused."))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                sheet = workbook.worksheets[0]
                return _collect(sheet.iter_rows(max_col=MAX_COLS, values_only=True))
            finally:
                workbook.close()
    except UploadRefused:
        raise
    except Exception:  # openpyxl and zipfile raise many kinds for a broken or foreign file
        raise UploadRefused(NOT_A_SPREADSHEET) from None


def _read_csv(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")  # what Excel on a Chinese Windows saves
        except UnicodeDecodeError:
            raise UploadRefused(NOT_A_SPREADSHEET) from None
    if _BINARY.search(text):
        raise UploadRefused(NOT_A_SPREADSHEET)
    first = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first.count)  # Excel writes ";" or tabs in some locales
    try:
        return _collect(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error:
        raise UploadRefused(NOT_A_SPREADSHEET) from None


def read_table(filename: str, data: bytes) -> list[list[str]]:
    """The cells of the upload's first sheet as text (row i is line i + 1). Decides by content:
    a ZIP must open as an .xlsx workbook, anything else must be a text .csv."""
    if len(data) > MAX_BYTES:
        raise UploadTooLarge(_l("The file is larger than %(n)d MB.", n=MAX_BYTES // (1024 * 1024)))
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix not in ("xlsx", "csv"):
        raise UploadRefused(NOT_A_SPREADSHEET)
    if not data.strip():
        raise UploadRefused(_l("The file is empty."))
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise UploadRefused(_l("This is an old .xls workbook; save it as .xlsx and upload again."))
    if suffix == "xlsx":
        raise UploadRefused(NOT_A_SPREADSHEET)
    return _read_csv(data)


def template_workbook(kind: str) -> bytes:
    """An .xlsx holding only the header row for this kind of import."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = {"schools": "学校", "classrooms": "班级", "users": "用户"}[kind]
    sheet.append([c.header for c in COLUMNS[kind]])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        sheet.column_dimensions[cell.column_letter].width = 16
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- parsing cells ------------------------------------------------------------------------


def parse_grade(text: str) -> int | None:
    """1..12 from "3", "3年级", "三年级", "初一", "高二"; None when not a grade."""
    word = _word(text).replace("_", "")
    if word in _GRADE_WORDS:
        return _GRADE_WORDS[word]
    word = word.removesuffix("年级")
    number = int(word) if word.isascii() and word.isdigit() and len(word) <= 2 else _CN_NUMBERS.get(word)
    return number if number is not None and 1 <= number <= 12 else None


def parse_subjects(text: str) -> tuple[list[str], list[str]]:
    """Subject codes from "语文、数学" (separated by 、 , ， ; ； / or spaces), and the words not known."""
    codes: list[str] = []
    unknown: list[str] = []
    for part in re.split(r"[、,，;；/\s]+", (text or "").strip()):
        code = SUBJECT_WORDS.get(_word(part))
        if part and code is None:
            unknown.append(part)
        elif code and code not in codes:
            codes.append(code)
    return codes, unknown


def map_header(kind: str, header: list[str]) -> tuple[dict[str, int], list[RowError]]:
    """Column key -> index for a header row; errors for missing required or repeated columns."""
    by_alias = {_word(a): c for c in COLUMNS[kind] for a in (c.header, *c.aliases)}
    index: dict[str, int] = {}
    errors: list[RowError] = []
    for i, text in enumerate(header):
        column = by_alias.get(_word(re.sub(r"[*＊:：]", "", text)))
        if column is None:
            continue  # extra columns (备注 …) are ignored
        if column.key in index:
            errors.append(RowError(1, text, _l("This column appears twice.")))
        index[column.key] = i
    errors += [RowError(1, c.header, _l("This column is missing.")) for c in COLUMNS[kind]
               if c.required and c.key not in index]
    return index, errors


class _Row:
    """One data row being checked: reads cells by column key and records every problem."""

    def __init__(self, line: int, cells: dict[str, str], headers: dict[str, str], errors: list[RowError]):
        self.line, self.cells, self.headers, self._errors = line, cells, headers, errors
        self.ok = True

    def error(self, key: str, message) -> None:
        self.ok = False
        self._errors.append(RowError(self.line, self.headers.get(key, key), message))

    def text(self, key: str, *, required: bool = False, max_length: int = 200) -> str:
        try:
            value = clean_text(self.cells.get(key, ""), max_length=max_length)
        except Invalid as exc:
            self.error(key, exc.message)
            return ""
        if required and not value:
            self.error(key, EMPTY)
        return value

    def choice(self, key: str, words: dict[str, str], message, *, required: bool = True, default: str = "") -> str:
        raw = self.cells.get(key, "")
        if not raw.strip():
            if required:
                self.error(key, EMPTY)
            return default
        code = words.get(_word(raw))
        if code is None:
            self.error(key, message)
        return code or default

    def integer(self, key: str, high: int) -> int:
        raw = _word(self.cells.get(key, ""))
        match = re.fullmatch(r"(\d{1,7})(\.0+)?", raw)
        if raw and (match is None or int(match.group(1)) > high):
            self.error(key, _l("Enter a whole number from 0 to %(n)d.", n=high))
            return 0
        return int(match.group(1)) if match else 0

    def flag(self, key: str) -> bool:
        value = YES_NO.get(_word(self.cells.get(key, "")))
        if value is None:
            self.error(key, _l("Enter 是 or 否 (yes or no)."))
        return bool(value)

    def county(self, actor: User, *, required: bool) -> str:
        """The county the row names; county-level admins are held to their own county."""
        name = self.text("county", max_length=60)
        if actor.county_id is not None:
            if name and name != actor.county.name:
                self.error("county", _l("You can only import into your own county (%(c)s).", c=actor.county.name))
            return actor.county.name
        if required and not name:
            self.error("county", EMPTY)
        return name

    def attempt(self, fn: Callable, *args, **kwargs):
        """Run a service; a domain error becomes this row's error (phase two)."""
        try:
            return fn(*args, **kwargs)
        except DomainError as exc:
            self.error({"school_id": "school"}.get(exc.field or "", exc.field or ""), exc.message)
            return None


def _raise_if(errors: list[RowError]) -> None:
    if errors:
        raise RosterInvalid(errors)


def _lookup(make_stmt: Callable, values: Iterable) -> list[tuple]:
    """Run ``make_stmt(chunk)`` over the values 500 at a time (SQLite caps bound parameters)."""
    values, found = sorted(values), []
    for start in range(0, len(values), 500):
        found += [tuple(r) for r in db.session.execute(make_stmt(values[start : start + 500]))]
    return found


def _schools_named(names: set[str], actor: User) -> dict[str, list[School]]:
    """Schools by name, limited to a county-level admin's own county."""
    stmt = select(School).options(selectinload(School.county))
    if actor.county_id is not None:
        stmt = stmt.where(School.county_id == actor.county_id)
    found: dict[str, list[School]] = defaultdict(list)
    for (school,) in _lookup(lambda chunk: stmt.where(School.name.in_(chunk)), names):
        found[school.name].append(school)
    return found


def _find_school(row: _Row, schools: dict[str, list[School]], name: str, county: str) -> School | None:
    candidates = [s for s in schools.get(name, []) if not county or s.county.name == county]
    if not candidates:
        row.error("school", _l("No school named %(name)s is in the portal (within your county). "
                               "Create or import the schools first.", name=name))
    elif len(candidates) > 1:
        row.error("county", _l("Several schools are named %(name)s; fill in the county.", name=name))
    return candidates[0] if len(candidates) == 1 else None


def _county_ids(names: set[str]) -> dict[str, int]:
    return dict(_lookup(lambda chunk: select(County.name, County.id).where(County.name.in_(chunk)), names))


# --- the three imports -------------------------------------------------------------------


def _import_schools(actor: User, rows: list[_Row], errors: list[RowError]) -> ImportResult:
    """Schools, unique by county and name; a county named for the first time is created."""
    plans = []
    for row in rows:
        values = dict(
            name=row.text("name", required=True, max_length=80),
            kind=row.choice("kind", KIND_WORDS, _l("Unknown kind of school; use 城区学校, 乡镇学校, 村小 or 教学点.")),
            stage=row.choice("stage", STAGE_WORDS, _l("Unknown stage; use 小学, 初中, 九年一贯制, 高中 or 十二年一贯制.")),
            is_weak=row.flag("is_weak"),
            student_count=row.integer("student_count", 100_000),
            address=row.text("address", max_length=200),
        )
        plans.append((row, row.county(actor, required=True), values))
    counties = _county_ids({county for _, county, _ in plans if county})
    existing = set(_lookup(lambda ids: select(School.county_id, School.name).where(School.county_id.in_(ids)),
                           counties.values()))
    seen: dict[tuple[str, str], int] = {}
    for row, county, values in plans:
        key = (county, values["name"])
        if row.ok and key in seen:
            row.error("name", _l("The same school appears on line %(n)d.", n=seen[key]))
        elif row.ok and (counties.get(county), values["name"]) in existing:
            row.error("name", _l("A school named %(name)s already exists in this county.", name=values["name"]))
        seen.setdefault(key, row.line)
    _raise_if(errors)
    result = ImportResult("schools")
    cache: dict[str, County] = {}
    for row, county, values in plans:
        if county not in cache:
            cache[county] = get_or_create_county(county)
            result.counties_created += county not in counties
        result.created += row.attempt(save_school, actor, None, county=cache[county], **values) is not None
    _raise_if(errors)
    return result


def _import_classrooms(actor: User, rows: list[_Row], errors: list[RowError]) -> ImportResult:
    """Classes of schools already in the portal, unique by school, grade and name."""
    plans = []
    for row in rows:
        school_name, county = row.text("school", required=True, max_length=80), row.county(actor, required=False)
        grade = parse_grade(row.cells.get("grade", ""))
        if grade is None:
            row.error("grade", _l("Unknown grade; use 1 to 12, 三年级, 初一 or 高二."))
        values = dict(grade=grade, name=row.text("name", required=True, max_length=40),
                      student_count=row.integer("student_count", 200))
        plans.append((row, school_name, county, values))
    schools = _schools_named({p[1] for p in plans if p[1]}, actor)
    existing = set(_lookup(
        lambda ids: select(Classroom.school_id, Classroom.grade, Classroom.name).where(Classroom.school_id.in_(ids)),
        [s.id for group in schools.values() for s in group],
    ))
    seen: dict[tuple, int] = {}
    resolved = []
    for row, school_name, county, values in plans:
        school = _find_school(row, schools, school_name, county) if school_name else None
        key = (school.id if school else None, values["grade"], values["name"])
        if row.ok and key in seen:
            row.error("name", _l("The same class appears on line %(n)d.", n=seen[key]))
        elif row.ok and key in existing:
            row.error("name", _l("This school already has that class."))
        seen.setdefault(key, row.line)
        resolved.append((row, school, values))
    _raise_if(errors)
    result = ImportResult("classrooms")
    for row, school, values in resolved:
        result.created += row.attempt(save_classroom, actor, None, school=school, **values) is not None
    _raise_if(errors)
    return result


def _import_users(actor: User, rows: list[_Row], errors: list[RowError]) -> ImportResult:
    """Accounts that must change their password at first login; one-time passwords where none is given."""
    plans = []
    for row in rows:
        try:
            username = _validate_username(row.cells.get("username", ""))
        except Invalid as exc:
            username = ""
            row.error("username", exc.message if row.cells.get("username") else EMPTY)
        values = dict(
            username=username,
            name=row.text("name", required=True, max_length=60),
            role=row.choice("role", ROLE_WORDS, _l("Unknown role; use 教育局, 教研员, 校长 or 教师.")),
            title=row.choice("title", TITLE_WORDS, _l("Unknown title; use 无, 三级教师 … 正高级教师."),
                             required=False, default="none"),
        )
        subjects, unknown = parse_subjects(row.cells.get("subjects", ""))
        if unknown:
            row.error("subjects", _l("Unknown subject: %(s)s.", s="、".join(unknown)))
        password = row.cells.get("password", "")
        if password:
            try:
                check_password_policy(password, username=username, name=values["name"])
            except Invalid as exc:
                row.error("password", exc.message)
        school_name = row.text("school", max_length=80)
        if values["role"] in (TEACHER, PRINCIPAL) and not school_name:
            row.error("school", _l("Teachers and principals must belong to a school."))
        values.update(subjects=subjects, password=password)
        plans.append((row, school_name, row.county(actor, required=False), row.flag("is_backbone"), values))
    schools = _schools_named({p[1] for p in plans if p[1]}, actor)
    counties = _county_ids({p[2] for p in plans if p[2]})
    taken = {u for (u,) in _lookup(lambda names: select(User.username).where(User.username.in_(names)),
                                   {p[4]["username"] for p in plans if p[4]["username"]})}
    seen: dict[str, int] = {}
    resolved = []
    for row, school_name, county, backbone, values in plans:
        school = _find_school(row, schools, school_name, county) if school_name else None
        if school is not None and not school.is_active:
            row.error("school", _l("This school has been deactivated."))
        if county and county not in counties:
            row.error("county", _l("No county named %(c)s is in the portal.", c=county))
        username = values["username"]
        if username in seen:
            row.error("username", _l("The same username appears on line %(n)d.", n=seen[username]))
        elif username in taken:
            row.error("username", _l("The username %(u)s is already taken.", u=username))
        if username:
            seen.setdefault(username, row.line)
        resolved.append((row, school, counties.get(county), backbone, values))
    _raise_if(errors)
    result = ImportResult("users")
    for row, school, county_id, backbone, values in resolved:
        given = values.pop("password")
        password = given or "Px-" + secrets.token_urlsafe(9)
        # Each password is hashed once, here, and only after every row passed: scrypt costs
        # ~50-100 ms a user, so a few hundred rows take tens of seconds, which is fine for an
        # occasional admin task; thousands of accounts want a background job or the CLI.
        user = row.attempt(create_user, actor, password=password, school=school, county_id=county_id,
                           must_change_password=True, check_policy=bool(given), **values)
        if user is not None:
            user.is_backbone = backbone
            result.created += 1
            if not given:
                result.passwords.append((row.line, user.username, user.name, password))
    _raise_if(errors)
    return result


IMPORTERS = {"schools": _import_schools, "classrooms": _import_classrooms, "users": _import_users}


def import_roster(actor: User, kind: str, table: list[list[str]]) -> ImportResult:
    """Check every row of ``table`` (header first) and create them all, or raise RosterInvalid
    listing every problem. Adds and flushes; the caller commits, or rolls back on error."""
    if kind not in KINDS:
        raise Invalid(_l("Unknown kind of import."), field="kind")
    header = table[0] if table else []
    index, errors = map_header(kind, header)
    if not any(header):
        errors = [RowError(1, "", _l("The first row must hold the column headers."))]
    _raise_if(errors)
    headers = {c.key: c.header for c in COLUMNS[kind]} | {key: header[i] for key, i in index.items()}
    rows = [
        _Row(line, {key: cells[i] if i < len(cells) else "" for key, i in index.items()}, headers, errors)
        for line, cells in enumerate(table[1:], start=2)
        if any(cells)
    ]
    if not rows:
        raise RosterInvalid([RowError(2, "", _l("There are no rows below the header."))])
    result = IMPORTERS[kind](actor, rows, errors)
    log.info("roster imported kind=%s created=%d by=%s", kind, result.created, actor.id)
    return result
