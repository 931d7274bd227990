"""The session around a half-filled new-student form in Chromium (review of issue 3, finding 5).

The session is ended on the server (its row deleted), as the idle timeout does, or the page's clock
is moved with Playwright's fake clock; nothing sleeps. static/xueji/session.js and
accounts.middleware are under test: the page and what was typed stay when the session has expired,
the registrar logs in again in a second tab and saves from the first.
"""

from datetime import date

from django.contrib.sessions.models import Session
from django.urls import reverse
from playwright.sync_api import expect

from students.models import Student
from tests.cast import PASSWORD

from .steps import alert, entry_year, id_number, login_as, url

NOTICE = "登录已过期：请在新窗口重新登录后再保存，本页已填写的内容不会丢失"
BIRTH = date(entry_year() - 7, 3, 15)  # six before August 31: no liability form


def _start_form(page, live_server, name: str) -> str:
    """As registrar_a, open the new-student form and fill in the name; returns the form's address."""
    login_as(page, live_server, "registrar_a")
    form_url = url(live_server, "students:create")
    page.goto(form_url)
    expect(page.get_by_role("heading", name="新增学生")).to_be_visible()
    page.locator("#id_name").fill(name)
    page.locator("#id_id_type").select_option("1")
    return form_url


def _finish_and_save(page, name: str) -> None:
    """Fill in the rest of the form as test_registration_flow does and save the draft."""
    page.locator("#id_ethnicity").select_option(label="汉族")
    page.locator("#id_grade").select_option(label="一年级")
    page.locator("#id_school_class").select_option(label="一年级(1)班")
    page.locator("#id_entry_mode").select_option("11")
    page.locator("#id_entry_month").fill(f"{entry_year()}09")
    for i, (member, relation, phone) in enumerate([("宁建华", "51", "13800001111"), ("吕芳", "52", "13800002222")]):
        page.locator(f"#id_family-{i}-name").fill(member)
        page.locator(f"#id_family-{i}-relation").select_option(relation)
        page.locator(f"#id_family-{i}-phone").fill(phone)
        page.locator(f"#id_family-{i}-is_guardian").check()
    page.get_by_role("button", name="保存").click()
    expect(alert(page, f"已保存学籍草稿：{name}")).to_be_visible()


def _keep_alive_answer(status: int, *, renew: bool = False):
    """A predicate for ``page.expect_response``: the keep-alive address answered ``status``; with
    ``renew``, only a renewal (not a background check, which carries X-Xueji-Background)."""
    keep_alive = reverse("accounts:keep_alive")

    def matches(response) -> bool:
        background = "x-xueji-background" in response.request.headers
        return response.url.endswith(keep_alive) and response.status == status and not (renew and background)

    return matches


def test_after_expiry_typing_keeps_the_form_and_saving_works_after_a_login_in_another_tab(
        cast, browser_page, live_server, screenshot):
    page = browser_page
    form_url = _start_form(page, live_server, "宁可欣")
    number = id_number(birth=BIRTH, seq=246)

    Session.objects.all().delete()  # the session ends on the server, as after 30 idle minutes

    # Typing in the ID field sends the live check (htmx); it is answered with the notice in place.
    id_field = page.locator("#id_id_number")
    id_field.press_sequentially(number[:10])
    expect(page.locator("#session-status")).to_contain_text(NOTICE)
    expect(page).to_have_url(form_url)
    expect(page.get_by_role("heading", name="新增学生")).to_be_visible()
    expect(page.locator("#id_name")).to_have_value("宁可欣")
    expect(id_field).to_have_value(number[:10])
    login_link = page.locator("#session-status").get_by_role("link", name="在新窗口登录")
    expect(login_link).to_have_attribute("target", "_blank")
    screenshot(page, "session_expired_notice")

    # A save now is held back on the page (not sent to the login page): the script asks the server
    # first, which answers that the session has ended.
    with page.expect_response(_keep_alive_answer(401)):
        page.get_by_role("button", name="保存").click()
    expect(page.locator("#session-status")).to_contain_text(NOTICE)
    expect(page).to_have_url(form_url)
    expect(page.locator("#id_name")).to_have_value("宁可欣")

    # The registrar logs in again in a second tab, through the notice's link.
    with page.context.expect_page() as new_tab:
        login_link.click()
    tab = new_tab.value
    tab.get_by_label("用户名").fill("registrar_a")
    tab.get_by_label("密码", exact=True).fill(PASSWORD)
    with tab.expect_navigation():
        tab.get_by_role("button", name="登录").click()
    expect(tab.get_by_role("heading", name="已重新登录")).to_be_visible()
    tab.close()

    # Back in the first tab: the notice goes, the live check works (new CSRF token), the save too.
    page.bring_to_front()
    expect(page.locator("#session-expired")).to_have_count(0)
    id_field.fill(number)
    id_field.press("Tab")
    expect(page.locator("#id-check-result")).to_contain_text("已按证件号填写出生日期和性别")
    _finish_and_save(page, "宁可欣")
    assert Student.objects.get(name="宁可欣").id_number == number


def test_an_idle_page_warns_and_the_button_extends_the_session(cast, browser_page, live_server, screenshot):
    page = browser_page
    page.clock.install()
    _start_form(page, live_server, "宁可欣")

    page.clock.fast_forward("25:30")  # idle for 25½ of 30 minutes
    warning = page.locator("#session-warning")
    expect(warning).to_contain_text("会话将在5分钟后过期")
    screenshot(page, "session_expiry_warning")
    with page.expect_response(_keep_alive_answer(204, renew=True)):
        warning.get_by_role("button", name="延长会话").click()
    expect(warning).to_have_count(0)

    # Typing is activity: more than 5 minutes after the last renewal, a keystroke renews again.
    page.clock.fast_forward("06:00")
    with page.expect_response(_keep_alive_answer(204, renew=True)):
        page.locator("#id_current_address").press_sequentially("合肥")
    expect(page.locator("#session-status")).to_be_empty()


def test_a_page_left_open_past_the_timeout_says_so_without_leaving(cast, browser_page, live_server):
    page = browser_page
    page.clock.install()
    form_url = _start_form(page, live_server, "宁可欣")

    Session.objects.all().delete()
    page.clock.fast_forward("30:30")  # the page's count says expired: it asks the server, which agrees
    expect(page.locator("#session-status")).to_contain_text(NOTICE)
    with page.expect_response(_keep_alive_answer(401)):
        page.get_by_role("button", name="保存").click()  # held back: the script asks first
    expect(page).to_have_url(form_url)
    expect(page.locator("#id_name")).to_have_value("宁可欣")
    assert not Student.objects.filter(name="宁可欣").exists()
