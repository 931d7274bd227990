"""The holiday table page /calendar/<year>/: system admin may edit, others 403, anonymous to login."""

from datetime import date

import pytest
from django.urls import reverse

from accounts.models import Role, User
from accounts.services import role_grant, user_create
from audits.models import AuditEvent
from tests.cast import PASSWORD
from xueji.models import CalendarDay, CalendarYear
from xueji.services import calendar_day_set
from xueji.workdays import add_working_days, library_knows_year

pytestmark = pytest.mark.django_db
UNKNOWN = next(year for year in range(2026, 2100) if not library_knows_year(year))


def other_province_system_admin(cast) -> User:
    """A system admin of 湖北 (not in the fixed cast)."""
    user = user_create(actor=None, username="other_system_admin", real_name="许系统", password=PASSWORD,
                       home_region=cast.regions["420000"], must_change_password=False)
    role_grant(actor=None, user=user, role=Role.SYSTEM_ADMIN, unit=cast.regions["420000"])
    return user


def year_url(year: int) -> str:
    return reverse("calendar:year", args=[year])


class TestAccess:
    def test_system_admin_sees_the_year(self, cast, client_for):
        response = client_for(cast.system_admin).get(year_url(2025))
        assert response.status_code == 200
        page = response.content.decode()
        assert "2025年节假日与调休" in page and "国庆节" in page and "尚未录入" not in page

    @pytest.mark.parametrize("role", ["registrar_a", "county_approver", "security_admin", "audit_admin",
                                      "inspector", "nobody"])
    def test_other_roles_get_403(self, cast, client_for, role):
        client = client_for(getattr(cast, role))
        assert client.get(year_url(2025)).status_code == 403
        assert client.get(reverse("calendar:index")).status_code == 403

    def test_registrar_cannot_write(self, cast, client_for):
        client = client_for(cast.registrar_a)
        posts = [
            (reverse("calendar:day_set", args=[2027]), {"date": "2027-10-01", "is_workday": "0"}),
            (reverse("calendar:day_remove", args=[2027]), {"date": "2027-10-01"}),
            (reverse("calendar:year_mark", args=[2027]), {"complete": "on"}),
        ]
        for url, data in posts:
            assert client.post(url, data).status_code == 403
        assert not CalendarDay.objects.exists() and not CalendarYear.objects.exists()

    def test_anonymous_is_sent_to_login(self, client):
        for response in (client.get(year_url(2025)),
                         client.post(reverse("calendar:day_set", args=[2027]), {"date": "2027-10-01"})):
            assert response.status_code == 302
            assert response.url.startswith(reverse("accounts:login"))
        assert not CalendarDay.objects.exists()

    def test_any_holder_of_manage_units_may_edit_the_national_table(self, cast, client_for):
        # The arrangement is national: another province's system admin edits the same table.
        client = client_for(other_province_system_admin(cast))
        assert client.get(year_url(2025)).status_code == 200

    @pytest.mark.parametrize("year", [1999, 2101, 99999])
    def test_years_out_of_range_are_404(self, cast, client_for, year):
        assert client_for(cast.system_admin).get(f"/calendar/{year}/").status_code == 404

    def test_index_redirects_to_this_year(self, cast, client_for):
        from django.utils import timezone

        response = client_for(cast.system_admin).get(reverse("calendar:index"))
        assert response.status_code == 302 and response.url == year_url(timezone.localdate().year)

    def test_get_only_and_post_only(self, cast, client_for):
        client = client_for(cast.system_admin)
        assert client.post(year_url(2025)).status_code == 405
        assert client.get(reverse("calendar:day_set", args=[2025])).status_code == 405


