from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    """Responsibility agreements (责任书): registrar, inter-level and underage-enrolment liability forms."""

    name = "agreements"
    verbose_name = "责任书"

    def ready(self):
        from . import signals  # noqa: F401  (registrar grants stay inactive until the agreement is signed)
