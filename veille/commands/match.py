"""``veille match``: the brand matcher on a text or a JSONL file, with its reasons."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from matchers import BrandMatcher
from matchers.base import MatchResult
from veille.commands.console import config_of
from veille.errors import EXIT_OK, UsageError


def _match_json(identifier: object, result: MatchResult) -> str:
    return json.dumps(
        {
            "id": identifier,
            "matched": result.matched,
            "score": result.score,
            "spans": [{"start": s.start, "end": s.end, "text": s.text} for s in result.spans],
        },
        ensure_ascii=False,
    )


def cmd_match(args: argparse.Namespace) -> int:
    if bool(args.text) == bool(args.file):
        raise UsageError("donnez soit un TEXTE, soit --file F.jsonl")
    config = config_of(args)
    matcher = BrandMatcher.from_brand(config.brand)
    if args.file:
        return _match_file(matcher, Path(args.file))
    result = matcher.explain(args.text)
    if not result.matched:
        print("Aucune mention.")
        if result.near_miss:
            print(f"Candidat le plus proche : {result.near_miss}.")
        return EXIT_OK
    print(f"Mention trouvée (score {result.score}).")
    for span in result.spans:
        print(
            f"  « {' '.join(span.text.split())} » [{span.start}:{span.end}] — règle : {span.rule}, "
            f"forme : {span.form}, score {span.score}"
        )
    return EXIT_OK


def _match_file(matcher: BrandMatcher, path: Path) -> int:
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: lecture impossible ({exc.strerror})") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                text = row["text"]
                if not isinstance(text, str):
                    raise TypeError
            except (ValueError, KeyError, TypeError):
                raise UsageError(
                    f"{path}: ligne {number} : objet JSON avec « id » et « text » attendu"
                ) from None
            print(_match_json(row.get("id"), matcher.match(text)), flush=False)
    return EXIT_OK
