"""The `ville` console script: Django's management commands with kebab-case names.

`ville load-demo` runs the `load_demo` command, `ville audit verify` the `audit` command
with its `verify` action, and every Django command (`ville migrate`, …) works as usual.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ville.settings")
    if len(args) > 1 and not args[1].startswith("-"):
        args[1] = args[1].replace("-", "_")
        if args[1] == "demo":
            # `ville demo` is the laptop demo whatever the caller exported.
            os.environ.setdefault("VILLE_DEMO", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(args)


if __name__ == "__main__":
    main()
