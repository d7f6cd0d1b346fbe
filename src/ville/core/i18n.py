"""Compiles the gettext catalogues (.po → .mo) in pure Python.

A fresh machine has no `msgfmt`; `ville demo`, `ville serve` and the test suite call
`compile_catalogs()` so the interface is translated there too. Only stale files are
rewritten, atomically, so parallel processes can call it safely.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import polib
from django.conf import settings
from django.http import HttpResponse


def catalogue_dirs() -> list[Path]:
    return [Path(p) for p in settings.LOCALE_PATHS]


def compile_catalogs() -> list[Path]:
    """Compile every .po under LOCALE_PATHS whose .mo is missing or older. Returns them."""
    written: list[Path] = []
    for base in catalogue_dirs():
        for po_path in sorted(base.glob("*/LC_MESSAGES/*.po")):
            mo_path = po_path.with_suffix(".mo")
            if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                continue
            catalogue = polib.pofile(str(po_path))
            fd, tmp = tempfile.mkstemp(dir=po_path.parent, suffix=".mo.tmp")
            os.close(fd)
            catalogue.save_as_mofile(tmp)
            os.chmod(tmp, 0o644)  # mkstemp makes it 0600; the server may run as another user
            os.replace(tmp, mo_path)
            written.append(mo_path)
    return written


def set_language_cookie(response: HttpResponse, language: str) -> None:
    """The cookie Django's `set_language` view sets: unprefixed URLs follow it."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,  # type: ignore[arg-type]
    )
