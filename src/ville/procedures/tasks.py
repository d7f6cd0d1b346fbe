"""Background tasks of the procedures domain (django-tasks): decisions by silence once
their deadline passes. Run by the scheduler or enqueued on demand; always idempotent."""

from __future__ import annotations

from django_tasks import task

from ville.procedures.services import applications_apply_silence


@task()
def apply_deadlines() -> int:
    """Decide every application whose "silence vaut accord / refus" date has passed."""
    return applications_apply_silence()
