"""Helpers shared by browser tests."""

from django.urls import reverse


def login(page, live_server, username: str, password: str) -> None:
    """Log in through the real login form at ``live_server`` and wait for the page that follows.

    ``page`` is the ``browser_page`` fixture. Does not assert success: after a wrong password the
    page stays on the login form, after success it shows home (or the forced password change).
    """
    page.goto(f"{live_server.url}{reverse('accounts:login')}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
