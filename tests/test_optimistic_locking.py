"""Two people edit the same record: the second to save is told, and nothing of the first is lost
(issue 11, optimistic locking: core/locking.py).

Each case: two browsers load the edit form, both change it and save. The first is saved; the
second gets a 409 page that says what happened and still shows what they typed; the record holds
the first's change. The forms are sent as a browser would send them: every field of the page's form
as loaded, with one changed.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import update

from portal.communities.models import Activity
from portal.observations.models import Observation
from portal.observations.quota_models import QuotaRule
from portal.partnerships.models import Partnership
from portal.resources.models import Resource

from .factories import PASSWORD

STALE = b"Someone else changed this while you were editing"


class _FormReader(HTMLParser):
    """The fields of each <form> on a page, as a browser would submit them unchanged."""

    def __init__(self):
        super().__init__()
        self.forms: list[list[tuple[str, str]]] = []
        self._form = None
        self._select = None
        self._option = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = []
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name") and "disabled" not in a:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form.append((a["name"], a.get("value", "on")))
            elif kind not in ("submit", "button", "file", "image", "reset"):
                self._form.append((a["name"], a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self._select = {"name": a["name"], "multiple": "multiple" in a, "chosen": [], "first": None}
        elif tag == "option" and self._select is not None:
            self._option = a.get("value")
            if self._select["first"] is None:
                self._select["first"] = self._option
            if "selected" in a:
                self._select["chosen"].append(self._option)
        elif tag == "textarea" and a.get("name"):
            self._textarea = [a["name"], ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            chosen = self._select["chosen"] or ([] if self._select["multiple"] else [self._select["first"] or ""])
            self._form.extend((self._select["name"], value) for value in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self._form.append((self._textarea[0], self._textarea[1].removeprefix("\n")))
            self._textarea = None


def edit_form(client, path: str, marker: str = "version") -> dict:
    """The fields of the form on ``path`` that carries the record's ``marker`` (its version)."""
    page = client.get(path)
    assert page.status_code == 200, page.data[:300]
    reader = _FormReader()
    reader.feed(page.get_data(as_text=True))
    (form,) = [f for f in reader.forms if any(name == marker for name, _ in f)]
    fields: dict = {}
    for name, value in form:
        fields.setdefault(name, []).append(value)
    return fields


