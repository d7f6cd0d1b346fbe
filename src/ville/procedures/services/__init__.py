"""The only writers of applications: start, save, submit, move through the workflow,
assign, message, verify documents, and decide by silence. Import from here."""

from ville.procedures.services.decisions import (
    application_assign,
    application_transition,
    application_withdraw,
    applications_apply_silence,
)
from ville.procedures.services.drafts import (
    application_save_step,
    application_start,
    application_submit,
)
from ville.procedures.services.exchanges import attachment_verify, message_post

__all__ = [
    "application_assign",
    "application_save_step",
    "application_start",
    "application_submit",
    "application_transition",
    "application_withdraw",
    "applications_apply_silence",
    "attachment_verify",
    "message_post",
]
