from django.apps import AppConfig


class OversightConfig(AppConfig):
    """Supervision by the bureaus: sampling inspections, rectification notices, quarterly reports,
    scorecards and dashboards (issue 6, DESIGN.md §6)."""

    name = "oversight"
    verbose_name = "督查与统计"
