"""A cross-county transfer (issue 4) in Chromium, walked through all four parties.

蜀山区实验小学 (school_b, 蜀山区) takes a pupil of 瑶海区第一小学 (school_a, 瑶海区), both in 合肥市.
Route (transfers/routes.py): receiving school approver → receiving bureau registrar, approver →
sending school registrar, approver → sending bureau registrar, approver. Each party decides in
its own session, some from the queue, some from the change's page.
"""

from datetime import date

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from accounts.services import role_grant, user_create
from students.models import Student, StudentStatus
from tests.cast import PASSWORD
from transfers.models import ChangeStatus, StatusChange

from .steps import (
    alert,
    approve_in_queue,
    approve_on_change_page,
    change_pk_from_url,
    entry_year,
    login_as,
    registered_student,
    url,
)


@pytest.fixture(autouse=True)
def _outside_the_summer_blackout(monkeypatch):
    """Transfers are refused from July 15 to August 14: judge the rules on an ordinary autumn day."""
    from transfers import rules

    monkeypatch.setattr(rules, "local_today", lambda: date(entry_year(), 10, 20))


def _county_registrar(cast, username: str, real_name: str, code: str):
    """The bureau's registrar (学籍管理员) for the registrar step the route puts before its approver."""
    user = user_create(actor=None, username=username, real_name=real_name, password=PASSWORD,
                       home_region=cast.regions[code], must_change_password=False)
    role_grant(actor=None, user=user, role=Role.REGISTRAR, unit=cast.regions[code])
    return user


def test_a_cross_county_transfer_passes_all_four_parties_and_moves_the_student(
        cast, browser_page, live_server, screenshot):
    page = browser_page
    student = registered_student(cast, name="罗一鸣", birth=date(entry_year() - 9, 4, 8), seq=211, level=3)
    assert student.status == StudentStatus.ACTIVE and student.school_id == cast.school_a.pk
    _county_registrar(cast, "shushan_registrar", "蒋科员", "340104")
    target = cast.school_b.classes.get(grade__stage="primary", grade__level=3, number=2)
    old_class = student.school_class

    # 1. The receiving school's registrar finds the pupil by national student number and applies.
    login_as(page, live_server, "registrar_b")
    page.goto(url(live_server, "transfers:change_list"))
    page.get_by_role("link", name="办理转入").click()
    page.get_by_label("全国学籍号或身份证件号").fill(student.student_number)
    page.get_by_role("button", name="查找").click()
    expect(page.get_by_role("heading", name="办理转入：确认学生并选择班级")).to_be_visible()
    card = page.locator("dl")
    for text in ("罗一鸣", "男", "瑶海区第一小学", "三年级"):
        expect(card).to_contain_text(text)
    page.get_by_label("转入班级").select_option(label="蜀山区实验小学 三年级(2)班")
    page.get_by_label("转学原因类别").select_option(label="随迁/搬家")
    page.get_by_label("原因说明").fill("父母工作调动，全家迁至蜀山区居住")
    screenshot(page, "transfer_1_confirm")
    page.get_by_role("button", name="提交转学申请").click()
    change_pk = change_pk_from_url(page)
    expect(alert(page, "转学申请已提交")).to_be_visible()
    expect(page.get_by_text("下一步：蜀山区实验小学 · 主管领导审核")).to_be_visible()
    screenshot(page, "transfer_2_submitted")

    # 2. Receiving school approver, 3. receiving bureau (registrar, approver).
    login_as(page, live_server, "approver_b")
    approve_in_queue(page, live_server, "罗一鸣", comment="同意接收")
    login_as(page, live_server, "shushan_registrar")
    approve_on_change_page(page, live_server, change_pk, "蜀山区 · 学籍管理员核办", comment="材料齐全")
    login_as(page, live_server, "other_county_approver")
    approve_in_queue(page, live_server, "罗一鸣", comment="同意转入本区")

    # 4. Sending school (registrar, approver), 5. sending bureau (registrar, approver).
    login_as(page, live_server, "registrar_a")
    approve_in_queue(page, live_server, "罗一鸣", comment="同意转出")
    login_as(page, live_server, "approver_a")
    approve_on_change_page(page, live_server, change_pk, "瑶海区第一小学 · 主管领导审核", comment="同意")
    login_as(page, live_server, "county_registrar")
    approve_in_queue(page, live_server, "罗一鸣", comment="已核")
    login_as(page, live_server, "county_approver")
    approve_on_change_page(page, live_server, change_pk, "瑶海区 · 主管领导审核", comment="准予转出")
    expect(page.get_by_role("heading", level=1)).to_contain_text("已办结")
    expect(page.locator(".list-group-item").filter(has_text="已通过")).to_have_count(7)
    screenshot(page, "transfer_3_completed")

    # The receiving school's roster lists the pupil; the sending school no longer does.
    login_as(page, live_server, "registrar_b")
    page.goto(url(live_server, "students:roster", target.pk))
    row = page.locator("tbody tr").filter(has_text="罗一鸣")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("在籍")
    expect(row).to_contain_text("三年级(2)班")
    screenshot(page, "transfer_4_new_roster")
    login_as(page, live_server, "registrar_a")
    page.goto(url(live_server, "students:roster", old_class.pk))
    expect(page.get_by_text("没有符合条件的学生。")).to_be_visible()
    page.goto(url(live_server, "students:list"))
    page.get_by_label("姓名 / 拼音 / 首字母 / 证件号 / 学籍号").fill("罗一鸣")
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_label("姓名 / 拼音 / 首字母 / 证件号 / 学籍号")).to_have_value("罗一鸣")
    expect(page.get_by_text("没有符合条件的学生。")).to_be_visible()

    student = Student.objects.get(pk=student.pk)
    assert (student.school_id, student.school_class_id, student.status) == (
        cast.school_b.pk, target.pk, StudentStatus.ACTIVE)
    assert StatusChange.objects.get(pk=change_pk).status == ChangeStatus.APPROVED
