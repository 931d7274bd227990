"""Oversight (督查): what bureaus use to supervise the units below them (issue 6).

* Sampling inspections (抽查, 互查): ``services.inspection_create`` draws a seeded sample
  (``sampling.draw``: the same seed on the same records draws the same sample), schools answer each
  record with evidence, inspectors of the inspecting unit give verdicts.
* Rectification notices (整改通知): a bureau issues, the unit replies with evidence, the bureau closes
  or returns (``services.rectification_*``).
* Quarterly reports (季度报告): a city generates one in Celery (``tasks.quarterly_report_generate``),
  reviews and submits it; xlsx download (``reports.report_workbook``).
* Dashboards and scorecards read precomputed ``DashboardFigure`` rows (``figures.province_figures``,
  refreshed by ``tasks.dashboard_refresh`` every 15 minutes and on a bureau's request).

Public API for other apps: ``models.Failing`` (the failings a notice names), ``selectors.unit_figures``
(a unit's figures), ``tasks.dashboard_refresh``.
"""
