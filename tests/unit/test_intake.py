"""Cleaning what collectors bring before it is keyed, matched and stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from collectors.base import Item
from veille.intake import MAX_TITLE, RejectedItem, clean_item, clean_time, newest
from veille.pipeline import matched_text, title_key

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _item(**fields: object) -> Item:
    values: dict[str, object] = {
        "source": "S",
        "url": "https://journal.test/a",
        "title": "T",
        "text": "",
    }
    values.update(fields)
    return Item(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2026, 11, 28, 10, 0), datetime(2026, 11, 28, 10, 0, tzinfo=UTC)),  # naive: UTC
        (datetime(9999, 12, 31, 23, 0, tzinfo=UTC), NOW),  # the future: when it was found
        (datetime(2027, 1, 1, tzinfo=UTC), NOW),
        (datetime(1, 1, 1), None),  # a placeholder, not a date
        ("2026-11-28", None),  # not a datetime
        (None, None),
    ],
)
def test_times_are_cleaned(value: object, expected: datetime | None) -> None:
    assert clean_time(value, NOW) == expected


def test_values_of_the_wrong_type_become_text() -> None:
    key, item = clean_item(
        _item(title=["Un", "titre"], text=123, outlet={"nom": "x"}, guid=["g"]), NOW
    )
    assert (item.title, item.text, item.outlet, item.guid) == ("Un titre", "123", None, "g")
    assert key == "https://journal.test/a"


def test_titles_are_clipped_and_on_one_line() -> None:
    _, item = clean_item(_item(title="a\nb " + "x" * 5000), NOW)
    assert len(item.title) == MAX_TITLE and item.title.startswith("a b x") and item.title[-1] == "…"


@pytest.mark.parametrize(
    "url", ["https://journal.test:99999/a", "http://[::1/a", "https://exa mple.test:-1/"]
)
def test_an_unparsable_link_rejects_the_item(url: str) -> None:
    with pytest.raises(RejectedItem, match="lien invalide"):
        clean_item(_item(url=url), NOW)


def test_a_link_that_is_not_text_rejects_the_item() -> None:
    with pytest.raises(RejectedItem):
        clean_item(_item(url=["https://journal.test/a"]), NOW)


def test_the_newest_items_are_kept() -> None:
    items = [
        _item(url=f"https://j.test/{n}", published_at=NOW - timedelta(hours=n)) for n in range(5)
    ]
    kept, left = newest([items[3], items[0], _item(url="https://j.test/x"), items[4]], limit=2)
    assert [i.url for i in kept] == ["https://j.test/0", "https://j.test/3"] and left == 2


@pytest.mark.parametrize("dash", [" — ", " – ", " - ", " | ", "  —  "])
def test_title_key_drops_the_outlet_after_any_dash(dash: str) -> None:
    bare = title_key("Le Cégep de Drummondville inaugure son pavillon", None)
    assert bare is not None
    assert (
        title_key(
            f"Le Cégep de Drummondville inaugure son pavillon{dash}Le Nouvelliste", "Le Nouvelliste"
        )
        == bare
    )


def test_a_post_whose_title_is_its_first_words_is_matched_on_its_text() -> None:
    body = "Bravo aux finissantes du Cégep de Drummondville pour leur prix!"
    assert matched_text("Bravo aux finissantes du Cégep…", body) == body
    assert matched_text("", body) == body
    assert matched_text("Un titre", body) == f"Un titre — {body}"
