"""The underage-enrolment liability form (issue 5) in Chromium: the registration of a first-grader
born in the window (September 1 – October 31 six years before entry) is refused; the school issues
the form and an invitation code; the guardian redeems the code on the parents' portal, signs and
downloads the PDF; the school confirms; the registration then goes through."""

import io
from datetime import date

from playwright.sync_api import expect
from pypdf import PdfReader

from agreements.models import Agreement, AgreementKind, AgreementStatus
from students import services as students
from students.models import Student, StudentStatus

from .steps import (
    accept_confirmations,
    alert,
    change_pk_from_url,
    entry_year,
    id_number,
    login_as,
    logout,
    url,
)

CHILD, GUARDIAN = "周小安", "周大伟"


def _underage_draft(cast) -> Student:
    """A first-grade draft entered by registrar_a, born inside the liability window."""
    birth = date(entry_year() - 6, 10, 3)
    grade = cast.school_a.grades.get(stage="primary", level=1)
    data = {"name": CHILD, "gender": "2", "birth_date": birth, "id_type": "1",
            "id_number": id_number(birth=birth, seq=246), "ethnicity": "01", "nationality": "CHN", "grade": grade,
            "school_class": grade.classes.get(number=2), "entry_month": f"{entry_year()}09"}
    members = [{"name": GUARDIAN, "relation": "51", "phone": "13700001111", "is_guardian": True},
               {"name": "吴敏", "relation": "52", "phone": "13700002222", "is_guardian": True}]
    return students.student_create(actor=cast.registrar_a, school=cast.school_a, data=data, members=members)


def _submit_registration(page, live_server) -> None:
    page.goto(url(live_server, "students:registration"))
    page.get_by_role("checkbox", name=f"选择{CHILD}").check()
    page.get_by_role("button", name="提交注册").click()


def test_the_guardian_signs_on_the_portal_the_school_confirms_and_registration_goes_through(
        cast, browser_page, live_server, screenshot):
    page = browser_page
    accept_confirmations(page)
    child = _underage_draft(cast)

    # Registration is refused while the form is not signed.
    login_as(page, live_server, "registrar_a")
    _submit_registration(page, live_server)
    expect(alert(page, "未满六周岁入学责任书尚未签订")).to_be_visible()

    # The school issues the form from the cohort list, then a one-time invitation code.
    page.goto(url(live_server, "agreements:liability"))
    row = page.locator("tbody tr").filter(has_text=CHILD)
    expect(row).to_contain_text("未发放")
    row.get_by_role("button", name="发放").click()
    expect(alert(page, "责任书已发放。")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("待签署")
    expect(page.locator(".card-body").first).to_contain_text(CHILD)
    form_pk = Agreement.objects.get(student=child, kind=AgreementKind.LIABILITY).pk
    page.wait_for_url(url(live_server, "agreements:detail", form_pk))
    screenshot(page, "liability_1_issued")
    page.goto(url(live_server, "agreements:liability"))
    page.locator("tbody tr").filter(has_text=CHILD).get_by_role("link", name="家长邀请码").click()
    expect(page.get_by_label("监护人姓名")).to_have_value(GUARDIAN)  # the guardian on the record
    page.get_by_role("button", name="生成邀请码").click()
    code = page.get_by_test_id("invitation-code").inner_text().strip()
    assert len(code) == len("ABCD-EFGH-JKLM")
    expect(page.locator(".slip")).to_contain_text(url(live_server, "agreements:redeem"))  # where to go
    screenshot(page, "liability_2_invitation_slip")

    # The guardian, a fresh visitor, redeems the code, sets a password and sees only their child.
    logout(page, live_server)
    page.goto(url(live_server, "agreements:redeem"))
    page.get_by_label("邀请码").fill(code)
    page.get_by_label("用户名").fill("zhou_dawei")
    page.get_by_label("密码", exact=True).fill("Zhoujia2026ok")
    page.get_by_label("再次输入密码").fill("Zhoujia2026ok")
    page.get_by_role("button", name="确定").click()
    page.wait_for_url(url(live_server, "agreements:portal"))
    expect(alert(page, f"已关联孩子：{CHILD}")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr")).to_contain_text(child.id_number[:6] + "********")  # masked
    page.get_by_role("link", name=CHILD).click()

    # The guardian signs: the full name of a guardian on the record and the confirmation.
    page.get_by_label("监护人完整姓名").fill(GUARDIAN)
    page.get_by_label("我已阅读并理解以上内容，自愿承担相应责任").check()
    page.get_by_role("button", name="签署").click()
    expect(alert(page, "已签署，等待学校确认。")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text=GUARDIAN)).to_be_visible()
    screenshot(page, "liability_3_guardian_signed")

    # … and downloads the PDF: a real PDF whose text names the child.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"agreement-{form_pk}.pdf"
    text = "".join(p.extract_text() for p in PdfReader(download.path()).pages)
    assert CHILD in text and GUARDIAN in text
    response = page.context.request.get(url(live_server, "agreements:portal_pdf", child.pk))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    assert CHILD in "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)

    # The school's approver confirms (the stamp).
    login_as(page, live_server, "approver_a")
    page.goto(url(live_server, "agreements:liability"))
    page.locator("tbody tr").filter(has_text=CHILD).get_by_role("link", name="部分签署").click()
    page.get_by_label("我已阅读全部条款，同意签署").check()
    page.get_by_role("button", name="学校确认（盖章）").click()
    expect(alert(page, "已签署。")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("已签订")
    screenshot(page, "liability_4_school_confirmed")
    assert Agreement.objects.get(pk=form_pk).status == AgreementStatus.SIGNED

    # Now the registrar's registration goes through.
    login_as(page, live_server, "registrar_a")
    _submit_registration(page, live_server)
    change_pk_from_url(page)
    expect(alert(page, "已提交注册：1 名学生")).to_be_visible()
    child.refresh_from_db()
    assert child.status == StudentStatus.PENDING
