"""Celery tasks of the oversight app. They take ids or codes only and call one service."""

from celery import shared_task


@shared_task
def dashboard_refresh(province_code: str | None = None) -> int:
    """Recompute the dashboard and scorecard figures of one province (2-digit code), or of every
    province when None (the beat job). Returns how many provinces were refreshed."""
    from .services import figures_refresh, figures_refresh_all

    if province_code is None:
        return figures_refresh_all(actor=None)
    figures_refresh(actor=None, province_code=province_code)
    return 1


@shared_task
def quarterly_report_generate(report_id: int) -> str:
    """Compute the figures of quarterly report ``report_id``. Returns the report's new status."""
    from .services import quarterly_report_generate as generate

    return generate(report_id=report_id).status
