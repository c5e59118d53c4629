"""Fixtures shared by the unit tests."""

from __future__ import annotations

import pytest

from matchers import BrandMatcher


@pytest.fixture(scope="module")
def matcher() -> BrandMatcher:
    return BrandMatcher(
        name="Cégep de Drummondville",
        aliases=[
            "Collège d'enseignement général et professionnel de Drummondville",
            "Cégep de Drummond",
            "Cégep drummondvillois",
        ],
        handles=["@cegepdrummond", "#cegepdrummond", "cegepdrummond.ca"],
        exclude=["Collège Saint-Bernard", "Voltigeurs de Drummondville", "UQTR"],
    )
