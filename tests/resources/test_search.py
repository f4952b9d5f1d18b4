"""Chinese substring search over resources: the same tests on SQLite (FTS5 trigram) and on
PostgreSQL (pg_trgm), through the one service ``apply_search``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import inspect, select, text

from portal.core.models import utcnow
from portal.resources.models import Resource
from portal.resources.permissions import visible_resources
from portal.resources.search import MAX_QUERY, apply_search, fts_phrase, normalise_query, search_text_of

TITLE = "人教版五年级下册《分数的意义》教学设计"


def found(db, user, q, order="relevance", **filters):
    """Titles of what ``user`` finds for ``q``, in order, as the list pages build the statement."""
    stmt = select(Resource).where(visible_resources(user))
    for name, value in filters.items():
        stmt = stmt.where(getattr(Resource, name) == value)
    stmt = apply_search(stmt, normalise_query(q), order)
    return [r.title for r in db.session.execute(stmt).scalars()]


def count_found(db, user, q):
    """As ``paginate`` counts: the statement wrapped in a count subquery."""
    from sqlalchemy import func

    stmt = apply_search(select(Resource).where(visible_resources(user)), normalise_query(q))
    return db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()


@pytest.fixture
def reader(make):
    return make.user("teacher", school_kind="village")


def test_a_phrase_from_the_middle_of_a_title_finds_it(db, make, reader):
    make.resource(title=TITLE)
    make.resource(title="北师大版三年级上册《观潮》第一课时 课件")
    assert found(db, reader, "分数的意义") == [TITLE]
    assert found(db, reader, "《分数的意义》教学") == [TITLE]
    assert found(db, reader, "观潮") == ["北师大版三年级上册《观潮》第一课时 课件"]


def test_two_characters_and_one_character_match(db, make, reader):
    make.resource(title=TITLE)
    make.resource(title="四年级 小数的加法 课件")
    assert found(db, reader, "分数") == [TITLE]
    assert sorted(found(db, reader, "数")) == sorted([TITLE, "四年级 小数的加法 课件"])
    assert found(db, reader, "课") == ["四年级 小数的加法 课件"]


def test_description_and_tags_are_searched(db, make, reader):
    make.resource(title="教案一", description="本课通过折纸活动理解分数的意义。")
    make.resource(title="教案二", tags="分数 单位1 五年级")
    make.resource(title="教案三", description="与本题无关")
    assert sorted(found(db, reader, "分数")) == ["教案一", "教案二"]
    assert found(db, reader, "折纸活动") == ["教案一"]
    assert found(db, reader, "单位1") == ["教案二"]


def test_latin_letters_match_whatever_their_case(db, make, reader):
    make.resource(title="Unit 3 My School 课件 PPT")
    assert found(db, reader, "my school") == ["Unit 3 My School 课件 PPT"]
    assert found(db, reader, "PPT") == ["Unit 3 My School 课件 PPT"]
    assert found(db, reader, "pp") == ["Unit 3 My School 课件 PPT"]


def test_a_private_resource_of_someone_else_never_appears(db, make, reader):
    owner = make.user("teacher")
    make.resource(owner, title=TITLE, visibility="private")
    make.resource(owner, title="分数的意义 练习", visibility="community", communities=[make.community()])
    mine = make.resource(reader, title="我的分数的意义笔记", visibility="private")
    assert found(db, reader, "分数的意义") == [mine.title]
    assert found(db, reader, "分数") == [mine.title]
    assert found(db, owner, "分数的意义", order="date") == ["分数的意义 练习", TITLE]
    assert count_found(db, reader, "分数的意义") == 1


def test_a_deleted_resource_is_not_found(db, make, reader):
    make.resource(title=TITLE, deleted_at=utcnow())
    assert found(db, reader, "分数的意义") == []


def test_filters_combine_with_the_query(db, make, reader):
    make.resource(title=TITLE, subject="math", stage="primary", grade=5, kind="lesson_plan", edition="pep")
    make.resource(title="分数的意义 课件", subject="math", stage="primary", grade=5, kind="courseware", edition="bnu")
    make.resource(title="分数的意义（初中复习）", subject="math", stage="junior", grade=7, kind="lesson_plan",
                  edition="pep")
    make.resource(title="语文 分数的意义", subject="chinese", stage="primary", grade=5, kind="lesson_plan",
                  edition="pep")
    assert found(db, reader, "分数的意义", subject="math", stage="primary", grade=5, kind="lesson_plan",
                 edition="pep") == [TITLE]
    assert sorted(found(db, reader, "分数的意义", edition="bnu")) == ["分数的意义 课件"]
    assert len(found(db, reader, "分数", subject="math")) == 3
    assert found(db, reader, "分数", subject="english") == []


def test_relevance_puts_title_matches_first_then_newest(db, make, reader):
    now = utcnow()
    make.resource(title="旧的标题里有分数的意义", created_at=now - timedelta(days=30))
    make.resource(title="说明里才有", description="关于分数的意义的讨论。", created_at=now)
    make.resource(title="新的标题：分数的意义", created_at=now - timedelta(days=1))
    make.resource(title="标签里才有", tags="分数的意义", created_at=now - timedelta(days=2))
    relevance = found(db, reader, "分数的意义")
    assert set(relevance[:2]) == {"旧的标题里有分数的意义", "新的标题：分数的意义"}
    assert set(relevance[2:]) == {"说明里才有", "标签里才有"}
    assert found(db, reader, "分数的意义", order="date") == [
        "说明里才有", "新的标题：分数的意义", "标签里才有", "旧的标题里有分数的意义"]
    short = found(db, reader, "分数")  # two characters: the same rule
    assert set(short[:2]) == {"旧的标题里有分数的意义", "新的标题：分数的意义"}
    assert set(short[2:]) == {"说明里才有", "标签里才有"}


def test_without_a_query_the_newest_come_first(db, make, reader):
    now = utcnow()
    make.resource(title="旧", created_at=now - timedelta(days=3))
    make.resource(title="新", created_at=now)
    assert found(db, reader, "") == ["新", "旧"]
    assert found(db, reader, "   ", order="relevance") == ["新", "旧"]


def test_the_index_follows_inserts_updates_and_deletes(db, make, reader):
    resource = make.resource(title="《观潮》第一课时", description="观察钱塘江大潮")
    assert found(db, reader, "观潮") == ["《观潮》第一课时"]
    assert found(db, reader, "钱塘江大潮") == ["《观潮》第一课时"]
    resource.title = "《爬山虎的脚》第二课时"
    resource.search_text = search_text_of(resource.title, "叶子和脚", "")
    resource.view_count += 1
    db.session.commit()
    assert found(db, reader, "观潮") == []
    assert found(db, reader, "钱塘江大潮") == []
    assert found(db, reader, "爬山虎的脚") == ["《爬山虎的脚》第二课时"]
    assert found(db, reader, "叶子和脚") == ["《爬山虎的脚》第二课时"]
    resource.download_count += 5  # a counter update leaves the index as it is
    db.session.commit()
    assert found(db, reader, "爬山虎的脚") == ["《爬山虎的脚》第二课时"]
    db.session.delete(resource)
    db.session.commit()
    assert found(db, reader, "爬山虎的脚") == []
    if db.engine.dialect.name == "sqlite":  # the external-content index is consistent
        db.session.execute(text("INSERT INTO resources_fts(resources_fts, rank) VALUES ('integrity-check', 1)"))


HOSTILE = [
    '"', '""', '"分数', '分数"的意义', "分数*", "*", "**", "NEAR(分数 意义)", "分数 AND 意义", "分数 OR 意义",
    "NOT 分数", "(分数)", "分数)", "(", ")", "%", "%%", "_", "__", "分_的", "\\", "分数\\", "\\%", "'", "'; DROP TABLE",
    "^分数", "search_text:分数", "{search_text}: 分数", "-分数", "+", ":", "分数" * 60, "\x00分数\x07", "\u202e分数",
    "   ", "\t\n", "a" * 1000, "分\x00数的意义",
]


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_queries_never_raise(db, make, reader, q):
    make.resource(title=TITLE, description="100% 完成_率 C:\\path")
    for order in ("relevance", "date"):
        titles = found(db, reader, q, order=order)
        assert titles in ([], [TITLE]), (q, titles)
    assert count_found(db, reader, q) in (0, 1)


def test_hostile_queries_find_only_the_literal_text(db, make, reader):
    make.resource(title='带引号的"标题"', description="完成率100% 不是 100a")
    make.resource(title="NEAR(分数 意义) 原样", description="a_b 与 a\\b")
    make.resource(title="普通的分数意义")
    assert found(db, reader, '"标题"') == ['带引号的"标题"']
    assert found(db, reader, '的"') == ['带引号的"标题"']
    assert found(db, reader, "100%") == ['带引号的"标题"']
    assert found(db, reader, "%") == ['带引号的"标题"']
    assert found(db, reader, "a_b") == ["NEAR(分数 意义) 原样"]
    assert found(db, reader, "_") == ["NEAR(分数 意义) 原样"]
    assert found(db, reader, "a\\b") == ["NEAR(分数 意义) 原样"]
    assert found(db, reader, "NEAR(分数 意义)") == ["NEAR(分数 意义) 原样"]
    assert found(db, reader, "分数 AND 意义") == []
    assert found(db, reader, "分数*") == []
    assert found(db, reader, "分数意义") == ["普通的分数意义"]


def test_normalise_query_bounds_and_cleans():
    assert normalise_query(None) == ""
    assert normalise_query("  分数\x00的\u200b意义  ") == "分数的意义"
    assert normalise_query("  Unit   THREE ") == "unit three"
    assert len(normalise_query("分" * 500)) == MAX_QUERY
    assert normalise_query("a" * (MAX_QUERY - 1) + " b") == "a" * (MAX_QUERY - 1)  # no trailing space after the cut
    assert fts_phrase('a"b') == '"a""b"'


def test_the_search_index_exists(db):
    if db.engine.dialect.name == "sqlite":
        assert "resources_fts" in inspect(db.engine).get_table_names()
    else:
        names = {i["name"] for i in inspect(db.engine).get_indexes("resources")}
        assert {"ix_resources_search_trgm", "ix_resources_search_bigrams"} <= names


def test_a_two_character_query_can_use_the_pair_index_on_postgresql(db, make, reader):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite answers two characters from the FTS5 vocabulary")
    make.resource(title=TITLE)
    make.resource(title="复式教学的分组")
    stmt = apply_search(select(Resource.id), "分数")
    compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
    # A few rows: the planner would read the table, or walk another index; a bitmap scan needs a condition
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    db.session.execute(text("SET LOCAL enable_indexscan = off"))
    plan = "\n".join(db.session.execute(text(f"EXPLAIN {compiled}")).scalars())
    db.session.rollback()
    assert "ix_resources_search_bigrams" in plan, plan
    assert found(db, reader, "分数") == [TITLE] and found(db, reader, "分组") == ["复式教学的分组"]


def test_pagination_keeps_the_order(app, db, make, reader):
    from portal.core.pagination import paginate

    now = utcnow()
    for n in range(25):
        make.resource(title=f"分数的意义 第{n}课", created_at=now - timedelta(hours=n))
    make.resource(title="别人的私有分数的意义", visibility="private")
    stmt = apply_search(select(Resource).where(visible_resources(reader)), "分数的意义")
    with app.test_request_context("/?page=2&per_page=10"):
        page = paginate(db.session, stmt)
    assert page.total == 25
    assert [r.title for r in page.items] == [f"分数的意义 第{n}课" for n in range(10, 20)]


def test_a_short_query_with_too_many_trigrams_reads_the_column(db, make, reader, monkeypatch):
    import portal.resources.search as search

    monkeypatch.setattr(search, "MAX_TERMS", 1)
    make.resource(title=TITLE, tags="分数")
    make.resource(title="分享 分组 分数")
    assert sorted(found(db, reader, "分")) == sorted([TITLE, "分享 分组 分数"])
    assert found(db, reader, "分数", order="date") == ["分享 分组 分数", TITLE]
    assert found(db, reader, "享") == ["分享 分组 分数"]


def test_a_short_query_finds_the_last_characters_of_the_text(db, make, reader):
    make.resource(title="一", tags="")
    make.resource(title="教案", tags="复式教学")
    assert found(db, reader, "一") == ["一"]
    assert found(db, reader, "教学") == ["教案"]
    assert found(db, reader, "学") == ["教案"]
