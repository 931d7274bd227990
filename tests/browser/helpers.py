"""Helpers shared by browser tests."""

from django.urls import reverse


def login(page, live_server, username: str, password: str) -> None:
    """Log in through the real login form at ``live_server`` and wait for the page that follows.

    ``page`` is the ``browser_page`` fixture. Does not assert success: after a wrong password the
    page stays on the login form, after success it shows home (or the forced password change).
    """
    login_url = f"{live_server.url}{reverse('accounts:login')}"
    page.goto(login_url)
    if not page.url.startswith(login_url):
        # The login page sends a logged-in user home: say so now instead of timing out on the form.
        raise AssertionError(f"login({username!r}): {login_url} redirected to {page.url}; log out first")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
