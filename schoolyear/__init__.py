"""The school year (DESIGN.md §6, issue 6): graduation of the graduating grades (by 7/31) and the
yearly promotion of every other student (default 8/10).

Public API for other apps:

* ``services.graduation_submit`` / ``graduation_decide`` / ``graduation_undo``: a school's
  graduation batch and its decisions (see services for who decides what).
* ``services.promotion_start(*, actor, province, school_year)`` and the Celery task
  ``tasks.promotion_execute(run_id)``: the province's promotion run.
* ``selectors.graduation_blockers(students)``: open business per student (在办业务).
* ``selectors.graduation_overdue_q(today)`` / ``promotion_summary(unit, school_year)`` for other
  pages' counts.
"""
