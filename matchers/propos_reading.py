"""How the propos detector reads a comment, and the little pattern language of
its word lists (matchers/propos.py holds the rules).

- :class:`ReadComment`: a text folded like the brand matcher folds it, cut into
  words (apostrophes and hyphens separate words, sentence punctuation ends a
  clause, quotation marks are remembered), obfuscation undone (letters spelled
  apart, leetspeak, a masked letter, letters repeated) and texting contractions
  read as the words they stand for; each word keeps the way back to the text as
  written.
- :class:`PatternSet`: patterns of the YAML lists ("je vais (te|vous)
  {blesser}", "…", "!mot", "#", "mot*"; the syntax is in menace.yaml) compiled
  to regular expressions over the words, each indexed by its rarest mandatory
  word so that a comment only runs the patterns it could match.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set

from matchers.normalize import fold, fold_plain

# --- words -------------------------------------------------------------------

WORD = re.compile(r"[a-z0-9@$*]+")
_LEET = str.maketrans("0134@$5", "oieaass")
_LEET_CHARS = frozenset("0134@$5")
_NOT_LEET = re.compile(r"\d+(?:e|er|re|ere|eme|ieme|h|h\d\d|am|pm|k|km|m|min|x|s|ans|st|nd|rd|th)?")
ELONGATED = re.compile(r"([a-z])\1\1+")
# letters spelled apart: "c o n n e", "i.d.i.o.t" (not an elided "j'" at the end)
SPACED = re.compile(r"(?<![a-z0-9@$*'])(?:[a-z0-9@$*][ ._\-]){2,}[a-z0-9@$*](?![a-z0-9@$*'])")
_SPLIT = re.compile(r"[^a-z0-9@$*]+")
_TITLE_DOT = frozenset({"m", "mme", "mmes", "mlle", "mr", "mrs", "ms", "dr", "dre", "st", "ste"})
_BOUNDARY_CHARS = frozenset(".!?;:\n")
_QUOTES_OPEN = frozenset("«“")
# what the reader stops at: words, sentence ends, quotation marks, weapon emoji
_SCAN = re.compile(
    r"(?P<word>[a-z0-9@$*]+)|(?P<stop>[.!?;:\n]+)|(?P<quote>[«»“”\"])|(?P<emoji>[🔪🔫💣🗡🪓])"
)
_QUOTES_CLOSE = frozenset("»”")
WEAPON_EMOJI = frozenset("🔪🔫💣🗡🪓")
_ALL_PLURALS = re.compile(r"[sxz]$")


def words_of(phrase: str) -> tuple[str, ...]:
    """A list entry as the words the detector reads: folded, split like a text."""
    return tuple(w for w in _SPLIT.split(fold_plain(phrase)) if w)


def forms(entry: str) -> Iterator[tuple[str, ...]]:
    """An entry and its plural in -s (on the last word)."""
    words = words_of(entry)
    if not words:
        return
    yield words
    last = words[-1]
    if not _ALL_PLURALS.search(last) and last.isalpha() and len(last) > 1:
        yield (*words[:-1], last + "s")


ACUTE_END = re.compile(r"[éÉ](?:e|s|es|E|S|ES)?$")
# No clause is longer: the rules look back within a clause, so a page without a
# full stop costs its length, not its length squared.
MAX_CLAUSE = 60
_ACCENTED = re.compile("[éèêëàâîïôûùçÉÈÊÀÂÎÔÛÇ]")
_ACUTE_WORD = re.compile(r"[éÉ](?:e|s|es|E|S|ES)?(?![^\W_])")


def acute_ends(entry: str) -> tuple[bool, ...]:
    """For each word of an entry as written, whether it ends in an accented é
    ("cavé", "enfoirée", "réfugiés"). A word of a text ending in é matches only
    an entry written with it ("cavé" is not "cave"); an entry written with it
    matches a word without it only in a comment typed without any accent
    ("t'es un rate", but "il demeure à" is not "demeuré")."""
    return tuple(bool(ACUTE_END.search(w)) for w in re.split(r"[^\w@$*]+", entry) if w)


def _squeeze(word: str, keep: int) -> str:
    return ELONGATED.sub(lambda m: m.group(1) * keep, word)


# --- patterns ----------------------------------------------------------------

_GAP = "(?:[^ |]+ ){0,4}"
# "$": the sentence ends here (a clause break or the end of the comment)
_CLAUSE_END = r"(?=\| |$)"
# a word written before a vowel loses its vowel: "trop d'Arabes", "qu'il", "j'ai"
_ELIDED = {
    w: f"(?:{w}|{w[0]}{'u' if w == 'que' else ''})"
    for w in ("de", "je", "ne", "se", "me", "te", "que")
}


def _pattern_regex(pattern: str, lists: Mapping[str, Sequence[str]]) -> str:
    """The regex, over the normalised text, of one pattern (syntax in menace.yaml)."""
    out: list[str] = []
    text = pattern.replace("...", "…")
    index = 0
    while index < len(text):
        char = text[index]
        if char.isspace():
            index += 1
        elif char == "(":
            depth, end = 0, index
            for end in range(index, len(text)):
                depth += {"(": 1, ")": -1}.get(text[end], 0)
                if depth == 0:
                    break
            inner = text[index + 1 : end]
            alternatives = _split_alternatives(inner)
            out.append("(?:" + "|".join(_pattern_regex(alt, lists) for alt in alternatives) + ")")
            index = end + 1
        elif char == "…":
            out.append(_GAP)
            index += 1
        elif char == "#":
            out.append("[0-9]+ ")
            index += 1
        elif char == "$":
            out.append(_CLAUSE_END)
            index += 1
        elif char == "!":
            rest = text[index + 1 :]
            if rest.startswith("("):
                depth, end = 0, 0
                for end in range(len(rest)):
                    depth += {"(": 1, ")": -1}.get(rest[end], 0)
                    if depth == 0:
                        break
                out.append("(?!" + _pattern_regex(rest[: end + 1], lists) + ")")
                index += end + 2
            else:
                word = re.match(r"[^\s()|]+", rest)
                if word is None:
                    raise ValueError(f"motif « {pattern} » : mot attendu après « ! »")
                out.append("(?!" + _pattern_regex(word.group(), lists) + ")")
                index += 1 + word.end()
        elif char == "{":
            end = text.index("}", index)
            name = text[index + 1 : end]
            if name not in lists:
                raise ValueError(f"motif « {pattern} » : liste inconnue {{{name}}}")
            entries = sorted({" ".join(f) for e in lists[name] for f in forms(e)}, key=len)
            out.append("(?:" + "|".join(re.escape(e) + " " for e in reversed(entries)) + ")")
            index = end + 1
        else:
            word = re.match(r"[^\s()|…{!#]+", text[index:])
            assert word is not None
            token = word.group()
            index += word.end()
            prefix = token.endswith("*")
            parts = words_of(token.rstrip("*"))
            if not parts:
                if token.strip("*:") == "":
                    continue
                raise ValueError(f"motif « {pattern} » : mot vide")
            literal = " ".join(_ELIDED.get(p, re.escape(p)) for p in parts)
            out.append(literal + ("[^ |]* " if prefix else " "))
    return "".join(out)


def _split_alternatives(inner: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for index, char in enumerate(inner):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(inner[start:index])
            start = index + 1
    parts.append(inner[start:])
    return parts


def pattern_items(pattern: str) -> list[str]:
    """The top-level items of a pattern: words, groups, lists, gaps."""
    items: list[str] = []
    text = pattern.replace("...", "…")
    index = 0
    while index < len(text):
        char = text[index]
        if char.isspace():
            index += 1
            continue
        if char in "(!":
            end = index
            if char == "!" and not text.startswith("!(", index):
                end = index + 1
                while end < len(text) and not text[end].isspace():
                    end += 1
                items.append(text[index:end])
                index = end
                continue
            depth = 0
            for end in range(index + (char == "!"), len(text)):
                depth += {"(": 1, ")": -1}.get(text[end], 0)
                if depth == 0:
                    break
            items.append(text[index : end + 1])
            index = end + 1
        elif char == "{":
            end = text.index("}", index)
            items.append(text[index : end + 1])
            index = end + 1
        else:
            end = index
            while end < len(text) and not text[end].isspace() and text[end] not in "({":
                end += 1
            items.append(text[index:end] if end > index else text[index])
            index = max(end, index + 1)
    return items


def pattern_key(items: Sequence[str], lists: Mapping[str, Sequence[str]]) -> frozenset[str] | None:
    """Words of which every match of these items contains at least one, chosen
    among the mandatory items to be as rare as can be; None if no item is
    mandatory and known (gaps, numbers, prefixes, optional groups)."""
    best: frozenset[str] | None = None
    for item in items:
        found = _item_key(item, lists)
        if found is not None and (best is None or _commonness(found) < _commonness(best)):
            best = found
    return best


def _item_key(item: str, lists: Mapping[str, Sequence[str]]) -> frozenset[str] | None:
    if item.startswith("!") or item in ("…", "#", "$") or item.endswith("*"):
        return None
    if item.startswith("{"):
        return frozenset(rarest(f) for e in lists[item[1:-1]] for f in forms(e))
    if item.startswith("("):
        found: set[str] = set()
        for alternative in _split_alternatives(item[1:-1]):
            key = pattern_key(pattern_items(alternative), lists)
            if key is None:
                return None  # an empty (optional) or unknown alternative
            found |= key
        return frozenset(found)
    parts = words_of(item)
    if not parts:
        return None
    word = rarest(parts)
    elided = word[0] + ("u" if word == "que" else "")
    return frozenset({word, elided}) if word in _ELIDED else frozenset({word})


# Words found in most comments: a poor index for a pattern.
_COMMON = frozenset(
    (  # noqa: SIM905
        "je j tu t il elle on nous vous ils elles le la l les un une des de d du a au aux "
        "et pis ou que qu qui ce c ca est es sont pas ne n en y me m te se s lui leur "
        "mon ma mes ton ta tes son sa ses va vas vais vont dans pour sur avec par sans "
        "sous chez entre vers apres avant depuis pendant ai as ont avait avoir ete etre "
        "fait faire font dit peut tout tous toute rien bien ben plus moins tres trop "
        "comme mais donc alors aussi encore deja juste meme quand voir arrive vient "
        "donne prend trouve sait payer mal bon bonne gars fille prof cours cegep "
        "etudiant etudiante etudiants examens notes travail char personne soir matin "
        "demain lundi mardi mercredi jeudi vendredi samedi dimanche eu go "
        "the this that i you an to is it of and in for be get was are my"
    ).split()
)


def _commonness(words: frozenset[str]) -> tuple[int, int, int]:
    return sum(w in _COMMON for w in words), len(words), -min(len(w) for w in words)


def rarest(words: Sequence[str]) -> str:
    return max(words, key=lambda w: (w not in _COMMON, len(w)))


class PatternSet:
    """Patterns indexed by the words they can start with: a text only runs those
    whose first word it has (and the few that can start anywhere)."""

    def __init__(self, patterns: Iterable[str], lists: Mapping[str, Sequence[str]]) -> None:
        self._regexes: list[re.Pattern[str]] = []
        self._by_word: dict[str, list[int]] = {}
        self._always: list[int] = []
        self._digits: set[int] = set()  # patterns that need a number
        for pattern in patterns:
            if not pattern.strip():
                continue
            number = len(self._regexes)
            self._regexes.append(re.compile("(?<= )" + _pattern_regex(pattern, lists)))
            items = pattern_items(pattern)
            if "#" in items:
                self._digits.add(number)
            first = pattern_key(items, lists)
            if first is None:
                self._always.append(number)
            else:
                for word in first:
                    self._by_word.setdefault(word, []).append(number)
        # intersected with a comment's words: a frozenset & frozenset walks the smaller
        self._index_words = frozenset(self._by_word)

    def __bool__(self) -> bool:
        return bool(self._regexes)

    def keys(self) -> frozenset[str] | None:
        """The words one of which a text needs for any pattern to match (None: a
        pattern can match without any known word)."""
        if any(n not in self._digits for n in self._always):
            return None
        return frozenset(
            word for word, numbers in self._by_word.items() if not self._digits.issuperset(numbers)
        )

    def finditer(self, norm: str, words: Set[str]) -> list[re.Match[str]]:
        """Every match in the normalised text, in order; overlapping matches of
        different patterns are all kept."""
        present = self._index_words & words
        if not present and not self._always:
            return []
        chosen = set(self._always)
        by_word = self._by_word
        for word in present:
            chosen.update(by_word[word])
        found = [m for n in chosen for m in self._regexes[n].finditer(norm)]
        found.sort(key=lambda m: (m.start(), -m.end()))
        return found


# a contraction's first word -> (the words written, the words read), longest first
Contractions = Mapping[str, Sequence[tuple[tuple[str, ...], tuple[str, ...]]]]


def contraction_table(
    entries: Iterable[str],
) -> dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]]:
    table: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
    for entry in entries:
        written, _, read = entry.partition("=")
        key, value = words_of(written), words_of(read)
        if not key or not value:
            raise ValueError(f"contraction « {entry} » : « écrit = lu » attendu")
        table.setdefault(key[0], []).append((key, value))
    for candidates in table.values():
        candidates.sort(key=lambda item: -len(item[0]))
    return table


def expand_contractions(
    contractions: Contractions,
    words: list[str],
    spans: list[tuple[int, int]],
    quoted: list[bool],
    clause_of: list[int],
) -> tuple[list[str], list[tuple[int, int]], list[bool], list[int]]:
    """The words with each contraction replaced by the words it stands for; those
    words share the span of what was written."""
    out: tuple[list[str], list[tuple[int, int]], list[bool], list[int]] = ([], [], [], [])
    index = 0
    while index < len(words):
        size: int = 1
        read: tuple[str, ...] = (words[index],)
        for key, value in contractions.get(words[index], ()):
            end = index + len(key)
            if tuple(words[index:end]) == key and clause_of[end - 1] == clause_of[index]:
                size, read = len(key), value
                break
        span = (spans[index][0], spans[index + size - 1][1])
        for word in read:
            out[0].append(word)
            out[1].append(span)
            out[2].append(quoted[index])
            out[3].append(clause_of[index])
        index += size
    return out


class ReadComment:
    """One text read as words: folded, obfuscation undone, with clauses and quotes."""

    __slots__ = (
        "text",
        "words",
        "spans",
        "_caps",
        "quoted",
        "clause_of",
        "clauses",
        "questions",
        "norm",
        "offsets",
        "folded",
        "_starts",
        "_acute",
        "_word_set",
    )

    def __init__(self, text: str, vocabulary: frozenset[str], contractions: Contractions) -> None:
        self.text = text
        folded = fold(text)
        self._starts: list[int] | None = None
        self._acute: frozenset[int] | None = None
        self._word_set: frozenset[str] | None = None
        self.folded = folded
        f = folded.text
        words: list[str] = []
        spans: list[tuple[int, int]] = []
        quoted: list[bool] = []
        clause_of: list[int] = []
        clauses: list[tuple[int, int]] = []
        questions: list[bool] = []
        in_quote = False
        straight_open = False
        clause_start = 0
        spaced = {m.start(): m.end() for m in SPACED.finditer(f)}
        elongated = ELONGATED.search(f) is not None
        skip_to = 0
        for found in _SCAN.finditer(f):
            index = found.start()
            if index < skip_to:
                continue
            kind = found.lastgroup
            if len(words) - clause_start >= MAX_CLAUSE and kind != "stop":
                clauses.append((clause_start, len(words)))  # a run-on text: cut it
                questions.append(False)
                clause_start = len(words)
            if kind == "word":
                end = spaced.get(index)
                if end is None:
                    end, raw = found.end(), found.group()
                else:
                    skip_to, raw = end, _SPLIT.sub("", f[index:end])
                if raw.isalpha() and not (elongated and ELONGATED.search(raw)):
                    word = raw
                else:
                    word = self._clean(raw, vocabulary)
                if word:
                    words.append(word)
                    spans.append((index, end))
                    quoted.append(in_quote)
                    clause_of.append(len(clauses))
            elif kind == "stop":
                mark = found.group()
                if mark in ".:" and words and self._dot_inside(f, index, words[-1]):
                    continue
                if len(words) > clause_start:
                    clauses.append((clause_start, len(words)))
                    questions.append("?" in mark)
                    clause_start = len(words)
            elif kind == "quote":
                char = found.group()
                if char in _QUOTES_OPEN:
                    in_quote = True
                elif char in _QUOTES_CLOSE:
                    in_quote = False
                elif straight_open:
                    in_quote = straight_open = False
                elif f.count('"', index + 1):
                    in_quote = straight_open = True
            else:  # a weapon emoji
                words.append(found.group())
                spans.append((index, index + 1))
                quoted.append(in_quote)
                clause_of.append(len(clauses))
        if len(words) > clause_start:
            clauses.append((clause_start, len(words)))
            questions.append(False)
        if contractions and any(
            tuple(words[i : i + len(key)]) == key
            for i, word in enumerate(words)
            for key, _ in contractions.get(word, ())
        ):
            words, spans, quoted, clause_of = expand_contractions(
                contractions, words, spans, quoted, clause_of
            )
            bounds: dict[int, list[int]] = {}
            for number, clause in enumerate(clause_of):
                bounds.setdefault(clause, [number, number])[1] = number + 1
            clauses = [(bounds[c][0], bounds[c][1]) for c in range(len(clauses))]
        self.words = words
        self.spans = spans
        self._caps: list[bool] | None = None
        self.quoted = quoted
        self.clause_of = clause_of
        self.clauses = clauses
        self.questions = questions
        parts = [" "]
        offsets: list[int] = []
        position = 1
        previous = -1
        for number, word in enumerate(words):
            if clause_of[number] != previous and number:
                parts.append("| ")
                position += 2
            previous = clause_of[number]
            offsets.append(position)
            parts.append(word + " ")
            position += len(word) + 1
        self.norm = "".join(parts)
        self.offsets = offsets

    @staticmethod
    def _dot_inside(f: str, index: int, last: str) -> bool:
        """Is the dot or colon at ``index`` inside a sentence ("M. Roy", "3:20", "2.5")?"""
        after = f[index + 1 : index + 2]
        if f[index] == "." and last in _TITLE_DOT and after == " ":
            return True
        before = f[index - 1 : index]
        return before.isdigit() and after.isdigit()

    @staticmethod
    def _clean(raw: str, vocabulary: frozenset[str]) -> str:
        word = raw.strip("*")
        if not word:
            return ""
        if not word.isalpha():
            if "*" in word:
                for vowel in "aeiouy":
                    candidate = word.replace("*", vowel, 1)
                    if candidate in vocabulary:
                        return candidate
                word = word.replace("*", "")
            if (
                any(c in _LEET_CHARS for c in word)
                and any("a" <= c <= "z" for c in word)
                and not _NOT_LEET.fullmatch(word)
            ):
                word = word.translate(_LEET)
        if ELONGATED.search(word):
            for keep in (1, 2):
                candidate = _squeeze(word, keep)
                if candidate in vocabulary:
                    return candidate
            return _squeeze(word, 2)
        return word

    def token_at(self, position: int) -> int:
        """The token whose normalised text starts at or before ``position``."""
        return bisect.bisect_right(self.offsets, position) - 1

    def tokens_of(self, match: re.Match[str]) -> tuple[int, int]:
        start = self.token_at(match.start())
        end = self.token_at(match.end() - 2) + 1
        return start, max(end, start + 1)

    def original(self, start: int, end: int) -> str:
        """The text as written from token ``start`` to before token ``end``."""
        first = self.folded.original(*self.spans[start])[0]
        last = self.folded.original(*self.spans[end - 1])[1]
        return self.text[first:last]

    @property
    def caps(self) -> list[bool]:
        """For each word, whether it was written with a capital (computed on demand)."""
        if self._caps is None:
            text, source = self.text, self.folded.source
            self._caps = [text[source(start)].isupper() for start, _ in self.spans]
        return self._caps

    @property
    def word_set(self) -> frozenset[str]:
        if self._word_set is None:
            self._word_set = frozenset(self.words)
        return self._word_set

    @property
    def uses_accents(self) -> bool:
        """Does the writer type accents? If so, "demeure" is not "demeuré"; if the
        comment has none at all, a missing accent says nothing."""
        return _ACCENTED.search(self.text) is not None

    def acute_end(self, token: int) -> bool:
        """Does word ``token`` end, as written, in an accented é ("cavé", "réfugiées")?"""
        if self._acute is None:
            text = self.text
            ends = (
                [m.end() for m in _ACUTE_WORD.finditer(text)] if "é" in text or "É" in text else []
            )
            tokens = ((self.token_of_text(end - 1), end) for end in ends)
            self._acute = frozenset(
                t for t, end in tokens if t >= 0 and self.folded.original(*self.spans[t])[1] == end
            )
        return token in self._acute

    def token_at_end(self, end: int) -> int:
        """The first word of the number ending before word ``end`` ("2207 719")."""
        start = end - 1
        while start > 0 and self.words[start - 1].isdigit():
            start -= 1
        return start

    def token_of_text(self, position: int) -> int:
        """The last word starting at or before ``position`` of the original text (-1: none)."""
        if self._starts is None:
            self._starts = [self.folded.original(*span)[0] for span in self.spans]
        return bisect.bisect_right(self._starts, position) - 1

    def clause_range(self, token: int) -> tuple[int, int]:
        return self.clauses[self.clause_of[token]]