def browser(app, user):
    client = app.test_client()
    page = client.get("/login")
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page.data).group(1).decode()
    response = client.post("/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return client


def race(app, first_user, second_user, path: str, field: str, first_value: str, second_value: str,
         marker: str = "version"):
    """Both load the form; the first saves, then the second. Returns both answers."""
    first, second = browser(app, first_user), browser(app, second_user)
    first_form, second_form = edit_form(first, path, marker), edit_form(second, path, marker)
    first_form[field], second_form[field] = [first_value], [second_value]
    return first.post(path, data=first_form), second.post(path, data=second_form)


def assert_second_refused(first, second, second_value: str):
    assert first.status_code == 302, first.data[:500]
    assert second.status_code == 409
    assert STALE in second.data  # said at the top of the page
    assert second_value.encode() in second.data  # and what they typed is still in the form


# --- the records ----------------------------------------------------------------------------------------


def test_the_host_and_the_leader_changing_an_activity_at_once(app, db, make, english):
    leader = make.user("teacher", locale="en")
    community = make.community("teacher", leader=leader)
    host = make.member(community, role="core", locale="en").user
    activity = make.activity(community, host=host, title="同课异构")

    first, second = race(app, host, leader, f"/activities/{activity.id}/edit", "title", "同课异构（第二次）",
                         "同课异构 改到下午")

    assert_second_refused(first, second, "同课异构 改到下午")
    stored = db.session.get(Activity, activity.id)
    assert stored.title == "同课异构（第二次）" and stored.version == 2


def test_a_sign_up_meanwhile_does_not_make_the_hosts_form_stale(app, db, make, english):
    leader = make.user("teacher", locale="en")
    community = make.community("teacher", leader=leader)
    activity = make.activity(community, title="送教下乡", capacity=30)
    member = make.member(community).user
    client = browser(app, leader)
    form = edit_form(client, f"/activities/{activity.id}/edit")
    signer = browser(app, member)
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', signer.get("/").data).group(1).decode()
    assert signer.post(f"/activities/{activity.id}/signup", data={"csrf_token": token}).status_code == 302

    form["title"] = ["送教下乡（改）"]
    assert client.post(f"/activities/{activity.id}/edit", data=form).status_code == 302
    stored = db.session.get(Activity, activity.id)
    assert stored.title == "送教下乡（改）" and stored.signup_count == 1


def test_two_bureau_staff_changing_a_partnership_at_once(app, db, make, english):
    partnership = make.partnership(name="城乡结对一")
    county = db.session.get(Partnership, partnership.id).county_id
    from portal.org.models import County

    one = make.user("bureau", county=db.session.get(County, county), locale="en")
    two = make.user("bureau", county=db.session.get(County, county), locale="en")

    first, second = race(app, one, two, f"/partnerships/{partnership.id}/edit", "name", "城乡结对（扩大）",
                         "城乡结对（改名）")

    assert_second_refused(first, second, "城乡结对（改名）")
    assert db.session.get(Partnership, partnership.id).name == "城乡结对（扩大）"


def test_the_owner_changing_a_resource_in_two_tabs(app, db, make, english):
    owner = make.user("teacher", locale="en")
    resource = make.resource(owner=owner, title="分数的意义")

    first, second = race(app, owner, owner, f"/resources/{resource.id}/edit", "title", "分数的意义（修订）",
                         "分数的意义 第二版")

    assert_second_refused(first, second, "分数的意义 第二版")
    assert db.session.get(Resource, resource.id).title == "分数的意义（修订）"


def test_ratings_and_comments_meanwhile_do_not_make_the_owners_form_stale(app, db, make, english):
    owner = make.user("teacher", locale="en")
    resource = make.resource(owner=owner, title="认识钟表")
    client = browser(app, owner)
    form = edit_form(client, f"/resources/{resource.id}/edit")
    reader = browser(app, make.user("teacher"))
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', reader.get("/").data).group(1).decode()
    assert reader.post(f"/resources/{resource.id}/rating", data={"csrf_token": token, "stars": "4"}).status_code == 302

    form["title"] = ["认识钟表（修订）"]
    assert client.post(f"/resources/{resource.id}/edit", data=form).status_code == 302
    stored = db.session.get(Resource, resource.id)
    assert stored.title == "认识钟表（修订）" and stored.rating_count == 1 and stored.rating_sum == 4


def test_two_bureau_staff_changing_a_quota_rule_at_once(app, db, make, english):
    county = make.county()
    rule = make.quota_rule(county=county, required=35)
    one, two = make.user("bureau", county=county, locale="en"), make.user("bureau", county=county, locale="en")

    first, second = race(app, one, two, f"/observations/quota/rules/{rule.id}/edit", "required", "40", "30")

    assert_second_refused(first, second, 'value="30"')
    assert db.session.get(QuotaRule, rule.id).required == 40


def test_two_bureau_staff_saving_the_same_rubric_version_at_once(app, db, make, english):
    """Saving a rubric makes a new version; the second save was made on the version the first
    replaced, so it is refused rather than stacked on top unseen."""
    from portal.observations.models import RubricTemplate

    template = make.rubric()
    county = make.county()
    one, two = make.user("bureau", county=county, locale="en"), make.user("bureau", county=county, locale="en")

    first, second = race(app, one, two, f"/observations/rubrics/{template.id}/edit", "name", "课堂评价表（修订）",
                         "课堂评价表（另改）", marker="name")

    assert_second_refused(first, second, "课堂评价表（另改）")
    current = db.session.query(RubricTemplate).filter_by(family=template.family, is_current=True).one()
    assert current.name == "课堂评价表（修订）" and current.version == template.version + 1


def test_a_draft_saved_in_two_tabs(app, db, make, english):
    principal = make.user("principal", locale="en")
    draft = make.observation(principal, final=False, topic="认识钟表")

    first, second = race(app, principal, principal, f"/observations/{draft.id}/edit", "topic", "认识钟表（上）",
                         "认识钟表（下）", marker="revision")

    assert_second_refused(first, second, "认识钟表（下）")
    assert db.session.get(Observation, draft.id).topic == "认识钟表（上）"


def test_the_draft_autosave_of_a_stale_tab_is_refused_and_the_same_content_again_is_not(app, db, make, english):
    principal = make.user("principal", locale="en")
    draft = make.observation(principal, final=False, topic="认识钟表")
    client = browser(app, principal)
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', client.get("/").data).group(1).decode()
    headers = {"X-CSRFToken": token}
    revision = draft.revision
    body = {"id": draft.id, "observed_teacher_id": draft.observed_teacher_id,
            "observed_on": draft.observed_on.isoformat(), "periods": "1", "subject": "math"}

    saved = client.post("/observations/autosave", json={**body, "revision": revision, "topic": "甲"},
                        headers=headers)
    assert saved.status_code == 200 and saved.json["revision"] == revision + 1
    again = client.post("/observations/autosave", json={**body, "revision": revision, "topic": "甲"},
                        headers=headers)  # the answer was lost and the tab sends the same again
    assert again.status_code == 200 and again.json["revision"] == revision + 1
    other = client.post("/observations/autosave", json={**body, "revision": revision, "topic": "乙"},
                        headers=headers)  # another tab, still on the old revision
    assert other.status_code == 409 and other.json["error"]["code"] == "stale"
    assert db.session.get(Observation, draft.id).topic == "甲"
    junk = client.post("/observations/autosave", json={**body, "revision": "x", "topic": "丙"},
                       headers=headers)
    assert junk.status_code == 422 and junk.json["error"]["field"] == "version"


def test_counters_leave_the_version_alone_and_edits_move_it(db, make):
    """A download, a rating or a sign-up is written with a plain UPDATE (not an edit: an open form
    stays valid); an edit through the ORM adds one to the version and checks the one it read."""
    from sqlalchemy.orm.exc import StaleDataError

    from portal.core.locking import add_to_counts

    resource = make.resource(title="长方形的面积")
    add_to_counts(resource, download_count=1, rating_count=1, rating_sum=5)
    db.session.commit()
    assert (resource.version, resource.download_count, resource.rating_sum) == (1, 1, 5)
    resource.title = "长方形的面积（修订）"
    db.session.commit()
    assert resource.version == 2
    db.session.execute(update(Resource.__table__).where(Resource.id == resource.id).values(version=3))  # elsewhere
    resource.title = "又改了"
    with pytest.raises(StaleDataError):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(Resource, resource.id).title == "长方形的面积（修订）"


def test_every_edit_form_of_a_versioned_record_carries_its_version(app):
    from portal.communities.forms import ActivityForm
    from portal.observations.quota_forms import QuotaRuleForm
    from portal.partnerships.forms import PartnershipForm
    from portal.resources.forms import ResourceForm

    with app.test_request_context():
        for form in (ActivityForm(), PartnershipForm(), ResourceForm(), QuotaRuleForm()):
            assert form.version.type == "HiddenField"


def test_a_version_in_the_future_or_junk_is_not_a_500(app, db, make, english):
    owner = make.user("teacher", locale="en")
    resource = make.resource(owner=owner, title="年月日")
    client = browser(app, owner)
    form = edit_form(client, f"/resources/{resource.id}/edit")
    for junk, status in (("99", 409), ("abc", 422), ("-1", 422), ("1" * 30, 422)):
        form["version"] = [junk]
        form["title"] = [f"年月日 {junk[:5]}"]
        assert client.post(f"/resources/{resource.id}/edit", data=form).status_code == status
    assert db.session.get(Resource, resource.id).title == "年月日"
