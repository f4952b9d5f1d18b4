"""Searches' matches remembered per process (portal/resources/search_memory.py): every person
finds exactly what the search in SQL finds, in the same order, and every write that changes what
a search finds or who may see it is seen by the next search."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import delete, text, update

from portal.core.models import utcnow
from portal.core.timeutil import local_today
from portal.resources import search_memory, services
from portal.resources.models import Resource, ResourceAudience, ResourceSearchState

WORDS = ("分数", "分数的意义", "小数", "观潮", "面积", "圆的面积", "Fraction")
QUERIES = ("分数", "分数的意义", "数", "面积", "的", "fraction", "不存在的词", "观潮 课件")


@pytest.fixture
def city(make, db):
    """Two counties; communities (one inactive), partnerships (one ended); 80 resources of every
    level shared with them, some deleted, some sharing a creation time; and the people who look."""
    rng = random.Random(7)
    counties = [make.county(), make.county()]
    schools = [make.school(kind, county=county) for county in counties for kind in ("urban", "village", "township")]
    teachers = [make.user("teacher", school=school) for school in schools for _ in range(2)]
    communities = [make.community("teacher", leader=teachers[i], county=counties[i % 2]) for i in range(3)]
    communities[2].is_active = False
    for i, teacher in enumerate(teachers):
        make.member(communities[(i + 1) % 3], user=teacher)  # leaders are members of their own already
    start = local_today() - timedelta(days=30)
    partnerships = [make.partnership(lead=schools[0], members=[schools[1]], start=start),
                    make.partnership(lead=schools[3], members=[schools[4], schools[2]], start=start),
                    make.partnership(lead=schools[5], members=[schools[1]], start=start - timedelta(days=300),
                                     end=local_today() - timedelta(days=2))]
    moment = utcnow() - timedelta(days=1)
    for n in range(80):
        owner = rng.choice(teachers)
        level = rng.choice(("public", "public", "community", "pairing", "private"))
        title = f"{rng.choice(WORDS)}第{n}课 {rng.choice(WORDS) if rng.random() < 0.3 else ''}"
        make.resource(
            owner, title=title, visibility=level, description=rng.choice(("", "本课讲分数", "课件 观潮")),
            subject=rng.choice(("math", "chinese")), grade=rng.choice((None, 3, 5)),
            created_at=moment - timedelta(hours=n // 3),  # three at a time: the id decides among them
            communities=rng.sample(communities, rng.randint(1, 2)) if level == "community" else (),
            partnerships=rng.sample(partnerships, rng.randint(1, 2)) if level == "pairing" else (),
            deleted_at=utcnow() if rng.random() < 0.1 else None,
        )
    db.session.commit()
    viewers = [*teachers[:6], make.user("principal", school=schools[1]), make.user("principal", school=schools[4]),
               make.user("researcher", county=counties[0]), make.user("bureau"),
               make.user("bureau", county=counties[1])]
    return viewers, communities, partnerships


def listed(app, user, memory: bool, **kwargs):
    app.config["RESOURCE_SEARCH_MEMORY"] = search_memory.DEFAULT_QUERIES if memory else 0
    page = services.resource_page(user, **kwargs)
    return ([item.id for item in page.items], [getattr(item, "title", None) for item in page.items],
            page.total, page.more)


def test_every_person_finds_what_the_search_in_sql_finds(app, db, city):
    viewers, _communities, _partnerships = city
    compared = 0
    for user in viewers:
        for q in QUERIES:
            for kwargs in ({}, {"sort": "date"}, {"subject": "math"}, {"grade": 5, "sort": "date"},
                           {"mine": True}, {"page": 2, "per_page": 5}, {"count_up_to": 3, "per_page": 2},
                           {"cards": False, "per_page": 7}, {"page": 40}):
                expected = listed(app, user, False, q=q, **kwargs)
                assert listed(app, user, True, q=q, **kwargs) == expected, (user.role, q, kwargs)
                compared += bool(expected[0])
    assert compared > 200  # most of them found something


def test_the_second_search_does_not_look_for_the_matches_again(app, client, login_as, make, count_queries):
    login_as("teacher")
    make.resource(title="分数的意义 教学设计")
    with count_queries() as first:
        assert "分数的意义 教学设计" in client.get("/resources?q=分数").get_data(as_text=True)
    with count_queries() as second:
        assert "分数的意义 教学设计" in client.get("/resources?q=分数").get_data(as_text=True)

    def looking(statements):
        return [s for s in statements if "resources_fts" in s or "search_text" in s]

    assert looking(first) and not looking(second)
    assert len(second) < len(first)


@pytest.mark.parametrize("change", ["private", "deleted", "title", "audience", "community_gone", "raw_sql"])
def test_a_write_is_seen_by_the_next_search(app, db, client, make, login_as, change):
    reader = login_as("teacher")
    community = make.community("teacher")
    make.member(community, user=reader)
    resource = make.resource(title="分数的意义 教学设计", visibility="community", communities=[community])
    marker = f'href="/resources/{resource.id}"'
    assert marker in client.get("/resources?q=分数").get_data(as_text=True)
    if change == "private":
        resource.visibility = "private"
    elif change == "deleted":
        resource.deleted_at = utcnow()
    elif change == "title":
        resource.title, resource.search_text = "观潮 课件", "观潮 课件\n\n"
    elif change == "audience":
        resource.audiences = [ResourceAudience(community_id=make.community("teacher").id)]
    elif change == "community_gone":
        db.session.execute(delete(ResourceAudience).where(ResourceAudience.community_id == community.id))
    else:  # a write outside the services (a bureau's script, a migration) is seen too
        db.session.execute(update(Resource).where(Resource.id == resource.id).values(visibility="private"))
    db.session.commit()
    assert marker not in client.get("/resources?q=分数").get_data(as_text=True)


def test_a_new_resource_and_a_new_audience_are_found(app, db, client, make, login_as):
    reader = login_as("teacher")
    community = make.community("teacher")
    client.get("/resources?q=分数")  # nothing yet, and that is remembered
    shared = make.resource(title="分数墙 课件", visibility="community", communities=[community])
    public = make.resource(title="分数的意义 教案")
    page = client.get("/resources?q=分数").get_data(as_text=True)
    assert f'href="/resources/{public.id}"' in page and f'href="/resources/{shared.id}"' not in page
    make.member(community, user=reader)  # who may see changes with the reader, asked on every search
    assert f'href="/resources/{shared.id}"' in client.get("/resources?q=分数").get_data(as_text=True)


def test_counters_do_not_forget_the_matches(app, db, client, make, login_as, count_queries):
    login_as("teacher")
    resource = make.resource(title="分数的意义 教学设计")
    client.get("/resources?q=分数")
    generation = db.session.get(ResourceSearchState, 1).generation
    db.session.execute(update(Resource).where(Resource.id == resource.id)
                       .values(view_count=Resource.view_count + 1, download_count=Resource.download_count + 1))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(ResourceSearchState, 1).generation == generation


def test_too_many_matches_and_no_generation_search_in_sql(app, db, make, monkeypatch):
    reader = make.user("teacher")
    for n in range(5):
        make.resource(title=f"分数 第{n}课")
    monkeypatch.setattr(search_memory, "MOST", 3)
    expected = listed(app, reader, False, q="分数")
    assert len(expected[0]) == 5
    assert listed(app, reader, True, q="分数") == expected
    assert search_memory.matches_of("分数") is None  # remembered as too many: SQL again
    monkeypatch.setattr(search_memory, "MOST", 100)
    db.session.execute(text("DELETE FROM resource_search_state"))
    db.session.commit()
    assert search_memory.matches_of("分数") is None
    assert listed(app, reader, True, q="分数") == expected


def test_the_memory_keeps_its_bounds(monkeypatch):
    monkeypatch.setattr(search_memory, "KEPT", 5)
    memory = search_memory._Memory(size=3)
    match = search_memory.Match(1, "public", None, "math", "primary", None, "other", "", 1, (), ())

    def matches(n):
        return search_memory.Matches(1, (match,) * n, (match,) * n)

    for q in "abcd":
        memory.put(q, matches(1))
    assert list(memory.entries) == ["b", "c", "d"]  # at most `size` queries, the oldest used goes
    memory.put("e", matches(4))
    assert list(memory.entries) == ["d", "e"] and memory.kept == 5  # at most KEPT matches in all
    memory.put("e", matches(2))
    assert memory.kept == 3


# --- a list without a query: whether the public resources alone pass the count's limit ----------


def test_every_person_counts_their_list_as_the_count_in_sql_does(app, db, city):
    """Lists without a query, counted up to a limit: kept (public ones alone past the limit: "more")
    or counted, every person's total, "more" and page are those of the count in SQL."""
    viewers, _communities, _partnerships = city
    shortcuts = 0
    for user in viewers:
        for kwargs in ({"count_up_to": 3}, {"count_up_to": 20}, {"count_up_to": 200},
                       {"count_up_to": 10, "subject": "math"}, {"count_up_to": 10, "grade": 5},
                       {"count_up_to": 5, "subject": "chinese", "grade": 3}, {"count_up_to": 3, "mine": True},
                       {"count_up_to": 10, "cards": False, "page": 2, "per_page": 5}):
            expected = listed(app, user, False, **kwargs)
            assert listed(app, user, True, **kwargs) == expected, (user.role, kwargs)
            shortcuts += expected[3]
    assert shortcuts > 20  # many lists pass their limit: the kept answer was used


