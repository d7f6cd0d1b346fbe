"""The text `load-demo` and `demo` print: where to go, which logins, which TOTP secret.

Operator output of the command line, in English like Django's own commands.
"""

from __future__ import annotations

from ville.core.demo import people
from ville.core.demo.services import DemoSummary

ROLE_NOTES = {
    "citizen": "",
    "agent": "agent, TOTP",
    "helper": "helper, TOTP",
    "admin": "administrator, TOTP",
}


def logins_text(summary: DemoSummary) -> str:
    lines = [f"Demo logins (password for all: {people.DEMO_PASSWORD})"]
    for login in summary.logins:
        detail = ROLE_NOTES[login.role]
        if login.service_code:
            detail = f"{detail}, service {login.service_code}"
        name = f"{login.first_name} {login.last_name}"
        lines.append(f"  {login.email:<30} {name:<16} {login.role:<8} {detail}".rstrip())
    if summary.totp_secret:
        lines.append(f"TOTP secret of the agent, helper and admin accounts: {summary.totp_secret}")
        lines.extend(f"  {uri}" for uri in summary.totp_uris.values())
    lines.extend(f"Warning: {warning}" for warning in summary.warnings)
    return "\n".join(lines)


def demo_banner(summary: DemoSummary, *, url: str) -> str:
    rule = "=" * 78
    return "\n".join(
        [
            rule,
            f"Ville Intelligente demo: {url}",
            f"  personal space: {url}fr/espace/   admin site: {url}fr/gestion/",
            rule,
            logins_text(summary),
            rule,
            "Press Ctrl-C to stop the web server and the worker.",
        ]
    )