class TestEditing:
    def test_unknown_year_shows_the_warning(self, cast, client_for):
        page = client_for(cast.system_admin).get(year_url(UNKNOWN)).content.decode()
        assert f"{UNKNOWN}年节假日安排尚未录入，按周一至周五计算" in page

    def test_add_a_holiday_with_history_and_audit(self, cast, client_for):
        client = client_for(cast.system_admin)
        day = date(UNKNOWN, 10, 1)
        response = client.post(reverse("calendar:day_set", args=[UNKNOWN]),
                               {"date": day.isoformat(), "is_workday": "0", "name": "国庆节"})
        assert response.status_code == 302 and response.url == year_url(UNKNOWN)
        entry = CalendarDay.objects.get(date=day)
        assert (entry.is_workday, entry.name) == (False, "国庆节")
        assert entry.history.get().history_user == cast.system_admin
        event = AuditEvent.objects.get(target_type="xueji.calendarday", target_id=str(entry.pk))
        assert event.actor == cast.system_admin and day.isoformat() in event.message
        assert event.unit_path == cast.regions["340000"].path
        page = client.get(year_url(UNKNOWN)).content.decode()
        assert "国庆节" in page and "手工设置" in page

    def test_a_make_up_working_day_changes_deadlines(self, cast, client_for):
        client = client_for(cast.system_admin)
        client.post(reverse("calendar:day_set", args=[2025]), {"date": "2025-06-14", "is_workday": "1"})
        assert add_working_days(date(2025, 6, 13), 1) == date(2025, 6, 14)

    def test_replacing_a_day(self, cast, client_for):
        client = client_for(cast.system_admin)
        url = reverse("calendar:day_set", args=[2025])
        client.post(url, {"date": "2025-06-14", "is_workday": "1", "name": "上班"})
        client.post(url, {"date": "2025-06-14", "is_workday": "0", "name": "放假"})
        entry = CalendarDay.objects.get()
        assert (entry.is_workday, entry.name) == (False, "放假")
        assert entry.history.count() == 2

    @pytest.mark.parametrize(("data", "message"), [
        ({"date": "2026-10-01", "is_workday": "0"}, "日期应在2025年内"),
        ({"date": "", "is_workday": "0"}, "请选择日期"),
        ({"date": "2025-02-30", "is_workday": "0"}, "请输入有效日期"),
        ({"date": "not a date", "is_workday": "1", "name": "保留的名称"}, "请输入有效日期"),
        ({"date": "2025-10-01", "is_workday": "7"}, "选择一个有效的选项"),
        ({"date": "2025-10-01", "is_workday": "0", "name": "名" * 51}, "50"),
    ])
    def test_bad_input_comes_back_with_a_chinese_message_and_the_input_kept(self, cast, client_for, data, message):
        response = client_for(cast.system_admin).post(reverse("calendar:day_set", args=[2025]), data)
        assert response.status_code == 400
        page = response.content.decode()
        assert message in page
        if data.get("name"):
            assert data["name"] in page
        assert not CalendarDay.objects.exists()

    def test_remove_a_day(self, cast, client_for):
        entry = calendar_day_set(actor=cast.system_admin, day=date(2025, 10, 9), is_workday=False)
        client = client_for(cast.system_admin)
        page = client.get(year_url(2025)).content.decode()
        assert "confirm(" in page  # the page asks before deleting
        response = client.post(reverse("calendar:day_remove", args=[2025]), {"date": "2025-10-09"})
        assert response.status_code == 302
        assert not CalendarDay.objects.exists()
        assert entry.history.filter(history_type="-").get().history_user == cast.system_admin
        assert add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)

    @pytest.mark.parametrize("data", [{"date": "2025-10-09"}, {"date": "2026-10-09"}, {"date": "x"}, {}])
    def test_removing_nothing_or_garbage_just_redirects(self, cast, client_for, data):
        response = client_for(cast.system_admin).post(reverse("calendar:day_remove", args=[2025]), data)
        assert response.status_code == 302

    def test_a_day_of_another_year_is_not_removed_from_this_page(self, cast, client_for):
        calendar_day_set(actor=None, day=date(2026, 10, 9), is_workday=False)
        client_for(cast.system_admin).post(reverse("calendar:day_remove", args=[2025]), {"date": "2026-10-09"})
        assert CalendarDay.objects.filter(date=date(2026, 10, 9)).exists()

    def test_mark_and_unmark_complete(self, cast, client_for):
        client = client_for(cast.system_admin)
        url = reverse("calendar:year_mark", args=[UNKNOWN])
        assert client.post(url, {"complete": "on"}).status_code == 302
        assert CalendarYear.objects.get(year=UNKNOWN).complete
        assert "尚未录入" not in client.get(year_url(UNKNOWN)).content.decode()
        client.post(url, {})
        assert not CalendarYear.objects.get(year=UNKNOWN).complete
        assert "尚未录入" in client.get(year_url(UNKNOWN)).content.decode()
        assert AuditEvent.objects.filter(target_type="xueji.calendaryear").count() == 2

    def test_page_query_count(self, cast, client_for, django_assert_max_num_queries):
        calendar_day_set(actor=None, day=date(2025, 10, 9), is_workday=False)
        client = client_for(cast.system_admin)
        client.get(year_url(2025))  # warms the process's override table
        # 1 session  2 user  3 held codenames (the manage_units check; navigation reuses it)
        # 4 the year's entries  5 the complete flag  6 the navigation's unread-message count
        # 7-9 session save (savepoint, update, release); one spare for site-wide navigation
        with django_assert_max_num_queries(10):
            assert client.get(year_url(2025)).status_code == 200
