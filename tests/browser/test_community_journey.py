"""A rural teacher asks to join a community, its leader approves, and the teacher posts in its discussion.

Runs on a phone-sized page for the teacher (rural teachers mostly use phones) and a desktop page for
the leader. Finds things by form actions and names from ``seed demo``, never by translated words.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest

from tests.browser.layout import fits

pytestmark = pytest.mark.browser

PHONE = (360, 740)
DESKTOP = (1280, 800)
COMMUNITY = "示范县乡村小学语文共同体"  # led by teacher.town1 (吴红)
TEACHER, TEACHER_NAME = "teacher.village4", "马林"  # 云台教学点, in no community in the demo
LEADER = "teacher.town1"


def test_rural_teacher_joins_and_posts(page_factory, watch_of, log_in):
    teacher = page_factory(*PHONE)
    log_in(teacher, TEACHER)
    teacher.goto("/communities?q=" + quote(COMMUNITY))
    with teacher.expect_navigation():
        teacher.get_by_role("link", name=COMMUNITY).click()
    community_path = urlsplit(teacher.url).path
    fits(teacher, PHONE[0])
    teacher.fill("input[name=note]", "我在云台教学点教语文，想跟着吴老师学整本书阅读。")
    teacher.locator(f"form[action='{community_path}/join'] button[type=submit]").click()
    teacher.wait_for_load_state()
    assert teacher.locator(f"form[action='{community_path}/leave']").count() == 1  # withdraw the request
    assert teacher.locator(f"form[action='{community_path}/join']").count() == 0
    assert teacher.goto(community_path + "/threads").status == 403  # not a member yet
    leader = page_factory(*DESKTOP)
    log_in(leader, LEADER)
    leader.goto(community_path + "/members")
    request_row = leader.locator("#requests tr", has_text=TEACHER_NAME)
    assert "云台教学点" in request_row.inner_text()
    request_row.locator("form[action$='/approve'] button").click()
    leader.wait_for_load_state()
    members = leader.locator("main table").last.inner_text()
    assert TEACHER_NAME in members
    watch_of(leader).assert_clean()

    teacher.goto("/notifications")
    assert COMMUNITY in teacher.locator("main").inner_text()
    teacher.goto(community_path + "/threads/new")
    teacher.fill("input[name=title]", "教学点的整本书阅读怎么起步？")
    teacher.fill("textarea[name=body]", "我们教学点只有一、二年级，共 12 个孩子。\n\n想请教大家：绘本共读每周安排几次合适？")
    teacher.locator("main form:has(textarea[name=body]) button[type=submit]").click()
    teacher.wait_for_load_state()
    assert urlsplit(teacher.url).path.startswith("/threads/")
    body = teacher.locator("main").inner_text()
    assert "教学点的整本书阅读怎么起步？" in body and "绘本共读每周安排几次合适？" in body
    fits(teacher, PHONE[0])

    teacher.fill("textarea[name=body]", "补充：孩子们最喜欢《小猪唏哩呼噜》。")
    teacher.locator("form[action$='/replies'] button[type=submit]").click()
    teacher.wait_for_load_state()
    assert "小猪唏哩呼噜" in teacher.locator("main").inner_text()
    watch = watch_of(teacher)
    # The refused discussion page before approval was meant; nothing else may fail.
    watch.console_errors = [m for m in watch.console_errors if "403" not in m or "/threads" not in m]
    watch.assert_clean()
