"""Pages: the school calendar the bureau keeps (more pages of the dual-teacher classes follow)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from ..core.authz import BUREAU, require, require_roles
from ..core.errors import DomainError
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.templating import nav_item
from ..core.timeutil import local_today, school_year_of
from ..extensions import db
from . import calendar
from .forms import CalendarDayForm
from .models import CalendarDay

bp = Blueprint("scheduling", __name__)

nav_item("scheduling.school_calendar", _l("School calendar"), (BUREAU,), after="org.terms")


def _entries():
    year = school_year_of(local_today())
    stmt = select(CalendarDay).where(CalendarDay.day >= date(year, 9, 1)).order_by(CalendarDay.day)
    if current_user.county_id is not None:
        stmt = stmt.where((CalendarDay.county_id.is_(None)) | (CalendarDay.county_id == current_user.county_id))
    return db.session.execute(stmt.limit(400)).scalars().all()


@bp.route("/admin/calendar", methods=["GET", "POST"])
@require_roles(BUREAU)
def school_calendar():
    form = CalendarDayForm()
    if form.validate_on_submit():
        try:
            entry = calendar.save_day(current_user, day=form.day.data, kind=form.kind.data, name=form.name.data or "",
                                      follows_weekday=form.follows_weekday.data or None,
                                      county_id=current_user.county_id)
        except DomainError as exc:
            db.session.rollback()
            field = getattr(form, exc.field or "day", form.day)
            field.errors = list(field.errors) + [str(exc.message)]
        else:
            db.session.commit()
            flash(_("%(day)s is in the calendar.", day=entry.day.isoformat()), "success")
            return redirect(url_for("scheduling.school_calendar"))
    return render_template("scheduling/calendar.html", form=form, entries=_entries(),
                           weekdays=dict(form.follows_weekday.choices)), 400 if form.errors else 200


@bp.route("/admin/calendar/<id:day_id>/delete", methods=["POST"])
@require_roles(BUREAU)
def delete_calendar_day(day_id: int):
    entry = db.get_or_404(CalendarDay, day_id)
    require(calendar.can_edit_calendar(current_user, entry.county_id))
    calendar.delete_day(current_user, entry)
    db.session.commit()
    flash(_("Removed from the calendar."), "success")
    return redirect(url_for("scheduling.school_calendar"))
