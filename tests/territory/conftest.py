"""The real territory, loaded once per test from the app's data files."""

from __future__ import annotations

import pytest

from ville.territory.services import territory_load


@pytest.fixture
def territory(db: None) -> dict[str, int]:
    return territory_load()
