"""Filtered resource lists (portal/resources/services.py): a grade names its stage, and on SQLite a
list with several filters finds its rows by the rarest value's index. Neither changes what anyone
is shown: every list equals the one the database plans by itself."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta

import pytest
from sqlalchemy import event

from portal.core.models import utcnow
from portal.resources import search_memory, services

STAGE_GRADES = {"primary": (1, 3, 5), "junior": (7, 8)}  # no senior resource at all


@pytest.fixture
def library(make, db):
    """90 resources of two stages in every kind, most in one edition; public, community and
    private ones; and three people who look."""
    rng = random.Random(11)
    school = make.school("village")
    teachers = [make.user("teacher", school=school) for _ in range(3)]
    community = make.community("teacher", leader=teachers[0])
    moment = utcnow() - timedelta(days=1)
    for n in range(90):
        stage = rng.choice(("primary", "primary", "junior"))
        level = rng.choice(("public", "public", "community", "private"))
        make.resource(rng.choice(teachers), title=f"课{n}", visibility=level, stage=stage,
                      grade=rng.choice((None, *STAGE_GRADES[stage])), subject=rng.choice(("math", "chinese", "music")),
                      kind=rng.choice(("lesson_plan", "courseware", "lesson_case")),
                      edition=rng.choice(("pep", "pep", "pep", "hunan")),
                      created_at=moment - timedelta(hours=n // 2),
                      communities=[community] if level == "community" else ())
    db.session.commit()
    return teachers


def listed(user, **kwargs):
    page = services.resource_page(user, count_up_to=15, per_page=6, **kwargs)
    return [item.id for item in page.items], page.total, page.more


FILTER_VALUES = {"subject": ("math", "music"), "stage": ("primary", "junior", "senior"), "grade": (3, 7),
                 "kind": ("lesson_case", "courseware"), "edition": ("pep", "hunan")}


def combinations():
    options = [(name, value) for name, values in FILTER_VALUES.items() for value in values]
    for size in (2, 3):
        for combo in itertools.combinations(options, size):
            if len({name for name, _value in combo}) == size:
                yield dict(combo)


def test_every_filtered_list_is_what_the_database_lists_by_itself(app, db, library, monkeypatch):
    monkeypatch.setattr(search_memory, "VALUE_COUNTS_SECONDS", 0)  # counted afresh for every list
    lists, found = 0, 0
    for user in library:
        for filters in combinations():
            for page in (1, 2):
                walked = listed(user, page=page, **filters)
                with monkeypatch.context() as plain:
                    plain.setattr(services, "walked_filters", lambda _filters: None)
                    plain.setattr(services, "_stage_beside", lambda stage, _grade: (stage, False))  # both asked of SQL
                    assert walked == listed(user, page=page, **filters), (user.id, filters, page)
                lists += 1
                found += bool(walked[0])
    assert lists > 300 and found > 100  # most lists found something to compare


def test_a_grade_of_another_stage_lists_nothing_without_asking(app, db, library, count_queries):
    teacher = library[0]
    with count_queries() as statements:
        assert listed(teacher, stage="junior", grade=3) == ([], 0, False)
    assert not [s for s in statements if "FROM resources" in s]
    assert listed(teacher, stage="primary", grade=3) == listed(teacher, grade=3)


def test_the_rarest_value_leads(app, db, library, monkeypatch):
    monkeypatch.setattr(search_memory, "VALUE_COUNTS_SECONDS", 0)
    if db.engine.dialect.name != "sqlite":  # PostgreSQL plans by its own statistics of values
        assert search_memory.walked_filters({"stage": "senior", "edition": "pep"}) is None
        return
    counts = search_memory.value_counts()
    assert counts[(("edition",), "pep")] > counts[(("edition",), "hunan")] > 0
    assert (("stage",), "senior") not in counts
    assert search_memory.walked_filters({"stage": "senior", "edition": "pep"}) == ("stage",)
    assert search_memory.walked_filters({"edition": "hunan", "kind": "courseware", "stage": "primary"}) == ("edition",)
    pair = counts[(("subject", "grade"), "music", 7)]
    assert pair < counts[(("kind",), "lesson_case")]
    assert search_memory.walked_filters({"subject": "music", "grade": 7, "kind": "lesson_case"}) == ("subject", "grade")
    # one filter, or a person's own resources: the database's own choice
    assert search_memory.walked_filters({"edition": "pep"}) is None
    assert search_memory.walked_filters({"edition": "pep", "stage": "senior", "owner_id": library[0].id}) is None


def test_a_list_of_a_value_nobody_has_walks_that_value(app, db, library, monkeypatch):
    """What made the list slow at city scale: SQLite walked the edition's rows, most of the library."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's planner only")
    monkeypatch.setattr(search_memory, "VALUE_COUNTS_SECONDS", 0)
    search_memory.value_counts()
    ran = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        ran.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        assert listed(library[0], stage="senior", edition="pep") == ([], 0, False)
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    cursor = db.session.connection().connection.cursor()
    plans = [" ".join(row[-1] for row in cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters))
             for statement, parameters in ran if "FROM resources" in statement and "GROUP BY" not in statement]
    assert plans and all("ix_resources_stage_created" in plan for plan in plans), plans
    assert not [plan for plan in plans if "ix_resources_edition_created" in plan], plans
