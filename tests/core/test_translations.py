"""The interface exists in the five languages: complete catalogues, kept in step with the
code, and actually used by pages and the API."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.test import Client

from tests.factories import HouseholdMemberFactory, UserFactory
from ville.accounts.models import Household

LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
TRANSLATED = ["fr", "es", "ar", "pt"]  # English is the msgid language
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")


def _catalogue(lang: str) -> polib.POFile:
    return polib.pofile(str(LOCALE_DIR / lang / "LC_MESSAGES" / "django.po"))


@pytest.mark.parametrize("lang", TRANSLATED)
def test_catalogue_is_complete(lang: str) -> None:
    catalogue = _catalogue(lang)
    missing = [e.msgid for e in catalogue.untranslated_entries()]
    fuzzy = [e.msgid for e in catalogue.fuzzy_entries()]
    assert not missing, f"{lang}: untranslated {missing[:10]}"
    assert not fuzzy, f"{lang}: fuzzy {fuzzy[:10]}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_translations_keep_their_placeholders(lang: str) -> None:
    for entry in _catalogue(lang).translated_entries():
        wanted = sorted(PLACEHOLDER.findall(entry.msgid_plural or entry.msgid))
        translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        for text in translations:
            assert sorted(set(PLACEHOLDER.findall(text))) <= sorted(set(wanted)), (
                f"{lang}: {entry.msgid!r} → {text!r}"
            )


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext is not installed")
def test_catalogues_are_in_step_with_the_code(tmp_path: Path) -> None:
    """Every string marked for translation in the code is in the catalogues."""
    copy = tmp_path / "src" / "ville"
    shutil.copytree(LOCALE_DIR.parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    env = {
        **os.environ,
        "PYTHONPATH": str(tmp_path / "src"),
        "DJANGO_SETTINGS_MODULE": "ville.settings",
        "VILLE_TESTING": "1",
        "VILLE_DATA_DIR": str(tmp_path / "var"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "fr", "--no-obsolete"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    fresh = polib.pofile(str(copy / "locale" / "fr" / "LC_MESSAGES" / "django.po"))
    new = [e.msgid for e in fresh.untranslated_entries() + fresh.fuzzy_entries()]
    assert not new, f"strings not yet in the catalogues (run `make messages`): {new[:10]}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("lang", "expected"),
    [("fr", "Mon foyer"), ("ar", "أسرتي"), ("en", "My household")],
)
def test_pages_and_api_speak_the_language(client: Client, lang: str, expected: str) -> None:
    household = Household.objects.create()
    user = UserFactory(household=household)
    HouseholdMemberFactory(household=household)
    client.force_login(user)

    page = client.get(f"/{lang}/espace/")
    assert page.status_code == 200
    assert expected in page.content.decode()

    api = client.get("/api/v1/me/dashboard", HTTP_ACCEPT_LANGUAGE=lang)
    titles = [card["title"] for card in api.json()["cards"]]
    assert expected in titles
