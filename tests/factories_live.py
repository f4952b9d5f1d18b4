"""Factories for dual-teacher sessions and their live rooms."""

from __future__ import annotations

from datetime import timedelta


class LiveFactories:
    def live_session(self, *, rooms: int = 2, starts_in: timedelta = timedelta(minutes=-5),
                     length: timedelta = timedelta(minutes=40), status: str = "scheduled", class_size: int = 30,
                     county=None, **kwargs):
        """A session of a class taught from an urban school to ``rooms`` village classrooms, each
        with its own assistant; by default it began five minutes ago. Read the people from
        ``session.live_class`` (main_teacher, receiving[i].assistant / .classroom)."""
        from portal.core.models import utcnow
        from portal.core.timeutil import to_local
        from portal.scheduling.models import LiveClass, LiveSession, ReceivingClassroom

        county = county or self.county()
        city = self.school("urban", county=county)
        teacher = kwargs.pop("teacher", None) or self.user("teacher", school=city, name=f"主讲{self._n()}")
        receiving = []
        for _ in range(rooms):
            village = self.school("village", county=county)
            receiving.append(ReceivingClassroom(
                classroom=self.classroom(village, student_count=class_size),
                assistant=self.user("teacher", school=village, name=f"助教{self._n()}")))
        starts_at = utcnow() + starts_in
        live_class = LiveClass(subject=kwargs.pop("subject", "math"), grade=3, title=kwargs.pop("title", "分数的意义"),
                               main_teacher=teacher, main_classroom=self.classroom(city, student_count=45),
                               first_date=to_local(starts_at).date(), last_date=to_local(starts_at).date(),
                               receiving=receiving)
        session = LiveSession(live_class=live_class, starts_at=starts_at, ends_at=starts_at + length, status=status,
                              occurrence_date=to_local(starts_at).date())
        self.db.session.add_all([live_class, session])
        self.db.session.commit()
        return session
