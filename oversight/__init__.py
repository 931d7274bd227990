"""Oversight (督查): what bureaus use to supervise the units below them.

Public API for other apps:

* ``oversight.models.Failing``: the failings of the agreements a rectification notice names.
* ``oversight.selectors.unit_figures(unit_path)``: the precomputed dashboard figures of a unit.
* ``oversight.tasks.dashboard_refresh``: recompute the figures (beat, and on demand).
"""
