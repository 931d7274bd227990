"""``manage.py load_regions``: load GB/T 2260 administrative divisions (see schools.regions)."""

from django.core.management.base import BaseCommand

from schools.regions import regions_load


class Command(BaseCommand):
    help = "导入 GB/T 2260 行政区划（python-stdnum 数据）；可重复运行，已是最新时不做任何改动"

    def handle(self, *args, **options):
        result = regions_load(actor=None)
        style = self.style.SUCCESS if result.changed else self.style.NOTICE
        self.stdout.write(style(result.summary()))
