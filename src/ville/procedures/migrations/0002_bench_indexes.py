"""Indexes for the agents' queue at scale (bench/procedures.py, 1,000,000 applications).

Raw SQL so that the model state is untouched (partial indexes the queue's selector relies
on; `makemigrations` does not see them and so never proposes to drop them).
"""

from django.db import migrations

INDEXES = {
    # The default queue: one service, most urgent first — an index-only top-50 read.
    "app_queue_order": ("(service_id, sla_due_at, submitted_at, id) WHERE state <> 'draft'"),
    # Filters by state and overdue on applications not decided yet: index-only too.
    "app_queue_open": (
        "(service_id, state, sla_due_at, submitted_at, id) "
        "WHERE decided_at IS NULL AND state <> 'draft'"
    ),
}


class Migration(migrations.Migration):
    dependencies = [("procedures", "0001_initial")]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS {name} ON procedures_application {definition}",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, definition in INDEXES.items()
    ]
