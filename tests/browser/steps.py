"""Steps shared by the flow tests (registration, transfer, liability form): switching users,
deciding steps the way each party does it, and building test data through the services.

Every step waits for the page it leads to (``expect`` / ``wait_for_url``); none sleeps.
"""

import re
from datetime import date

from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect
from stdnum.cn import ric

from agreements.rules import school_year_of
from tests.browser.helpers import login
from tests.cast import PASSWORD

CHANGE_URL = re.compile(r"/changes/(\d+)/$")


def entry_year() -> int:
    """The year this school year's first-graders entered (September), e.g. 2026 for 2026-11-29.

    Birth dates in the tests are relative to it, so that the age rules (six by August 31; the
    liability window September 1 – October 31 six years before entry) hold whenever the tests run.
    """
    return school_year_of(timezone.localdate())


def id_number(*, birth: date, seq: int, area: str = "340102") -> str:
    """A valid 18-character resident ID number (GB 11643): area + birth date + ``seq`` + check digit.

    ``seq`` (0–999): its parity is the gender, odd for a boy ("1"), even for a girl ("2").
    """
    body = f"{area}{birth:%Y%m%d}{seq:03d}"
    # stdnum's calc_check_digit takes the full 18 characters and ignores the last one.
    return body + ric.calc_check_digit(body + "0")


def url(live_server, name: str, *args) -> str:
    return f"{live_server.url}{reverse(name, args=args)}"


def logout(page, live_server) -> None:
    """Log out with the navigation's 退出 button when someone is logged in; wait for the login page.

    Not ``clear_cookies()``: every response sets the session cookie again (SESSION_SAVE_EVERY_REQUEST),
    so an htmx request still in flight (the unread badge loads after each page) could bring the old
    session back after the cookies were cleared. Logging out ends the session on the server.
    """
    button = page.locator("nav").get_by_role("button", name="退出")
    if button.count():
        button.click()
        page.wait_for_url(f"{url(live_server, 'accounts:login')}*")


def login_as(page, live_server, username: str, password: str = PASSWORD) -> None:
    """Log out whoever is logged in and log in as ``username``; wait for home."""
    logout(page, live_server)
    login(page, live_server, username, password)
    expect(page).to_have_url(f"{live_server.url}/")


def accept_confirmations(page) -> None:
    """Answer "OK" to the pages' confirm() dialogs (submit registration, reject …) from now on."""
    page.on("dialog", lambda dialog: dialog.accept())


def change_pk_from_url(page) -> int:
    page.wait_for_url(CHANGE_URL)
    return int(CHANGE_URL.search(page.url).group(1))


def alert(page, text: str):
    """The flash message (or form alert) containing ``text``."""
    return page.get_by_role("alert").filter(has_text=text)


def approve_in_queue(page, live_server, row_text: str, comment: str = "同意") -> None:
    """In the user's queue (待办审核), tick the row containing ``row_text`` and approve it with
    ``comment`` (htmx re-renders the table); wait until the row has left the queue."""
    page.goto(url(live_server, "transfers:queue"))
    row = page.locator("#queue tbody tr").filter(has_text=row_text)
    expect(row).to_have_count(1)
    row.get_by_role("checkbox").check()
    page.get_by_label("意见（退回必填）").fill(comment)
    page.get_by_role("button", name="通过所选").click()
    expect(alert(page, "已通过 1 项")).to_be_visible()  # the queue reloads as a whole page
    expect(page.locator("#queue tbody tr").filter(has_text=row_text)).to_have_count(0)


def approve_on_change_page(page, live_server, change_pk: int, step_label: str, comment: str = "同意") -> None:
    """Open the change's page, check that the step waiting is ``step_label`` (e.g. "蜀山区 ·
    学籍管理员"), approve it there with ``comment`` and wait for the confirmation."""
    page.goto(url(live_server, "transfers:change_detail", change_pk))
    decide = page.locator("form[action$='/decide/']")
    expect(page.get_by_role("heading", name=f"处理本步骤：{step_label}")).to_be_visible()
    decide.get_by_label("意见").fill(comment)
    decide.get_by_role("button", name="通过").click()
    page.wait_for_url(url(live_server, "transfers:change_detail", change_pk))
    expect(alert(page, "已处理")).to_be_visible()


def registered_student(cast, *, name: str, birth: date, seq: int, level: int, class_number: int = 1,
                       guardian: str = "郑国强"):
    """A student of school_a (瑶海区) in primary grade ``level``, registered through the services the
    way the pages do it: entered by registrar_a, submitted, approved by approver_a and the county
    bureau. Returns the Student, active with an L number."""
    from students import services as students
    from transfers import services as transfers

    grade = cast.school_a.grades.get(stage="primary", level=level)
    data = {"name": name, "gender": "1" if seq % 2 else "2", "birth_date": birth, "id_type": "1",
            "id_number": id_number(birth=birth, seq=seq), "ethnicity": "01", "nationality": "CHN", "grade": grade,
            "school_class": grade.classes.get(number=class_number), "entry_month": f"{entry_year() - level + 1}09"}
    members = [{"name": guardian, "relation": "51", "phone": "13900001234", "is_guardian": True},
               {"name": "何丽", "relation": "52", "phone": "13900005678", "is_guardian": True}]
    student = students.student_create(actor=cast.registrar_a, school=cast.school_a, data=data, members=members)
    change = transfers.registration_submit(actor=cast.registrar_a, students=[student])
    for approver in (cast.approver_a, cast.county_approver):
        step = change.steps.get(status="current")
        transfers.step_decide(actor=approver, step=step, decision="approve", comment="同意")
    student.refresh_from_db()
    return student