def test_a_list_past_the_limit_counts_nothing_of_the_person(app, db, make, count_queries):
    teacher = make.user("teacher")
    for n in range(4):
        make.resource(title=f"公开 {n}", visibility="public")
    db.session.commit()
    app.config["RESOURCE_SEARCH_MEMORY"] = search_memory.DEFAULT_QUERIES
    services.resource_page(teacher, count_up_to=3)  # the public ones counted once, kept
    with count_queries() as statements:
        page = services.resource_page(teacher, count_up_to=3)
    assert (page.total, page.more, len(page.items)) == (3, True, 4)
    assert not [s for s in statements if "count(" in s.lower() and "FROM resources" in s]


@pytest.mark.parametrize("change", ["deleted", "private", "subject", "raw_sql"])
def test_the_kept_public_count_follows_every_write(app, db, make, change):
    """Four public resources and a limit of 3: "more". One of them no longer public, deleted or
    filtered out: three, counted exactly; and a new one makes it "more" again."""
    teacher = make.user("teacher")
    resources = [make.resource(title=f"公开 {n}", visibility="public", subject="math") for n in range(4)]
    db.session.commit()
    app.config["RESOURCE_SEARCH_MEMORY"] = search_memory.DEFAULT_QUERIES

    def counted():
        page = services.resource_page(teacher, count_up_to=3, subject="math")
        return page.total, page.more

    assert counted() == (3, True)
    gone = resources[0]
    if change == "deleted":
        gone.deleted_at = utcnow()
    elif change == "private":
        gone.visibility = "private"
    elif change == "subject":
        gone.subject = "chinese"
    else:
        db.session.execute(update(Resource).where(Resource.id == gone.id).values(visibility="private"))
    db.session.commit()
    assert counted() == (3, False)
    make.resource(title="公开 新", visibility="public", subject="math")
    db.session.commit()
    assert counted() == (3, True)
