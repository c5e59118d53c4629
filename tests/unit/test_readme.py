"""Every ```yaml block of README.md is a configuration veille accepts.

A block is a whole config.yaml (it has ``brand:``, ``sources:`` and ``digest:``), or a
fragment merged into a minimal valid configuration first: a list, or a single mapping
with ``name:`` and ``type:``, is a ``sources:`` list; any other mapping holds sections
(``smtp:``, ``digest:``…) merged key by key into the minimal one. A block meant to show a
mistake says so with ``# invalide`` on its first line: it must then be refused.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from collectors import options_models
from veille.config import load_config
from veille.errors import ConfigError

README = Path(__file__).resolve().parents[2] / "README.md"
INVALID = "# invalide"
MINIMAL: dict[str, Any] = {
    "brand": {"name": "Cégep de Drummondville"},
    "sources": [{"name": "Journal", "type": "feed", "url": "https://journal.test/rss"}],
    "digest": {"to": ["communications@cegep.example"], "from": "veille@cegep.example"},
}


def yaml_blocks(text: str) -> list[tuple[int, str]]:
    """(line number of the opening fence, content) of each ```yaml or ```yml block;
    a fenced block indented in a list item loses that indentation."""
    blocks: list[tuple[int, str]] = []
    lines = text.splitlines()
    number = 0
    while number < len(lines):
        opening = re.fullmatch(r"(\s*)```\s*ya?ml\s*", lines[number])
        number += 1
        if not opening:
            continue
        indent, start, body = opening.group(1), number, []
        while number < len(lines) and not re.fullmatch(r"\s*```\s*", lines[number]):
            body.append(lines[number].removeprefix(indent))
            number += 1
        number += 1
        blocks.append((start, "\n".join(body) + "\n"))
    return blocks


def _merged(base: Any, fragment: Any) -> Any:
    """``fragment`` over ``base``: mappings merged key by key, anything else replaced."""
    if isinstance(base, dict) and isinstance(fragment, dict):
        merged = dict(base)
        for key, value in fragment.items():
            merged[key] = _merged(base[key], value) if key in base else value
        return merged
    return fragment


def as_config(block: str) -> dict[str, Any]:
    """The whole configuration a README block stands for."""
    data = yaml.safe_load(block)
    if isinstance(data, list):  # a sources: list
        return {**MINIMAL, "sources": data}
    if not isinstance(data, dict):
        raise AssertionError(f"neither a configuration nor a fragment of one: {block!r}")
    if {"brand", "sources", "digest"} <= set(data):  # a whole config.yaml
        return data
    if {"name", "type"} <= set(data):  # one source: no section of config.yaml is so named
        return {**MINIMAL, "sources": [data]}
    merged = _merged(MINIMAL, data)  # sections; one that does not exist is refused
    assert isinstance(merged, dict)
    return merged


BLOCKS = yaml_blocks(README.read_text(encoding="utf-8"))


def test_the_readme_has_yaml_blocks_and_they_are_all_found() -> None:
    fences = len(re.findall(r"^\s*```\s*ya?ml\s*$", README.read_text(encoding="utf-8"), re.M))
    assert BLOCKS and len(BLOCKS) == fences


def _load(folder: Path, block: str) -> None:
    config = folder / "config.yaml"
    config.write_text(
        yaml.safe_dump(as_config(block), allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    load_config(config, source_types=options_models())


@pytest.mark.parametrize(("line", "block"), BLOCKS, ids=[f"README.md:{n}" for n, _ in BLOCKS])
def test_each_yaml_block_of_the_readme_is_accepted_or_refused_as_it_says(
    tmp_path: Path, line: int, block: str
) -> None:
    if block.lstrip().startswith(INVALID):
        with pytest.raises(ConfigError):
            _load(tmp_path, block)
        return
    try:
        _load(tmp_path, block)
    except ConfigError as exc:
        pytest.fail(f"README.md, block at line {line}: {exc}\n{block}")


def test_fragments_are_merged_into_a_valid_configuration(tmp_path: Path) -> None:
    """The harness itself: a source list, one source, a section, a whole file; a
    mistake is still refused once merged."""
    assert (
        as_config("- {name: A, type: feed, url: 'https://a.test/'}\n")["sources"][0]["name"] == "A"
    )
    assert as_config("name: B\ntype: page\nurl: https://b.test/\n")["sources"][0]["name"] == "B"
    digest = as_config('digest:\n  at: "07:30"\n')["digest"]
    assert digest == {**MINIMAL["digest"], "at": "07:30"}
    whole = "brand: {name: X}\nsources: []\ndigest: {to: [a@b.c], from: a@b.c}\n"
    assert as_config(whole)["sources"] == []
    text = "Texte\n\n- liste\n\n  ```yaml\n  smtp:\n    host: mail.test\n  ```\n\n```sh\nls\n```\n"
    assert yaml_blocks(text) == [(5, "smtp:\n  host: mail.test\n")]
    with pytest.raises(ConfigError, match="urll"):
        _load(tmp_path, "# invalide\n- {name: A, type: feed, urll: 'https://a.test/'}\n")
    with pytest.raises(ConfigError):
        _load(tmp_path, "smtpp:\n  host: mail.test\n")  # a section that does not exist
