"""Benchmark: server time of the roster and search pages on the 1,000,000-student database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xueji_bench .venv/bin/python bench/pages_bench.py \
        [--repeat 20] [--only 搜索] [--show-queries]

Pages (students app): a class roster (/students/class/<pk>/), the student list of a school, of a
county and of a city (/students/, default sort by pinyin, another sort, a later page), and
searches by name prefix, full name, pinyin, initials, exact ID number and student number (the
search box posts its text and the list opens at /students/?search=<token>; the page timed is that
GET). Each as the users who would open it: ``bench_registrar`` (the largest generated
school of the largest county), ``bench_county_approver`` (that county), ``bench_city_approver``
(its city), and the demo province approver (the whole province) when it exists. The accounts
are created through accounts.services on the first run and reused after; nothing else is written
(force_login adds session rows).

Prints median and p95 server time (ms, see bench/pagetiming.py) and the query count of each.
Target (issue 3): under 100 ms for a roster page and a search.
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.pagetiming import bench_actors, client_for, print_table, setup_django, time_get  # noqa: E402

TARGET_MS = 100


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="花名册与搜索页面基准测试")
    parser.add_argument("--repeat", type=int, default=20, help="每个页面计时次数（默认 20）")
    parser.add_argument("--warmup", type=int, default=2, help="计时前的预热次数（默认 2）")
    parser.add_argument("--only", default="", help="只测标签或用户包含该文字的项目")
    parser.add_argument("--show-queries", action="store_true", help="打印每个页面的SQL及耗时")
    return parser.parse_args(argv)


def scenarios(actors) -> list[tuple[str, str, object, str]]:
    """(label, who, user, url) of every measured request; a ``SearchText`` url is posted first."""
    from urllib.parse import urlencode

    from django.db.models import Count
    from django.urls import reverse

    from accounts.models import User
    from schools.models import SchoolClass
    from students.models import Student

    school_class = (SchoolClass.objects.filter(school=actors.school).annotate(n=Count("students"))
                    .order_by("-n", "pk").first())
    # The student searched for: in the class, so inside every user's scope.
    target = Student.objects.filter(school_class=school_class).order_by("pk").first()
    roster = reverse("students:roster", kwargs={"pk": school_class.pk})
    listing = reverse("students:list")

    def q(**params) -> str:
        return f"{listing}?{urlencode(params)}"

    users = [("学校学籍员", actors.registrar), ("县级审核人", actors.county_approver),
             ("市级审核人", actors.city_approver)]
    province = User.objects.filter(username="demo_province_approver").first()
    if province is not None:
        users.append(("省级审核人(demo)", province))
    out = [
        ("班级花名册", "学校学籍员", actors.registrar, roster),
        ("班级花名册 按出生日期", "学校学籍员", actors.registrar, f"{roster}?sort=-birth"),
        ("班级花名册", "县级审核人", actors.county_approver, roster),
        ("学校学生列表", "县级审核人", actors.county_approver, q(school=actors.school.pk)),
        ("学校学生列表 第5页", "县级审核人", actors.county_approver, q(school=actors.school.pk, page=5)),
    ]
    for who, user in users:
        out += [
            ("学生列表(全部范围)", who, user, listing),
            ("学生列表 按出生日期", who, user, q(sort="-birth")),
            ("学生列表 第20页", who, user, q(page=20)),
        ]
    surname = target.name[0]
    syllable = target.name_pinyin[:len(target.name_pinyin) // 2]
    searches = [
        ("搜索 姓氏前缀", surname), ("搜索 姓名", target.name), ("搜索 拼音", target.name_pinyin),
        ("搜索 拼音前缀", syllable), ("搜索 首字母", target.name_initials),
        ("搜索 身份证件号", target.id_number), ("搜索 学籍号", target.student_number),
    ]
    for who, user in users:
        # The search box posts its text; the list opens at ?search=<token> (xueji.lists.search_stash).
        out += [(label, who, user, SearchText(text)) for label, text in searches]
    return out


class SearchText(str):
    """A search to post to the student list; the page timed is the one it redirects to."""


def search_url(client, text: str) -> str:
    """Post ``text`` as the search box does and return the list URL it redirects to (one request)."""
    from django.urls import reverse

    response = client.post(reverse("students:list"), {"q": text})
    assert response.status_code == 302, response.status_code
    return response["Location"]


def main(argv=None) -> int:
    args = parse_args(argv)
    setup_django()
    from django.db import connection
    from django.utils import timezone

    actors = bench_actors()
    print(f"{timezone.localtime():%Y-%m-%d %H:%M} 负载 {os.getloadavg()[0]:.1f} "
          f"数据库 {connection.settings_dict['NAME']}；"
          f"县 {actors.county} 市 {actors.city} 学校 {actors.school}（{actors.school.students.count()} 人）")
    clients = {}
    rows = []
    for label, who, user, url in scenarios(actors):
        if args.only and args.only not in label and args.only not in who:
            continue
        client = clients.get(user.pk) or clients.setdefault(user.pk, client_for(user))
        if isinstance(url, SearchText):
            url = search_url(client, url)
        rows.append(time_get(client, url, label=label, who=who, repeat=args.repeat, warmup=args.warmup,
                             show_queries=args.show_queries))
    print_table(rows, TARGET_MS)
    return 0 if all(r.status == 200 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
