"""New-student registration (issue 3) in Chromium: the registrar enters a student through the real
form (the live ID check fills birth date and gender), submits the registration, the school approver
signs off in the queue, the county bureau approves, and the student is in the class roster, active,
with an L number. An underage first-grader is refused until the liability form is signed."""

from datetime import date

from playwright.sync_api import expect

from agreements import services as agreements
from students.models import NumberKind, Student, StudentStatus
from transfers.models import ChangeStatus, StatusChange

from .steps import (
    accept_confirmations,
    alert,
    approve_in_queue,
    approve_on_change_page,
    change_pk_from_url,
    entry_year,
    id_number,
    login_as,
    url,
)


def _enter_student(page, live_server, *, name: str, number: str, birth: date, father: str, mother: str):
    """Fill the new-student form as a registrar would and save the draft; returns the Student."""
    page.goto(url(live_server, "students:registration"))
    page.get_by_role("link", name="新增学生").click()
    expect(page.get_by_role("heading", name="新增学生")).to_be_visible()

    page.locator("#id_name").fill(name)
    page.locator("#id_id_type").select_option("1")
    id_field = page.locator("#id_id_number")
    id_field.fill(number)
    id_field.press("Tab")  # "change" triggers the live check (htmx)
    expect(page.locator("#id-check-result")).to_contain_text("已按证件号填写出生日期和性别")
    expect(page.locator("#id_birth_date")).to_have_value(f"{birth:%Y-%m-%d}")
    expect(page.locator("#id_gender")).to_have_value("1")
    page.locator("#id_ethnicity").select_option(label="汉族")
    page.locator("#id_grade").select_option(label="一年级")
    page.locator("#id_school_class").select_option(label="一年级(1)班")
    page.locator("#id_entry_month").fill(f"{entry_year()}09")
    page.locator("#id_entry_mode").select_option("11")  # 就近入学
    for i, (member, relation, phone) in enumerate([(father, "51", "13800001111"), (mother, "52", "13800002222")]):
        page.locator(f"#id_family-{i}-name").fill(member)
        page.locator(f"#id_family-{i}-relation").select_option(relation)
        page.locator(f"#id_family-{i}-phone").fill(phone)
        page.locator(f"#id_family-{i}-is_guardian").check()

    page.get_by_role("button", name="保存").click()
    expect(alert(page, f"已保存学籍草稿：{name}")).to_be_visible()
    student = Student.objects.get(name=name)
    page.wait_for_url(url(live_server, "students:detail", student.pk))
    return student


def _submit_registration(page, live_server, name: str) -> None:
    page.goto(url(live_server, "students:registration"))
    page.get_by_role("checkbox", name=f"选择{name}").check()
    page.get_by_role("button", name="提交注册").click()  # confirm() answered by accept_confirmations


def test_a_registered_student_reaches_the_class_roster_active_with_an_l_number(
        cast, browser_page, live_server, screenshot):
    page = browser_page
    accept_confirmations(page)
    birth = date(entry_year() - 7, 3, 15)  # six before August 31: no liability form
    number = id_number(birth=birth, seq=135)  # odd: a boy

    # The school registrar enters the student and submits the registration.
    login_as(page, live_server, "registrar_a")
    student = _enter_student(page, live_server, name="韩子墨", number=number, birth=birth,
                             father="韩建国", mother="林秀英")
    expect(page.get_by_role("heading", name="韩子墨")).to_contain_text("草稿")
    screenshot(page, "registration_1_draft")
    _submit_registration(page, live_server, "韩子墨")
    change_pk = change_pk_from_url(page)
    expect(alert(page, "已提交注册：1 名学生")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("审核中")
    screenshot(page, "registration_2_submitted")

    # The school's approver signs off in the queue; the county bureau approves on the change page.
    login_as(page, live_server, "approver_a")
    approve_in_queue(page, live_server, "新生注册批次", comment="材料齐全，同意注册")
    screenshot(page, "registration_3_school_signed")
    login_as(page, live_server, "county_approver")
    approve_on_change_page(page, live_server, change_pk, "瑶海区 · 主管领导审核", comment="准予注册")
    expect(page.get_by_role("heading", level=1)).to_contain_text("已办结")
    screenshot(page, "registration_4_bureau_approved")

    # Back at school: the class roster lists the student, active, with an L number.
    login_as(page, live_server, "registrar_a")
    page.goto(url(live_server, "students:roster", cast.class_a.pk))
    row = page.locator("tbody tr").filter(has_text="韩子墨")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("在籍")
    expect(row).to_contain_text(f"L{number[:6]}")  # masked: L + first 6 … last 4
    expect(row).to_contain_text(number[:6] + "********")  # the ID number stays masked
    screenshot(page, "registration_5_roster")

    student.refresh_from_db()
    assert student.status == StudentStatus.ACTIVE
    assert student.number_kind == NumberKind.L and student.student_number.startswith(f"L340102{birth:%Y%m%d}")
    assert student.school_class_id == cast.class_a.pk
    assert StatusChange.objects.get(pk=change_pk).status == ChangeStatus.APPROVED


def _sign_liability_form(cast, student) -> None:
    """The liability form issued, signed by the guardian and confirmed by the school (services;
    tests/browser/test_liability_flow.py walks the same through the pages)."""
    form = agreements.liability_form_issue(actor=cast.registrar_a, student=student)
    _, code = agreements.invitation_create(actor=cast.registrar_a, student=student, guardian_name="唐志远")
    guardian, _ = agreements.invitation_redeem(code=code, username="tang_zhiyuan", password="Guardian2026ok")
    agreements.liability_form_guardian_sign(actor=guardian, agreement=form, typed_name="唐志远", confirmed=True)
    agreements.agreement_sign(actor=cast.approver_a, agreement=form, confirmed=True)


def test_an_underage_first_grader_is_refused_until_the_liability_form_is_signed(
        cast, browser_page, live_server, screenshot):
    page = browser_page
    accept_confirmations(page)
    birth = date(entry_year() - 6, 9, 20)  # inside the window September 1 – October 31
    number = id_number(birth=birth, seq=357)

    login_as(page, live_server, "registrar_a")
    student = _enter_student(page, live_server, name="唐小雨", number=number, birth=birth,
                             father="唐志远", mother="宋佳")
    _submit_registration(page, live_server, "唐小雨")
    page.wait_for_url(url(live_server, "students:registration"))
    expect(alert(page, "未满六周岁入学")).to_be_visible()
    expect(page.get_by_role("checkbox", name="选择唐小雨")).to_be_visible()  # still a draft
    screenshot(page, "registration_underage_refused")
    student.refresh_from_db()
    assert student.status == StudentStatus.DRAFT

    _sign_liability_form(cast, student)
    _submit_registration(page, live_server, "唐小雨")
    change_pk_from_url(page)
    expect(alert(page, "已提交注册：1 名学生")).to_be_visible()
    student.refresh_from_db()
    assert student.status == StudentStatus.PENDING
