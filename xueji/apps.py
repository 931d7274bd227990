from django.apps import AppConfig


class XuejiConfig(AppConfig):
    name = "xueji"
    verbose_name = "学籍系统"
