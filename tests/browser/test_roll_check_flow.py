"""A monthly class-roll check (issue 6 §2 and item 9) in Chromium, from the class to the bureau's dashboard.

The beat job opens this month's roll checks (audits.roll_services.roll_checks_open, called here as the
beat would). 周老师 (head_teacher_a, take_roll on class_a of 瑶海区第一小学) marks one of three pupils
missing, completes the check, and records the follow-up: the family moved with the parents to another
city. 郑科长 (county_approver, 瑶海区) refreshes the precomputed dashboard figures with the page's
"立即更新" button before and after; the "有籍无人" (recorded but missing) figure goes up by one.
"""

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from audits.models import AbsenceFollowUp, RollCheck
from audits.roll_services import roll_checks_open

from .steps import accept_confirmations, alert, entry_year, login_as, registered_student, url

MISSING = re.compile(r"有籍无人 (\d+)")


@pytest.fixture(autouse=True)
def _refresh_not_throttled(monkeypatch):
    """The refresh button refuses a second refresh within REFRESH_MIN_SECONDS (60 s) of the last one;
    this test presses it twice within seconds, so lift the throttle (the live server runs in this process)."""
    from oversight import services

    monkeypatch.setattr(services, "REFRESH_MIN_SECONDS", 0)


def _refreshed_missing_count(page, live_server) -> int:
    """As the bureau user: open the dashboard, press 立即更新, wait for the fresh figures, return 有籍无人."""
    page.goto(url(live_server, "oversight:dashboard_home"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("瑶海区 · 统计概览")
    page.get_by_role("button", name="立即更新").click()
    expect(alert(page, "已开始更新统计数据")).to_be_visible()
    expect(page.get_by_text("数据更新于")).to_be_visible()
    card = page.locator(".card").filter(has_text="本月按月核对").last
    line = card.get_by_text(MISSING)
    expect(line).to_be_visible()
    return int(MISSING.search(line.inner_text()).group(1))


def test_a_missing_child_is_followed_up_and_counted_on_the_dashboard(cast, browser_page, live_server, screenshot):
    page = browser_page
    accept_confirmations(page)
    year = entry_year()
    pupils = [registered_student(cast, name=name, birth=date(year - 7, month, 12), seq=seq, level=1)
              for name, month, seq in (("韩小雨", 3, 302), ("韩小川", 5, 311), ("魏思远", 6, 313))]
    assert {p.school_class_id for p in pupils} == {cast.class_a.pk}
    assert roll_checks_open() >= 1  # the monthly beat job
    check = RollCheck.objects.get(school_class=cast.class_a)
    missing_child = pupils[1]

    # Before: the county bureau's dashboard, refreshed.
    login_as(page, live_server, "county_approver")
    before = _refreshed_missing_count(page, live_server)
    screenshot(page, "roll_check_1_dashboard_before")

    # 1. The head teacher opens the class's check from the menu and marks one child missing (htmx).
    login_as(page, live_server, "head_teacher_a")
    page.locator("nav").get_by_role("link", name="核对随访").click()
    page.get_by_role("link", name=cast.class_a.name).click()
    page.wait_for_url(url(live_server, "audits:roll_check", check.pk))
    expect(page.get_by_role("heading", name="花名册（3人）")).to_be_visible()
    row = page.locator("tbody tr").filter(has_text=missing_child.name)
    row.get_by_role("button", name="标记不在校").click()
    expect(row.get_by_text("不在校", exact=True)).to_be_visible()
    expect(row.get_by_role("button", name="改为在校")).to_be_visible()
    screenshot(page, "roll_check_2_marked")

    # 2. Complete the check (confirm dialog accepted): one follow-up is opened.
    page.get_by_role("button", name="完成核对").click()
    expect(alert(page, "核对已完成：不在校1人")).to_be_visible()
    expect(page.get_by_text("在籍3人，在校2人，有籍无人1人")).to_be_visible()
    expect(page.get_by_role("button", name="完成核对")).to_have_count(0)

    # 3. The follow-up: contacts, reason and the destination (moved with the parents to another city).
    # The check's page has no link to its follow-ups: go through the menu and the 缺勤随访 tab.
    page.locator("nav").get_by_role("link", name="核对随访").click()
    page.get_by_role("link", name="缺勤随访").click()
    page.locator("tbody tr").filter(has_text=missing_child.name).get_by_role("link", name=missing_child.name).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"缺勤随访：{missing_child.name}")
    page.get_by_label("联系情况").fill("11月3日电话联系父亲韩国强，得知全家已随父母工作调动迁居")
    page.get_by_label("缺勤原因").fill("随父母工作调动迁居外地")
    page.get_by_label("去向").fill("随父母迁往江苏省苏州市，拟在当地就读")
    page.get_by_role("button", name="保存随访记录").click()
    expect(alert(page, "随访记录已保存")).to_be_visible()
    expect(page.get_by_label("去向")).to_have_value("随父母迁往江苏省苏州市，拟在当地就读")
    screenshot(page, "roll_check_3_follow_up")

    # After: the dashboard counts one more recorded-but-missing child.
    login_as(page, live_server, "county_approver")
    after = _refreshed_missing_count(page, live_server)
    screenshot(page, "roll_check_4_dashboard_after")
    assert after == before + 1

    check.refresh_from_db()
    assert (check.status, check.missing_count, check.present_count) == (RollCheck.Status.COMPLETED, 1, 2)
    follow_up = AbsenceFollowUp.objects.get(student=missing_child)
    assert (follow_up.status, follow_up.roll_check_id) == (AbsenceFollowUp.Status.OPEN, check.pk)
    assert follow_up.destination == "随父母迁往江苏省苏州市，拟在当地就读"
