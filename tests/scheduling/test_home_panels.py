"""The home page's scheduling panels: the live room's way in, and today's and the next sessions."""

from __future__ import annotations

from datetime import timedelta


def _live_now(html: str) -> str:
    assert "Live now" in html, html
    return html.split("Live now", 1)[1].split("</section>", 1)[0]


def test_live_now_shows_the_running_session_after_a_day_of_cancelled_ones(db, make, login_as, client):
    first = make.live_session(starts_in=timedelta(minutes=-30), status="cancelled")
    teacher = first.live_class.main_teacher
    for minutes in range(-29, -24):  # six cancelled sessions fill the "today's and next" list
        make.live_session(starts_in=timedelta(minutes=minutes), status="cancelled", teacher=teacher)
    running = make.live_session(starts_in=timedelta(minutes=-1), teacher=teacher, title="正在上的课")
    teacher.locale = "en"
    db.session.commit()
    login_as(teacher)
    html = client.get("/").get_data(as_text=True)
    live = _live_now(html)
    assert f"/live-sessions/{running.id}/room" in live and "Running now" in live and "正在上的课" in live
    assert f"/live-sessions/{first.id}/" not in live


def test_live_now_and_the_list_show_their_own_sessions(db, make, login_as, client):
    soon = make.live_session(starts_in=timedelta(minutes=10), title="分数的意义")
    teacher = soon.live_class.main_teacher
    later = make.live_session(starts_in=timedelta(hours=3), teacher=teacher)
    cancelled = make.live_session(starts_in=timedelta(minutes=-5), teacher=teacher, status="cancelled")
    teacher.locale = "en"
    db.session.commit()
    login_as(teacher)
    html = client.get("/").get_data(as_text=True)
    live = _live_now(html)
    assert f"/live-sessions/{soon.id}/room" in live and "Starts at" in live
    assert f"/live-sessions/{later.id}/" not in live and f"/live-sessions/{cancelled.id}/" not in live
    listed = html.split("Today&#39;s and next dual-teacher sessions", 1)[1].split("</section>", 1)[0]
    assert f"/live-sessions/{soon.id}/room" in listed and f"/live-sessions/{later.id}/room" in listed
    assert f'/live-sessions/{cancelled.id}"' in listed and "Cancelled" in listed


def test_a_principal_who_teaches_nothing_sees_no_session_panel(make, login_as, client):
    principal = make.user("principal", locale="en")
    login_as(principal)
    html = client.get("/").get_data(as_text=True)
    assert "Live now" not in html and "next dual-teacher sessions" not in html
