"""``manage.py seed_demo``: the demo schools, accounts and students (see students.demo)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from students.demo import PASSWORD_ENV, RegionsMissing, demo_password, demo_seed


class Command(BaseCommand):
    help = "创建演示学校、各角色演示账号和合成学生；可重复运行，已有的数据不改动（需先运行 load_regions）"

    def handle(self, *args, **options):
        try:
            password = demo_password()
        except ValidationError as exc:
            raise CommandError(f"环境变量 {PASSWORD_ENV} 不符合密码规则：{'；'.join(exc.messages)}") from exc
        try:
            result = demo_seed(password=password)
        except RegionsMissing as exc:
            raise CommandError(
                f"尚未导入行政区划（缺少 {', '.join(exc.args[0])}）：请先运行 python manage.py load_regions") from exc
        if result.changed:
            self.stdout.write(self.style.SUCCESS(
                f"演示数据已创建：学校 {result.schools} 所，年级 {result.grades} 个，班级 {result.classes} 个，"
                f"账号 {result.users} 个，角色授权 {result.grants} 项，学籍管理员责任书 {result.agreements} 份，"
                f"学生 {result.students} 名"))
        else:
            self.stdout.write(self.style.NOTICE("演示数据已存在：无变化"))
        self._print_logins(result)

    def _print_logins(self, result):
        width = max(len(login.username) for login in result.logins)
        self.stdout.write("\n演示账号：")
        self.stdout.write(f"  {'用户名'.ljust(width - 3)}  角色 · 单位")
        for login in result.logins:
            self.stdout.write(f"  {login.username.ljust(width)}  {login.role} · {login.unit}")
        self.stdout.write(
            f"密码：所有演示账号相同，为环境变量 {PASSWORD_ENV} 的值（未设置时为 Xueji2026demo）；"
            "密码只在账号首次创建时设置。")
