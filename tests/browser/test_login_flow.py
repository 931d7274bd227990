"""Logging in through the real login form in Chromium."""

from playwright.sync_api import expect

from accounts.models import Role
from accounts.services import role_grant, user_create
from tests.browser.helpers import login
from tests.cast import PASSWORD, make_regions


def _approver_and_inspector():
    regions = make_regions()
    user = user_create(actor=None, username="browser_user", real_name="浏览器科长", password=PASSWORD,
                       home_region=regions["340102"], must_change_password=False)
    role_grant(actor=None, user=user, role=Role.APPROVER, unit=regions["340102"])
    role_grant(actor=None, user=user, role=Role.INSPECTOR, unit=regions["340100"])
    return user


def test_a_user_logs_in_and_the_home_page_shows_their_roles(browser_page, live_server, screenshot):
    _approver_and_inspector()
    page = browser_page

    login(page, live_server, "browser_user", PASSWORD)

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="您好，浏览器科长")).to_be_visible()
    roles = page.locator("table")
    expect(roles).to_contain_text("学籍主管领导/审核人")
    expect(roles).to_contain_text("瑶海区")
    expect(roles).to_contain_text("督查/抽查人员")
    expect(roles).to_contain_text("合肥市")
    assert screenshot(page, "login_home").stat().st_size > 0


def test_a_wrong_password_shows_the_chinese_error_on_the_form(browser_page, live_server):
    _approver_and_inspector()
    page = browser_page

    login(page, live_server, "browser_user", "wrong-password-1")

    expect(page.locator(".alert-danger")).to_contain_text("用户名或密码错误")
    expect(page.get_by_label("用户名")).to_have_value("browser_user")


def test_an_admin_created_account_changes_its_password_first(browser_page, live_server, screenshot):
    regions = make_regions()
    user_create(actor=None, username="fresh_user", real_name="新账号", password="Initial2026x",
                home_region=regions["340102"])
    page = browser_page

    login(page, live_server, "fresh_user", "Initial2026x")
    expect(page.get_by_text("首次登录须先修改")).to_be_visible()
    screenshot(page, "forced_password_change")
    page.get_by_label("旧密码").fill("Initial2026x")
    page.get_by_label("新密码", exact=True).fill("Changed2026y")
    page.get_by_label("新密码确认").fill("Changed2026y")
    page.get_by_role("button", name="保存新密码").click()

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_text("密码已修改。")).to_be_visible()
