"""Home panels: a researcher sees their contact schools' visits, a principal their partnerships."""

from __future__ import annotations

from datetime import timedelta

from portal.core.timeutil import local_today


def test_researcher_home_lists_contact_schools_behind_first(client, login_as, make):
    county = make.county()
    today = local_today()
    make.term(start=today - timedelta(days=30), end=today + timedelta(days=60))
    researcher = make.user("researcher", county=county, locale="en")
    behind, done = make.school("village", county=county, name="落后村小"), make.school("village", county=county,
                                                                                     name="达标村小")
    make.contact_school(researcher, behind)
    make.contact_school(researcher, done)
    for _ in range(5):
        make.visit(researcher, done, visited_on=today)
    login_as(researcher)
    page = client.get("/").get_data(as_text=True)
    assert page.index("落后村小") < page.index("达标村小")
    assert "0 of 5 visits this term" in page and "5 of 5 visits this term" in page


def test_principal_home_lists_the_schools_partnerships(client, login_as, make):
    lead = make.school("urban")
    village = make.school("village", county=lead.county)
    p = make.partnership(lead=lead, members=[village], start=local_today() - timedelta(days=5), name="城乡结对甲")
    make.partnership(lead=make.school("urban"), name="别校结对")
    login_as(make.user("principal", school=village))
    page = client.get("/").get_data(as_text=True)
    assert "城乡结对甲" in page and f"/partnerships/{p.id}" in page and "别校结对" not in page


def test_teacher_home_has_neither_panel(client, login_as, make):
    login_as(make.user("teacher", locale="en"))
    page = client.get("/").get_data(as_text=True)
    assert "My contact schools" not in page and "Log an activity" not in page


def test_principal_home_follows_a_new_partnership_a_new_name_and_its_end(db, client, login_as, make):
    """The panel's rows are kept between visits (core/cache.kept): each change shows on the next one."""
    from portal.partnerships import services

    lead = make.school("urban")
    village = make.school("village", county=lead.county)
    principal = make.user("principal", school=village, locale="en")
    login_as(principal)
    assert "Your school is in no partnership yet" in client.get("/").get_data(as_text=True)
    p = make.partnership(lead=lead, members=[village], start=local_today() - timedelta(days=5), name="城乡结对甲")
    assert "城乡结对甲" in client.get("/").get_data(as_text=True)
    p.name = "城乡结对乙"
    db.session.commit()
    assert "城乡结对乙" in client.get("/").get_data(as_text=True)
    services.end_partnership(make.user("bureau"), p, local_today() - timedelta(days=1))
    db.session.commit()
    assert "城乡结对乙" not in client.get("/").get_data(as_text=True)
    from portal.partnerships.models import PartnershipPerson

    other = make.partnership(lead=make.school("urban"), start=local_today() - timedelta(days=5), name="负责的结对")
    assert "负责的结对" not in client.get("/").get_data(as_text=True)
    db.session.add(PartnershipPerson(partnership_id=other.id, user_id=principal.id, duty="联络人"))  # another school's
    db.session.commit()
    assert "负责的结对" in client.get("/").get_data(as_text=True)
