"""Status changes (学籍异动) and their approval queues, DESIGN.md §5 and issue 4.

Public API for other apps (all keyword-only, atomic, raising ValidationError with Chinese
messages or PermissionDenied):

* ``services.registration_submit(*, actor, students) -> StatusChange``: a registration batch of
  drafts; ``services.registration_submit_new(*, actor, school, entries, reason)``: the same for new
  students written directly as pending (the Excel import).
* ``services.change_start(*, actor, kind, student, submit, evidence_files=(), follow_up="",
  key_data=None, target_class=None, reason_category="", reason="", start_date=None, end_date=None)``
  and the finer ``change_create_draft`` / ``change_update_draft`` / ``evidence_add`` /
  ``follow_up_add`` / ``change_submit``.
* ``services.step_decide(*, actor, step, decision, comment)`` and ``steps_decide_batch``;
  ``change_withdraw``; ``change_roll_back``; ``registration_remove_student``.
* ``routes.route_for(change) -> list[tuple[unit, role]]``: the only place routes live.
* ``selectors.change_for_user(user, pk, codename)``, ``queue_steps(user)``,
  ``escalation_steps(user, today)``, ``student_changes(student)``, ``open_change_of(student)``,
  ``expired_suspensions(students_qs, today=...)``.
* Template tag: ``{% load transfers_tags %}{% student_changes_panel student %}``.

Decisions of note: a rejection returns the change to ``draft`` (the rejection stays on its step)
and a resubmission appends a new round of steps; registration batches keep their students in
``StatusChange.students`` (many-to-many) rather than a key on the student.
"""
