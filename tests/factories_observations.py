"""Factories for lesson observation records (through the services, as a user would make them)."""

from __future__ import annotations

from datetime import date


class ObservationFactories:
    def rubric(self):
        """The default rubric template (seeded on first use)."""
        from portal.observations.rubrics import ensure_default_template

        template = ensure_default_template()
        self.db.session.commit()
        return template

    def observation(self, observer=None, teacher=None, *, final: bool = True, on: date | None = None,
                    **fields):
        """A record by ``observer`` (a principal of a new school by default) of ``teacher`` (a
        teacher of the observer's school by default), final unless told."""
        from portal.core.timeutil import local_today
        from portal.observations import services

        if observer is None:
            observer = self.user("principal")
        if teacher is None:
            teacher = self.user("teacher", school=observer.school) if observer.school else self.user("teacher")
        raw = {"observed_teacher_id": teacher.id, "observed_on": (on or local_today()).isoformat(),
               "periods": fields.pop("periods", 1), "subject": fields.pop("subject", "math"),
               "topic": fields.pop("topic", "分数的初步认识"), "kind": fields.pop("kind", "drop_in"), **fields}
        observation = services.create_observation(observer, raw, final=final)
        self.db.session.commit()
        return observation
