"""Demo and scale data of the observation quota."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from portal.accounts.models import User
from portal.cli import demo_observations
from portal.cli.demo import seed_demo
from portal.cli.scale import seed_scale
from portal.observations import quota
from portal.observations.models import Observation
from portal.observations.quota_models import QuotaRule


def test_demo_principals_city_on_track_and_rural_behind(db, monkeypatch):
    for module in (quota, demo_observations):
        monkeypatch.setattr(module, "local_today", lambda: date(2026, 11, 30))
    seed_demo()
    users = {u.username: u for u in db.session.execute(select(User)).scalars()}
    city = quota.progress_for(users["principal.city"], date(2026, 11, 30))
    rural = quota.progress_for(users["principal.rural"], date(2026, 11, 30))
    assert city.rule.id is not None and city.required == 35
    assert city.status == "on_track" and city.done > 0
    assert rural.status == "behind" and 0 < rural.done < rural.expected
    researcher = quota.progress_for(users["researcher"], date(2026, 11, 30))
    assert researcher.required == 20 and researcher.period == "semester" and researcher.done > 0
    drafts = db.session.execute(select(func.count()).select_from(Observation)
                                .where(Observation.status == "draft")).scalar_one()
    assert drafts >= 1
    scored = db.session.execute(select(Observation).where(Observation.status == "final").limit(1)).scalar_one()
    assert scored.scores and scored.grade


def test_scale_observations_are_deterministic(db):
    seed_scale(schools=30, teachers=200, seed=3)
    count = db.session.execute(select(func.count()).select_from(Observation)).scalar_one()
    assert count == 30 * 50
    assert db.session.execute(select(func.count()).select_from(QuotaRule)).scalar_one() == 1
    fingerprint = (select(User.username, Observation.observed_on, Observation.periods, Observation.status)
                   .join(User, User.id == Observation.observer_id).order_by(Observation.id))
    first = db.session.execute(fingerprint).all()
    db.session.remove()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()
    seed_scale(schools=30, teachers=200, seed=3)
    again = db.session.execute(fingerprint).all()
    assert [tuple(r) for r in again] == [tuple(r) for r in first]
