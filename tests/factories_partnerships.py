"""Factories for partnerships, their log, exchanges and researchers' contact schools."""

from __future__ import annotations

from datetime import date


class PartnershipFactories:
    def partnership(self, kind: str = "rural_school", lead=None, members=(), start=date(2026, 9, 1), end=None,
                    **kwargs):
        from portal.partnerships.models import Partnership, PartnershipSchool

        lead = lead or self.school("urban")
        members = list(members) or [self.school("village", county=lead.county)]
        partnership = Partnership(
            kind=kind, name=kwargs.pop("name", f"结对{self._n()}"), lead_school_id=lead.id, county_id=lead.county_id,
            start_date=start, end_date=end, **kwargs,
        )
        partnership.members = [PartnershipSchool(school_id=s.id) for s in members]
        self.db.session.add(partnership)
        self.db.session.commit()
        return partnership

    def pairing_activity(self, partnership, author=None, schools=None, kind: str = "send_lessons",
                         happened_on=date(2026, 10, 15), **kwargs):
        from portal.partnerships.models import PairingActivity, PairingActivitySchool

        entry = PairingActivity(partnership_id=partnership.id, kind=kind, title=kwargs.pop("title", "送教下乡"),
                                happened_on=happened_on, author_id=author.id if author else None, **kwargs)
        ids = [s.id for s in schools] if schools is not None else [partnership.lead_school_id] + [
            m.school_id for m in partnership.members]
        entry.schools = [PairingActivitySchool(school_id=i) for i in ids]
        self.db.session.add(entry)
        self.db.session.commit()
        return entry

    def exchange(self, user, to_school, kind: str = "rotation", start=date(2026, 9, 1), end=date(2027, 7, 15),
                 **kwargs):
        from portal.partnerships.models import TeacherExchange

        exchange = TeacherExchange(user_id=user.id, kind=kind, from_school_id=user.school_id,
                                   to_school_id=to_school.id, start_date=start, end_date=end, **kwargs)
        self.db.session.add(exchange)
        self.db.session.commit()
        return exchange

    def contact_school(self, researcher, school, since=date(2026, 9, 1)):
        from portal.partnerships.models import ResearcherSchool

        link = ResearcherSchool(researcher_id=researcher.id, school_id=school.id, since=since)
        self.db.session.add(link)
        self.db.session.commit()
        return link

    def visit(self, researcher, school, visited_on=date(2026, 10, 10), kind: str = "guidance", **kwargs):
        from portal.partnerships.models import SchoolVisit

        visit = SchoolVisit(researcher_id=researcher.id, school_id=school.id, visited_on=visited_on, kind=kind,
                            **kwargs)
        self.db.session.add(visit)
        self.db.session.commit()
        return visit
