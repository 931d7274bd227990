from django.apps import AppConfig


class SchoolyearConfig(AppConfig):
    name = "schoolyear"
    verbose_name = "学年：毕业与升级"
