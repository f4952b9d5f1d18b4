"""Demo and scale data: the demo accounts of CONTRACT.md, and deterministic scale data."""

import pytest
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.cli.demo import DataExists, seed_demo
from portal.cli.scale import seed_scale
from portal.org.models import RURAL_KINDS, School

DEMO_ACCOUNTS = {
    "bureau": "bureau",
    "researcher": "researcher",
    "principal.city": "principal",
    "principal.rural": "principal",
    "teacher.city": "teacher",
    "teacher.rural": "teacher",
}


def test_demo_county_has_the_contract_accounts_and_schools(db, client):
    seed_demo()
    users = {u.username: u for u in db.session.execute(select(User)).scalars()}
    for username, role in DEMO_ACCOUNTS.items():
        assert users[username].role == role
    assert users["principal.city"].school.kind == "urban"
    assert users["teacher.city"].school.kind == "urban"
    assert users["principal.rural"].school.kind == "village"
    assert users["teacher.rural"].school.kind == "village"
    kinds = dict(db.session.execute(select(School.kind, func.count()).group_by(School.kind)).all())
    assert kinds["urban"] >= 3 and kinds["township"] >= 3
    assert kinds.get("village", 0) + kinds.get("teaching_point", 0) >= 6
    for username in DEMO_ACCOUNTS:
        response = client.post("/api/v1/auth/token", json={"username": username, "password": "Demo-pass-2026"})
        assert response.status_code == 200, username


def test_demo_refuses_a_database_with_data(db, make):
    make.user("bureau")
    with pytest.raises(DataExists):
        seed_demo()


def _fingerprint(db):
    rows = db.session.execute(
        select(User.username, User.name, User.role, School.name, School.kind)
        .outerjoin(School, User.school_id == School.id)
        .order_by(User.username)
    ).all()
    return [tuple(r) for r in rows]


def test_scale_data_is_deterministic_for_a_seed(db):
    seed_scale(schools=30, teachers=200, seed=7)
    first = _fingerprint(db)
    db.session.remove()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()
    seed_scale(schools=30, teachers=200, seed=7)
    assert _fingerprint(db) == first
    assert len(first) == 200
    rural = db.session.execute(select(func.count()).select_from(School).where(School.kind.in_(RURAL_KINDS))).scalar()
    assert rural > 0
