"""Factories for the observation quota: rules, and final (or draft) records to count."""

from __future__ import annotations

from datetime import date


class QuotaFactories:
    def quota_rule(self, role: str = "principal", county=None, required: int = 35, period: str = "school_year",
                   kinds=(), max_periods_per_record=None, active: bool = True, **kwargs):
        from portal.observations.quota_models import QuotaRule

        rule = QuotaRule(role=role, county_id=county.id if county is not None else None, required=required,
                         period=period, kinds=list(kinds), max_periods_per_record=max_periods_per_record,
                         active=active, name=kwargs.pop("name", ""), **kwargs)
        self.db.session.add(rule)
        self.db.session.commit()
        return rule

    def _rubric(self):
        from portal.observations.models import RubricTemplate

        template = self.db.session.query(RubricTemplate).filter_by(family="quota-tests").first()
        if template is None:
            template = RubricTemplate(family="quota-tests", version=1, name="评价表", dimensions=[])
            self.db.session.add(template)
            self.db.session.flush()
        return template

    def counted(self, observer, on: date = date(2026, 10, 12), periods: int = 1, status: str = "final",
                kind: str = "drop_in", teacher=None, **kwargs):
        """A lesson observation by ``observer`` (final unless told), of a teacher of their school."""
        from portal.observations.models import Observation

        if teacher is None:
            teacher = self.user("teacher", school=observer.school) if observer.school else self.user("teacher")
        observation = Observation(
            observer_id=observer.id, observed_teacher_id=teacher.id, school_id=teacher.school_id, subject="math",
            topic=kwargs.pop("topic", "分数的初步认识"), kind=kind, observed_on=on, periods=periods, status=status,
            rubric_template_id=self._rubric().id, **kwargs,
        )
        self.db.session.add(observation)
        self.db.session.commit()
        return observation
