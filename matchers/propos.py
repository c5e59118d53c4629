"""The "propos" detector: is a comment injurious, and how?

``ProposDetector.judge(text)`` returns a :class:`ProposVerdict`: a category
(``insulte`` 1, ``diffamation`` 2, ``haine`` 2, ``vie_privee`` 2, ``menace`` 3;
the highest wins when several apply), the words of the text that triggered it
and a French reason. Rules and word lists, no model; the lists are commented
YAML files in ``matchers/propos_words/`` (one per category, plus ``sacres``,
``cibles`` — who can be aimed at — and ``ecrit`` — contractions), and
config.yaml's ``propos:`` block extends them (``extra_words``,
``ignore_words``, ``public_contacts``).

How a comment is read
---------------------
The text is folded as the brand matcher folds it (lower case, no accents),
then cut into words; apostrophes and hyphens separate words ("t'es" is
"t es"), sentence punctuation ends a clause. Obfuscation is undone: letters
spelled apart ("c o n n e", "i.d.i.o.t"), leetspeak in a word that has letters
(0→o, 1→i, 3→e, 4 and @→a, $ and 5→s: "c0nnard", "t@barn@k"), a masked letter
("b*tard"), letters repeated three times or more ("caaaave"); texting
spellings are read as the words they stand for ("jvais", "y'é", "chu"). Words
are whole words: "cave" is not in "concave" or "Cavendish", "con" not in
"connaissance"; a word ending in an accented é is not the same word without it
("cavé" is not "cave"; in a comment typed with accents, "demeure" is not
"demeuré"). A run-on text is cut every 60 words, so a page costs its length.

- **Sacres are not insults**: "crisse", "tabarnak", "câlisse", "ostie"… as
  intensifiers or sworn at things ("crisse que c'est beau", "criss de
  cochonnerie de machine") are never flagged; before an insult aimed at someone
  ("t'es un crisse de cave") they are skipped to find it.
- **Insulte**: an insult word aimed at a person or a group of people. Insult
  nouns ("cave", "connard") count when they name someone — after a determiner,
  a sacre or an adjective ("un cave", "crisse de cave", "gang de caves",
  "espèce d'épais", "pauvre minable", "quel cave"), after "t'es / est / sont",
  or alone — not as an adjective about a situation ("c'est con"). Adjectives
  also said of things ("pourri", "incompétent") count used as a noun ("une
  incompétente", "des hypocrites"), beside a person ("ce prof incompétent") or
  said of one ("t'es niaiseux", "la prof de chimie est incompétente", "ce
  prof-là, c'est un clown") — not of a thing ("le wifi est pourri", "le show
  était écoeurant"). Ordinary nouns (animals, rubbish) only when a person is
  said to be one ("le chauffeur est un gros porc", "ma chienne"). Direct
  insults need no insult word ("ferme ta gueule", "va chier"). Not the writer
  calling themself names ("chu tellement cave"), not a denial ("t'es pas
  cave"), not fond teasing ("t'es folle 😂").
- **Quoting is not insulting**: words between quotation marks, or the object of
  a reporting verb ("il m'a traité de cave", "arrêtez d'écrire « cave »"),
  are not aimed by the writer, for every category but private information.
- **Menace**: harm announced, wished or incited against a person ("je vais te
  casser la gueule", "je lui souhaite de se faire frapper", "qu'est-ce qu'on
  attend pour les pendre"), intimidation ("on sait où vous habitez", "tu vas y
  goûter", "je vous aurai avertis", "compte tes jours"), weapons, bombs, fire
  ("j'ai mon gun dans le char", "une bombe dans l'aile C", 🔪 aimed at someone);
  in any tense or mood: a harm verb aimed at a pronoun ("j'te démolis"), a
  consequence announced ("tu vas te réveiller à l'hôpital"), victims announced
  ("il va y avoir des morts si…"), a punishment deserved ("mériteraient une
  bonne volée"), someone's property destroyed ("brûler votre bâtisse"), someone
  hunted ("avant que je te trouve", "dors les yeux ouverts"). Veiled threats:
  an ominous sequel ("tu vas voir.", "ça va faire mal"), someone waited for
  where they are ("les attendre à la sortie"), harm done "in two", a weapon one
  has — each with a second sign (a provocation "si tu recommences", "la
  prochaine fois", a hint "je dis ça de même", a weapon, an angry emoji); a
  warning about where one goes ("fais attention quand tu sors du
  stationnement") on its own, unless the comment explains it (ice, hunting).
  Not "cette chanson me tue", "il va tuer son examen", sport talk ("on va les
  écraser samedi"), nor a threat said laughing ("je vais te tuer au Mario Kart
  😂").
- **Haine**: a slur ("fif", "tapette"; "les sauvages" as a noun), "maudits /
  sales / gang de" before a group defined by origin, religion, sex, gender,
  orientation or disability, or such a group named near a hostile
  generalisation ("sont tous des…", "retournez chez vous", "juste bons
  pour…", "maladie mentale", "devraient rester à la maison", "sont trop
  émotives pour…", "on n'en veut pas", an insult), unless the comment
  condemns hate ("les commentaires haineux sont signalés") or welcomes
  ("bienvenue").
- **Diffamation**: an accusation of a crime or misconduct stated as a fact —
  a verb ("vole", "a falsifié", "harcèle ses étudiantes", "boit pendant ses
  cours", "se sert dans la caisse", "prend des pots-de-vin", "demande des
  faveurs en échange de notes", "conduisait en état d'ébriété"), a noun of a
  person ("est un voleur", "est raciste") or of the misconduct ("c'est de
  l'extorsion") — in a sentence that names an identifiable person ("M.
  Tremblay", "Julie Roy", "la coordonnatrice", "le prof de musique") or the
  college ("le cégep", "la direction"); not a real
  question ("est-ce vrai que…?"), not denied ("n'a jamais volé"), not a topic
  ("une politique contre le harcèlement"), not a rumour being fought ("fausse
  nouvelle"), not with the writer as subject ("je me suis fait voler") or
  their friend ("mon ami s'est fait arrêter"), not news relayed with its source
  ("selon TVA"). Insinuated: a frame ("comme par hasard", "coïncidence?") in a
  comment naming a target and something gained (a contract, money, a post).
- **Vie privée**: a phone number (ten digits, any separators; not toll-free),
  a street address ("56 rue des Cèdres", "302 Bellevue, apt 8"), where
  someone else lives ("elle reste dans le rang 3"), a student or employee
  number ("matricule 2207719"), a plate, a schedule, a date of birth, health
  or intimate facts said of someone else ("la prof est séropositive", "il a
  fait une dépression" — not "mon fils est autiste"), a minor made
  identifiable (age and name, school or home), someone given out to be found
  ("son Insta c'est @…", "pour ceux qui veulent la confronter"). Not the
  writer's own ("appelez-moi au…", "j'habite au…", "mon matricule"), nor the
  college's public numbers and addresses (``public_contacts``; phones compared
  on their digits).

A comment with no digit, no @, no obfuscation and no word any rule starts from
is answered at once (the verdict is the same, tested). A verdict without
category may carry ``notes`` saying what was seen and set aside (a sacre
without target, an insult quoted), for ``veille propos``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from matchers.normalize import fold_plain, quick_fold
from matchers.propos_reading import (
    ELONGATED,
    SPACED,
    WEAPON_EMOJI,
    WORD,
    PatternSet,
    ReadComment,
    acute_ends,
    contraction_table,
    forms,
    rarest,
    words_of,
)

__all__ = ["SEVERITY", "ProposCategory", "ProposDetector", "ProposVerdict"]


class ProposCategory(StrEnum):
    INSULTE = "insulte"
    DIFFAMATION = "diffamation"
    MENACE = "menace"
    HAINE = "haine"
    VIE_PRIVEE = "vie_privee"


SEVERITY: Mapping[ProposCategory, int] = {
    ProposCategory.INSULTE: 1,
    ProposCategory.DIFFAMATION: 2,
    ProposCategory.VIE_PRIVEE: 2,
    ProposCategory.HAINE: 2,
    ProposCategory.MENACE: 3,
}

# When two categories have the same severity, the first here wins.
_ORDER = (
    ProposCategory.MENACE,
    ProposCategory.HAINE,
    ProposCategory.DIFFAMATION,
    ProposCategory.VIE_PRIVEE,
    ProposCategory.INSULTE,
)


@dataclass(frozen=True, slots=True)
class ProposVerdict:
    """What the detector says of one text."""

    category: ProposCategory | None  # None: nothing to flag
    severity: int  # 0 when category is None
    words: tuple[str, ...]  # the words of the text (as written) that triggered it
    reason: str | None  # French, e.g. "insulte visant une personne : « cave »"
    notes: tuple[str, ...] = field(default=())  # French: what was seen and set aside


_NOTHING = ProposVerdict(None, 0, (), None)
_MAX_NOTES = 5
_NO_MARK: Mapping[str, int] = {}  # shared by every word that starts no list entry

# Lists whose entries are patterns (see menace.yaml); the others are word lists.
_PATTERN_LISTS = frozenset(
    {
        "expressions",
        "interpellations",
        "generalisations",
        "accusations",
        "soi",
        "naissance",
        "injures_motifs",
        "divulgation",
        "sous_entendus",
        "avertissements",
        "indices",
        "explications",
        "attributions",
        "insinuations",
        "gains",
    }
)
WORD_FILES = (
    "ecrit",
    "sacres",
    "insulte",
    "cibles",
    "menace",
    "haine",
    "diffamation",
    "vie_privee",
)
_EXTRA_TARGETS = {
    "insulte": "noms",
    "menace": "expressions",
    "haine": "injures_motifs",
    "diffamation": "accusations",
    "vie_privee": "sante",
}

# --- the word lists ----------------------------------------------------------


@lru_cache(maxsize=1)
def shipped_word_lists() -> Mapping[str, tuple[str, ...]]:
    """Every list of the YAML files shipped in ``matchers/propos_words``, by name."""
    lists: dict[str, tuple[str, ...]] = {}
    folder = resources.files("matchers") / "propos_words"
    for name in WORD_FILES:
        document: Any = yaml.safe_load((folder / f"{name}.yaml").read_text(encoding="utf-8"))
        for key, values in (document or {}).items():
            if key in lists and key not in _PATTERN_LISTS:
                raise ValueError(f"propos_words/{name}.yaml : liste « {key} » en double")
            entries = tuple(values or ())
            if not all(isinstance(v, str) for v in entries):
                raise ValueError(
                    f"propos_words/{name}.yaml : « {key} » : mettez chaque entrée entre guillemets"
                )
            lists[key] = lists.get(key, ()) + entries
    return lists


# Word-list classes the token rules read, by the list they come from.
_CLASSES = (
    "sacres",
    "intensifs",
    "qualificatifs",
    "determinants",
    "collectifs",
    "noms",
    "adjectifs",
    "conditionnels",
    "choses",
    "physique",
    "attributs",
    "rapport",
    "personnes",
    "titres",
    "institutions",
    "tiers",
    "premiere_personne",
    "famille",
    "proches",
    "defauts",
    "pas_des_noms",
    "injures",
    "injures_nominales",
    "groupes",
    "denonciation",
    "dementis",
    "identifiants",
    "sante",
    "intime",
    "comptes",
    "plaques",
    "horaires",
    "accusation_noms",
    "doux",
    "taquinerie",
    "delits",
    "sujets",
)
# lists whose words can start a finding or a note (the shortcut of judge)
_TRIGGER_CLASSES = frozenset(
    (
        "noms",
        "adjectifs",
        "conditionnels",
        "physique",
        "attributs",
        "accusation_noms",
        "sacres",
        "injures",
        "injures_nominales",
        "groupes",
        "sante",
        "intime",
        "identifiants",
        "comptes",
        "plaques",
        "horaires",
        "delits",
    )
)
# the words the minors' rule reads, and what sends a text to the full reading at once:
# digits (numbers, leetspeak), @ $ * (handles, e-mails, leetspeak, masked letters),
# weapon emoji
_MINOR_WORDS = frozenset(("ans", "sec", "secondaire", "mineure", "mineur"))
_QUICK_EXIT = re.compile("[0-9@$*🔪🔫💣🗡🪓]")
_AIMED_CLASSES = (
    "noms",
    "accusation_noms",
    "adjectifs",
    "conditionnels",
    "physique",
    "attributs",
)
# insults that, said of a group of people, make a generalisation hostile
_GROUP_INSULTS = ("noms", "adjectifs", "conditionnels", "accusation_noms")
# "what A clown", "he is AN idiot": the English article (French "a" is a verb)
_ENGLISH_BEFORE_A = frozenset("what such is are was were re s".split())  # noqa: SIM905
# "quel clown", "quelle vache": an exclamation names someone
_EXCLAIMING = frozenset("quel quelle quels quelles".split())  # noqa: SIM905

_COPULAS = frozenset(
    (  # noqa: SIM905
        "es est etes sont etait etais etaient sera seras serez seront serait serais "
        "is are was were re am"
    ).split()
)
# "je suis", "chu", "j'étais": the writer speaking of themself
_FIRST_COPULAS = frozenset("suis chu chus etais serais am".split())  # noqa: SIM905
_NEGATIONS = frozenset("pas jamais plus aucun aucune not never".split())  # noqa: SIM905
_IMPERSONAL = frozenset("c ca cest ce this that it".split())  # noqa: SIM905
_SECOND = frozenset("t tu vous you u ya".split())  # noqa: SIM905
_VOCATIVE = frozenset("mon ma mes you your".split())  # noqa: SIM905
_PLACE_PREPOSITIONS = frozenset("dans a de du sous au aux en sur vers par".split())  # noqa: SIM905
_DEFINITE = frozenset("le la les l".split())  # noqa: SIM905
_DU = frozenset("du des au aux".split())  # noqa: SIM905
_LAUGH_EMOJI = "😂🤣😆"
_ANGRY_EMOJI = "😡😠🤬👊💢🖕"
_LAUGH_WORDS = frozenset("lol mdr ptdr haha hahaha hihi lmao".split())  # noqa: SIM905
_FOND_EMOJI = "😂🤣😍❤💕😆😄🥰"
_NOT_ONLY = frozenset("juste seulement rien que qu just only".split())  # noqa: SIM905
_BEFORE_NOUN = frozenset("de d du des contre sur en entre sans".split())  # noqa: SIM905
# "ceux qui disent que…", "les gens qui pensent que…": a view held at a distance
_HOLDERS = frozenset("ceux celles gens monde personnes people those".split())  # noqa: SIM905
_HOLDING = frozenset(
    "disent pensent croient ecrivent trouvent pretendent say think believe".split()  # noqa: SIM905
)
_TOPIC = frozenset("sur contre du au aux about against".split())  # noqa: SIM905
# what may follow an insult adjective used as a noun: "une incompétente totale", "des
# hypocrites au cégep", "cette épaisse-là"
_FOLLOWERS = frozenset(
    (  # noqa: SIM905
        "pis et qui que qu comme de d la total totale totaux fini finie finis "
        "finies complet complete de premiere a au aux en du dans chez ici pour avec "
        "pareil toi vous who and like ce cet cette ces"
    ).split()
)
_HEALTH_VERBS = frozenset(
    (  # noqa: SIM905
        "est sont etait a avait as ont ete fait faisait souffre souffrait atteint "
        "atteinte diagnostique diagnostiquee prend prenait has is was"
    ).split()
)
_TARGET_DETERMINERS = frozenset(
    (  # noqa: SIM905
        "le la l les ce cet cette ces son sa ses notre votre leur un une mon ma mes "
        "the our your this that his her"
    ).split()
)
_ASKING = (
    "est ce",
    "c est vrai",
    "est il vrai",
    "est elle vrai",
    "vrai que",
    "quelqu un sait",
    "savez vous",
    "sais tu",
    "si ",
    "is it true",
    "does anyone",
)
# a minor: "15 ans", "en sec 4", "une mineure"
_MINOR = re.compile(
    r"(?<= )(?:(\d{1,2}) ans |(?:en|de|au) (?:sec|secondaire) [1-5] "
    r"|(?:une|la|un|le) (?:mineure|mineur) )"
)
_IDENTIFYING = frozenset(
    (  # noqa: SIM905
        "reste habite demeure appelle nom school ecole polyvalente coin autobus tag taguez "
        "identifiez"
    ).split()
)
_NOT_AGE = frozenset("plus moins pres environ ici depuis bout pendant delai".split())  # noqa: SIM905
_OWN = frozenset("mon ma mes notre nos my our".split())  # noqa: SIM905
# group words that are also languages and school subjects: people only after these
_LANGUAGES = frozenset("francais anglais".split())  # noqa: SIM905
_PEOPLE_BEFORE = frozenset(
    "les des ces aux nos vos leurs maudits maudites sales gang bande tous".split()  # noqa: SIM905
)
_THIRD_POSSESSIVES = frozenset("son sa ses leur leurs his her their".split())  # noqa: SIM905

_PHONE = re.compile(
    r"(?<![\d$])(?:\+?1[\s.\-]?)?(?:\(\d{3}\)|\d{3})[\s.\-]?\d{3}[\s.\-]?\d{4}(?![\d$%])"
)
_CODE_PERMANENT = re.compile(r"\b[A-Z]{4}\s?\d{4}\s?\d{4}\b")
_HANDLE = re.compile(r"@[\w.]{2,}|[\w.+-]+@[\w-]+\.[\w.]+")
_DIGIT = re.compile(r"\d")
# toll-free area codes: an organisation's line, never a person's
_TOLL_FREE = frozenset(("800", "833", "844", "855", "866", "877", "888"))
_PLATE = re.compile(r"\b[A-Z0-9]{3}[ -]?[A-Z0-9]{3,4}\b")
_LOCAL_PHONE = re.compile(r"(?<!\d)\d{3}[\s.\-]?\d{4}(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@([\w-]+)\.[a-z.]{2,}", re.IGNORECASE)
_PERSONAL_MAIL = frozenset(
    (  # noqa: SIM905
        "gmail hotmail outlook live yahoo icloud videotron sympatico msn me protonmail"
    ).split()
)


@dataclass(frozen=True, slots=True)
class _Hit:
    category: ProposCategory
    start: int  # first token
    end: int  # after the last token
    kind: str = ""  # French: what kind of private information
    said: str = ""  # the text as written, for hits found in characters, not words


class ProposDetector:
    """Judge comments: see the module docstring for the rules."""

    def __init__(
        self,
        lists: Mapping[str, Sequence[str]],
        *,
        ignore_words: Sequence[str] = (),
        public_contacts: Sequence[str] = (),
        prefilter: bool = True,
    ) -> None:
        ignored = {" ".join(words_of(w)) for w in ignore_words} - {""}
        self._ignored = frozenset(w for w in ignored if " " not in w)
        self._ignored_phrases = frozenset(ignored)
        clean = {
            name: tuple(e for e in entries if " ".join(words_of(e)) not in ignored)
            for name, entries in lists.items()
        }
        self._lists = clean
        self._contractions = contraction_table(clean.get("contractions", ()))
        self._sets: dict[str, frozenset[str]] = {}
        index: dict[str, list[tuple[str, tuple[str, ...], tuple[bool, ...]]]] = {}
        vocabulary: set[str] = set()
        for name in _CLASSES:
            singles: set[str] = set()
            for entry in clean.get(name, ()):
                acute = acute_ends(entry)
                for form in forms(entry):
                    vocabulary.update(form)
                    if len(form) == 1:
                        singles.add(form[0])
                    flags = acute if len(acute) == len(form) else (False,) * len(form)
                    index.setdefault(form[0], []).append((name, form, flags))
            self._sets[name] = frozenset(singles)
        for entries in index.values():
            entries.sort(key=lambda item: -len(item[1]))
        self._index = index
        for name in _PATTERN_LISTS | {"injures_motifs"}:
            for entry in clean.get(name, ()):
                vocabulary.update(re.findall(r"[a-z0-9]+", fold_plain(entry)))
        self._vocabulary = frozenset(vocabulary)
        self._menace = PatternSet(clean.get("expressions", ()), clean)
        self._veiled = PatternSet(clean.get("sous_entendus", ()), clean)
        self._warnings = PatternSet(clean.get("avertissements", ()), clean)
        self._signs = PatternSet(clean.get("indices", ()), clean)
        self._explained = PatternSet(clean.get("explications", ()), clean)
        self._interpellations = PatternSet(clean.get("interpellations", ()), clean)
        self._own = PatternSet(clean.get("soi", ()), clean)
        self._birth = PatternSet(clean.get("naissance", ()), clean)
        self._disclosure = PatternSet(clean.get("divulgation", ()), clean)
        self._haine = PatternSet(clean.get("generalisations", ()), clean)
        self._haine_alone = PatternSet(clean.get("injures_motifs", ()), clean)
        self._accusations = PatternSet(clean.get("accusations", ()), clean)
        self._attributions = PatternSet(clean.get("attributions", ()), clean)
        self._insinuations = PatternSet(clean.get("insinuations", ()), clean)
        self._gains = PatternSet(clean.get("gains", ()), clean)
        self._residence = PatternSet(
            [
                "{residence} (|…) (|…) {lieux_precis}",
                "{residence} (au|a|sur|at|on|sur la|sur le|dans le) #",
            ],
            clean,
        )
        self._voies = "|".join(
            re.escape(" ".join(f)) for e in clean.get("voies", ()) for f in forms(e)
        )
        self._address = re.compile(
            r"(?<![\d,.])(\d{1,5})[a-z]?,?\s+(?:(?:\d{1,2}(?:e|er|re|eme)\s+))?(?:de la |du |des )?"
            rf"(?:{self._voies})\b\.?\s+([a-z0-9][\w\-']*)"
        )
        homes = "|".join(
            re.escape(" ".join(f)) for e in clean.get("logements", ()) for f in forms(e)
        )
        self._apartment = re.compile(
            rf"(?<![\d,.])(\d{{1,5}})\s+([a-z][a-z\-']+(?:\s[a-z][a-z\-']+){{0,3}}),?\s*(?:{homes})\b\.?\s*#?\s*\d+"
        )
        self._public_phones = frozenset(
            digits[-10:]
            for contact in public_contacts
            if len(digits := re.sub(r"\D", "", contact)) >= 10
        )
        self._public_texts = frozenset(c.strip() for c in public_contacts)
        self._triggers = self._trigger_words() if prefilter else None
        self._public_places = tuple(
            key for contact in public_contacts if (key := _place_key(contact))
        )

    def _trigger_words(self) -> frozenset[str] | None:
        """The words of which a comment needs one before any rule can flag it or
        note something (None: some pattern can match anywhere, no shortcut)."""
        words = {
            rarest(form)
            for name in _TRIGGER_CLASSES
            for entry in self._lists.get(name, ())
            for form in forms(entry)
        }
        for patterns in (
            self._menace,
            self._veiled,
            self._warnings,
            self._interpellations,
            self._haine_alone,
            self._accusations,
            self._insinuations,
            self._residence,
            self._birth,
            self._disclosure,
        ):
            keys = patterns.keys()
            if keys is None:
                return None
            words |= keys
        return frozenset(words | _MINOR_WORDS)

    def _nothing_to_read(self, text: str) -> bool:
        """The shortcut: no digit, no @, no obfuscation, no weapon, and no word
        that any rule starts from — nothing can be flagged."""
        if self._triggers is None or _QUICK_EXIT.search(text):
            return False
        folded = quick_fold(text)
        if ELONGATED.search(folded) or SPACED.search(folded):
            return False
        return self._triggers.isdisjoint(WORD.findall(folded))

    @classmethod
    def from_config(
        cls,
        *,
        extra_words: Mapping[str, Sequence[str]] = {},  # noqa: B006 - read only
        ignore_words: Sequence[str] = (),
        public_contacts: Sequence[str] = (),
    ) -> ProposDetector:
        """The shipped word lists, extended by config.yaml's ``propos:`` block."""
        lists = dict(shipped_word_lists())
        for category, words in extra_words.items():
            target = _EXTRA_TARGETS.get(category)
            if target is None:
                known = ", ".join(sorted(_EXTRA_TARGETS))
                raise ValueError(
                    f"propos.extra_words : catégorie inconnue « {category} » (connues : {known})"
                )
            lists[target] = (*lists.get(target, ()), *words)
        try:
            return cls(lists, ignore_words=ignore_words, public_contacts=public_contacts)
        except ValueError as exc:
            if not extra_words:
                raise  # a shipped list is broken: a bug, with its traceback
            raise ValueError(f"propos.extra_words : {exc}") from None

    # -- judging ---------------------------------------------------------------

    def judge(self, text: str) -> ProposVerdict:
        """The verdict on one comment."""
        if not text or not text.strip() or self._nothing_to_read(text):
            return _NOTHING
        doc = ReadComment(text, self._vocabulary, self._contractions)
        marks = self._marks(doc)
        notes: list[str] = []
        hits: list[_Hit] = []
        hits += self._menaces(doc, marks)
        hits += self._hate(doc, marks)
        hits += self._defamation(doc, marks)
        if not any("dementis" in m for m in marks):
            hits += self._misconduct(doc, marks)
            hits += self._insinuated(doc)
        hits += self._private(doc, marks)
        hits += self._insults(doc, marks, notes)
        hits = [h for h in hits if not self._is_ignored(doc, h)]
        notes = list(dict.fromkeys(notes))[:_MAX_NOTES]
        if not hits:
            sacres = [doc.original(i, i + n) for i, m in enumerate(marks) if (n := m.get("sacres"))]
            sacres = list(dict.fromkeys(sacres))[:_MAX_NOTES]
            if sacres:
                notes.append("sacre sans cible, non signalé : " + _quoted(sacres))
            return ProposVerdict(None, 0, (), None, tuple(notes)) if notes else _NOTHING
        best = max(hits, key=lambda h: (SEVERITY[h.category], -_ORDER.index(h.category)))
        chosen = [h for h in hits if h.category == best.category]
        words: list[str] = []
        kinds: list[str] = []
        for hit in sorted(chosen, key=lambda h: h.start):
            said = hit.said or doc.original(hit.start, hit.end)
            if said not in words:
                words.append(said)
            if hit.kind and hit.kind not in kinds:
                kinds.append(hit.kind)
        what = _REASONS[best.category] + (f" ({', '.join(kinds)})" if kinds else "")
        reason = f"{what} : {_quoted(words)}"
        return ProposVerdict(
            best.category, SEVERITY[best.category], tuple(words), reason, tuple(notes)
        )

    def _is_ignored(self, doc: ReadComment, hit: _Hit) -> bool:
        if not self._ignored_phrases or hit.end <= hit.start:
            return False
        span = doc.words[hit.start : hit.end]
        return any(w in self._ignored for w in span) or " ".join(span) in self._ignored_phrases

    def _marks(self, doc: ReadComment) -> list[Mapping[str, int]]:
        """For each word, the classes of the list entries starting there (and their length)."""
        words = doc.words
        marks: list[Mapping[str, int]] = []
        index = self._index
        for position, word in enumerate(words):
            entries = index.get(word)
            if entries is None:
                marks.append(_NO_MARK)
                continue
            mark: dict[str, int] = {}
            for name, form, acute in entries:
                size = len(form)
                if name not in mark and tuple(words[position : position + size]) == form:
                    if any(
                        doc.acute_end(position + k) != acute[k]
                        and (not acute[k] or doc.uses_accents)
                        for k in range(size)
                    ):
                        continue  # "cavé" is not "cave"; "demeure" not "demeuré"
                    if size > 1 and doc.clause_of[position + size - 1] != doc.clause_of[position]:
                        continue
                    mark[name] = size
            marks.append(mark)
        return marks

    # -- insults ---------------------------------------------------------------

    def _back(self, doc: ReadComment, index: int) -> tuple[int, bool, bool]:
        """Walk back from before word ``index`` over intensifiers, adjectives and
        "crisse de": the position of the word reached (-1: none), whether a sacre
        + de was crossed, whether a collective "gang de" / "espèce de" was."""
        words = doc.words
        low = doc.clause_range(index)[0]
        position = index - 1
        sacre_de = False
        sets = self._sets
        while position >= low:
            word = words[position]
            if word in ("de", "d") and position - 1 >= low:
                before = words[position - 1]
                if before in sets["collectifs"]:
                    return position - 1, sacre_de, True
                if before in sets["sacres"]:
                    sacre_de = True
                    position -= 2
                    continue
                return position, sacre_de, False
            if word in sets["intensifs"] or word in sets["qualificatifs"] or word in sets["sacres"]:
                position -= 1
                continue
            if word == "peu" and position - 1 >= low and words[position - 1] == "un":
                position -= 2  # "c'est UN PEU con": an adverb, not a determiner
                continue
            if (
                word in ("plus", "moins")
                and position - 1 >= low
                and (words[position - 1] in _DEFINITE or words[position - 1] in _DU)
            ):
                position -= 1  # "la PLUS conne", "du plus grand": a superlative, not a negation
                continue
            return position, sacre_de, False
        return -1, sacre_de, False

    def _said_to_be(self, doc: ReadComment, index: int) -> bool:
        """Is the word at ``index`` in a view the writer keeps at a distance: "CEUX
        QUI DISENT QUE les jeunes sont paresseux devraient…" (not "ma fille me
        dit que sa coloc est une…", which relays it)?"""
        words = doc.words
        low = doc.clause_range(index)[0]
        for k in range(index - 1, low + 2, -1):
            if words[k] in ("que", "qu", "that"):
                return (
                    words[k - 1] in _HOLDING
                    and words[k - 2] in ("qui", "who")
                    and words[k - 3] in _HOLDERS
                )
        return False

    def _reported(self, doc: ReadComment, index: int) -> bool:
        """Is the word at ``index`` what someone else said: the object of a reporting
        verb ("il m'a TRAITÉ de cave", "ÉCRIRE cave"), not said of someone after it
        ("le gars qui a écrit ça EST un idiot")?"""
        low = doc.clause_range(index)[0]
        report = self._sets["rapport"]
        for k in range(index - 1, max(low, index - 6) - 1, -1):
            word = doc.words[k]
            if word in _COPULAS or word in _FIRST_COPULAS:
                return False
            if word in report:
                return True
        return False

    def _person_before(self, doc: ReadComment, copula: int) -> bool:
        """Is the subject of the verb at ``copula`` a person? After "que", the
        subject is what follows it ("les gens disent que LES JEUNES sont…")."""
        words = doc.words
        low = doc.clause_range(copula)[0]
        for k in range(copula - 1, low - 1, -1):
            if words[k] in ("que", "qu", "that"):
                low = k + 1
                break
        if copula - 1 < low:
            return False
        subject = words[copula - 1]
        if words[copula] == "air":  # "t'as l'air", "il a l'air": the subject of avoir
            k = copula - 1
            while k > low and words[k] in (
                "l",
                "as",
                "a",
                "avait",
                "avez",
                "ont",
                "aurait",
                "avais",
            ):
                k -= 1
            subject = words[k]
        if subject in _SECOND or subject in self._sets["tiers"]:
            return True
        if subject in _IMPERSONAL:
            # "ce prof-là c'est un clown", "Julie, c'est une hypocrite"
            return subject in ("c", "cest") and self._person_heads(doc, low, copula - 1)
        if self._is_person(doc, copula - 1, low) and subject not in self._sets["personnes"]:
            return True  # "M. Roy est", "Julie est"
        return self._person_heads(doc, low, copula)

    def _person_heads(self, doc: ReadComment, low: int, copula: int) -> bool:
        """Is the clause's first noun phrase before ``copula`` a person: "LE
        GARDIEN de soir est", "y'a une PROF en compta qui est", "M. ROY est", not
        "le SHOW des finissants était"?"""
        words = doc.words
        sets = self._sets
        for k in range(low, copula):
            named = words[k] in sets["titres"] or self._is_name(doc, k, low)
            if named and (k == low or words[k - 1] not in sets["determinants"]):
                return True
            if words[k] in sets["determinants"]:
                head = k + 1
                while head < copula and (
                    words[head] in sets["qualificatifs"] or words[head] in sets["intensifs"]
                ):
                    head += 1
                if head < copula and self._is_person(doc, head, low):
                    return True
                # one adjective before the noun: "la NOUVELLE directrice est"
                return (
                    head + 1 < copula
                    and words[head] not in _BEFORE_NOUN
                    and words[head] not in sets["determinants"]
                    and words[head + 1] in sets["personnes"]
                )
        return False

    def _is_person(self, doc: ReadComment, k: int, low: int) -> bool:
        word = doc.words[k]
        sets = self._sets
        if word in sets["personnes"] or word in sets["titres"]:
            return True
        return self._is_name(doc, k, low)

    def _is_name(self, doc: ReadComment, k: int, low: int) -> bool:
        """A capitalised word that reads as a person's name: after a title, or
        beside another capitalised word, or inside a sentence."""
        if (
            not doc.caps[k]
            or not doc.words[k].isalpha()
            or doc.words[k] in self._sets["pas_des_noms"]
        ):
            return False
        if k > low and doc.words[k - 1] in self._sets["titres"]:
            return True
        beside = (
            k + 1 < len(doc.words) and doc.caps[k + 1] and doc.clause_of[k + 1] == doc.clause_of[k]
        ) or (k > low and doc.caps[k - 1] and doc.words[k - 1] not in self._sets["pas_des_noms"])
        return beside or k > low

    def _is_full_name(self, doc: ReadComment, k: int) -> bool:
        """A first and last name ("Léa Gagnon") or a title and a name ("Mme Roy")."""
        words, caps = doc.words, doc.caps
        not_names = self._sets["pas_des_noms"]
        if not caps[k] or not words[k].isalpha() or words[k] in not_names:
            return False
        if k and words[k - 1] in self._sets["titres"] and doc.clause_of[k - 1] == doc.clause_of[k]:
            return True
        nxt = k + 1
        return (
            nxt < len(words)
            and caps[nxt]
            and words[nxt].isalpha()
            and words[nxt] not in not_names
            and doc.clause_of[nxt] == doc.clause_of[k]
        )

    def _insults(
        self, doc: ReadComment, marks: list[Mapping[str, int]], notes: list[str]
    ) -> list[_Hit]:
        """Insult words aimed at someone (and accusation nouns, read the same way)."""
        hits: list[_Hit] = []
        for index, mark in enumerate(marks):
            if not mark:
                continue
            kind = next((c for c in _AIMED_CLASSES if c in mark), None)
            if kind is None:
                if "sacres" in mark and self._sacre_aimed(doc, index, mark["sacres"]):
                    hits.append(_Hit(ProposCategory.INSULTE, index, index + mark["sacres"]))
                continue
            end = index + mark[kind]
            if doc.quoted[index] or self._reported(doc, index) or self._said_to_be(doc, index):
                notes.append(
                    "mot cité ou rapporté, pas adressé : " + _quoted([doc.original(index, end)])
                )
                continue
            if kind == "accusation_noms" and any("dementis" in m for m in marks):
                continue
            if "doux" in mark and self._teasing(doc, marks):
                continue
            if self._aimed(doc, marks, kind, index, end):
                category = (
                    ProposCategory.DIFFAMATION
                    if kind == "accusation_noms"
                    else ProposCategory.INSULTE
                )
                hits.append(_Hit(category, index, end))
        hits += [h for h in self._espece(doc) if not any(h.start <= o.start < h.end for o in hits)]
        if self._interpellations:
            # a pattern ("ferme ta gueule", "t'es juste un…") gives way to an insult
            # word already found in its sentence
            found = {doc.clause_of[h.start] for h in hits}
            for match in self._interpellations.finditer(doc.norm, doc.word_set):
                start, end = doc.tokens_of(match)
                if doc.clause_of[start] in found or doc.quoted[start]:
                    continue
                if not self._reported(doc, start):
                    hits.append(_Hit(ProposCategory.INSULTE, start, end))
        return hits

    def _laughing(self, doc: ReadComment) -> bool:
        """Does the comment laugh ("lol", "mdr", 😂)? Threats said laughing are banter."""
        return any(c in doc.text for c in _LAUGH_EMOJI) or not _LAUGH_WORDS.isdisjoint(doc.words)

    def _espece(self, doc: ReadComment) -> list[_Hit]:
        """ "Espèce de X" heading a phrase insults whatever X is ("espèce de vieux
        crouton!") — not "une espèce de poisson"."""
        words = doc.words
        hits: list[_Hit] = []
        for index, word in enumerate(words[:-2]):
            if word != "espece" or words[index + 1] not in ("de", "d"):
                continue
            low, high = doc.clause_range(index)
            if index + 2 >= high or doc.quoted[index] or self._reported(doc, index):
                continue
            if index > low and words[index - 1] in self._sets["determinants"]:
                continue
            end = index + 3
            while end < high and words[end - 1] in self._sets["qualificatifs"]:
                end += 1
            hits.append(_Hit(ProposCategory.INSULTE, index, end))
        return hits

    def _teasing(self, doc: ReadComment, marks: list[Mapping[str, int]]) -> bool:
        """Does the comment laugh or praise ("lol", "bravo", 😂)?"""
        return any("taquinerie" in m for m in marks) or any(c in doc.text for c in _FOND_EMOJI)

    def _aimed(
        self, doc: ReadComment, marks: list[Mapping[str, int]], kind: str, index: int, end: int
    ) -> bool:
        """Is the insult word at ``index`` (of list ``kind``) aimed at a person?"""
        words = doc.words
        sets = self._sets
        low = doc.clause_range(index)[0]
        position, sacre_de, collective = self._back(doc, index)
        previous = words[position] if position >= low else ""
        before = words[position - 1] if position - 1 >= low else ""
        if previous in _NEGATIONS and words[position + 1] not in _NOT_ONLY:
            return False  # "t'es pas cave", but "t'es pas juste con, t'es…" insults
        if self._about_writer(doc, position, low):
            return False
        determiner = previous in sets["determinants"] or (
            previous in ("a", "an") and before in _ENGLISH_BEFORE_A
        )
        place = determiner and previous in _DEFINITE and before in _PLACE_PREPOSITIONS
        if place:
            determiner = False  # "dans la cave", "à la vache"
        qualified = position < index - 1 and any(
            words[k] in sets["qualificatifs"] for k in range(position + 1, index)
        )
        nominal = collective or sacre_de or determiner
        copula = -1
        if previous in _COPULAS:
            copula = position
        elif (
            determiner
            and before in ("d", "de")
            and position - 2 >= low
            and words[position - 2] == "air"
        ):
            copula = position - 2  # "t'as l'air d'un vrai débile"
        elif determiner:  # "t'es VRAIMENT une", "est RIEN QU'un"
            k = position - 1
            while k >= low and (words[k] in sets["intensifs"] or words[k] in ("rien", "qu")):
                k -= 1
            if k >= low and words[k] in _COPULAS:
                copula = k
        aimed = copula >= low and self._person_before(doc, copula)
        # "ce prof incompétent", "la directrice hypocrite"
        attributive = (
            previous in sets["personnes"]
            and position - 1 >= low
            and words[position - 1] in _TARGET_DETERMINERS
        )
        if kind == "noms":  # not a place ("rangé dans la cave du pavillon")
            if determiner and not (collective or sacre_de) and self._a_thing(doc, index, end):
                return False  # "la visite des caves de la brasserie"
            return not place and (
                nominal or qualified or not (previous in _COPULAS and before in _IMPERSONAL)
            )
        if kind in ("adjectifs", "accusation_noms"):
            if attributive or aimed or (qualified and not determiner and copula < 0):
                return True
            if previous in _EXCLAIMING:
                return True  # "quel épais ce gars-là", "quelle hypocrite"
            if nominal and copula < 0:
                clause = doc.clause_of[index]
                after = words[end] if end < len(words) and doc.clause_of[end] == clause else ""
                return (
                    after == ""
                    or after in _FOLLOWERS
                    or any(c in marks[end] for c in _AIMED_CLASSES)
                )
            return False
        if kind == "conditionnels":
            exclaimed = previous in _EXCLAIMING or (previous in ("a", "an") and before == "what")
            if previous in _VOCATIVE or collective or exclaimed or (nominal and aimed):
                return True
            # "Nathalie Roy est la pire enseignante, une vache qui crie"
            return determiner and any(
                words[k] in _COPULAS and self._person_before(doc, k) for k in range(low, position)
            )
        # physique, attributs: only said of a person ("t'es grosse"), never as a noun
        return not nominal and aimed

    def _a_thing(self, doc: ReadComment, index: int, end: int) -> bool:
        """Is the insult noun at ``index`` (after a determiner) a place or a thing
        with its complement: "les CAVES de la brasserie", "une CRUCHE d'eau" — not
        "un cave de même", nor said to be one ("t'es un cave de la pire espèce")?"""
        words = doc.words
        if words[index] not in self._sets["choses"] or end >= doc.clause_range(index)[1]:
            return False
        after = words[end]
        if after not in _BEFORE_NOUN and after not in ("a", "au", "aux"):
            return False
        if end + 1 < len(words) and words[end + 1] in ("meme", "memes"):
            return False
        low, high = doc.clause_range(index)
        head = end + 1
        while head < high and words[head] in _DEFINITE:
            head += 1
        if head < high and (
            words[head] in self._sets["personnes"] or words[head] in self._sets["institutions"]
        ):
            return False  # "les caves de la direction": people
        return not any(words[k] in _COPULAS for k in range(low, index))

    def _about_writer(self, doc: ReadComment, position: int, low: int) -> bool:
        """Is the word before ``position`` (over a determiner and adverbs) "je suis",
        "chu", "j'étais", "I'm": the writer calling themself names?"""
        words = doc.words
        k = position
        while k >= low and (
            words[k] in self._sets["determinants"] or words[k] in self._sets["intensifs"]
        ):
            k -= 1
        if k < low:
            return False
        if words[k] in ("suis", "chu", "chus", "am"):
            return True
        return (
            words[k] in _COPULAS | _FIRST_COPULAS and k > low and words[k - 1] in ("j", "je", "i")
        )

    def _sacre_aimed(self, doc: ReadComment, index: int, size: int) -> bool:
        """A sacre used as an insult noun: "t'es un crisse", "mon tabarnak, toi",
        "gang de crisses" — not "crisse de lundi", "tabarnak que c'est beau"."""
        words = doc.words
        clause = doc.clause_of[index]
        end = index + size
        after = words[end] if end < len(words) and doc.clause_of[end] == clause else ""
        if after in ("de", "d", "que", "qu", "of", "that") or after in self._sets["sacres"]:
            return False
        if doc.quoted[index] or self._reported(doc, index):
            return False
        low = doc.clause_range(index)[0]
        position, _, collective = self._back(doc, index)
        previous = words[position] if position >= low else ""
        before = words[position - 1] if position - 1 >= low else ""
        if collective:
            return True
        if previous in ("mon", "ma", "mes", "ton", "ta", "espece") and (
            after == "" or after in _SECOND or after in ("toi", "va", "je", "j", "pis")
        ):
            return True
        return (
            previous in ("un", "une", "des")
            and before in _COPULAS
            and self._person_before(doc, position - 1)
        )

    # -- threats, hate, defamation --------------------------------------------

    def _menaces(self, doc: ReadComment, marks: list[Mapping[str, int]]) -> list[_Hit]:
        hits: list[_Hit] = []
        if self._menace:
            for match in self._menace.finditer(doc.norm, doc.word_set):
                start, end = doc.tokens_of(match)
                if not doc.quoted[start]:
                    hits.append(_Hit(ProposCategory.MENACE, start, end, ""))
        hits += self._veiled_threats(doc)
        emoji = [i for i, w in enumerate(doc.words) if w in WEAPON_EMOJI and not doc.quoted[i]]
        if hits and self._laughing(doc) and not emoji:
            hits = []  # "je vais te tuer au Mario Kart 😂": banter
        if emoji and any(
            w in _SECOND or w in ("toi", "te", "mort", "morte", "morts") for w in doc.words
        ):
            hits.extend(_Hit(ProposCategory.MENACE, i, i + 1, "") for i in emoji)
        return hits

    def _veiled_threats(self, doc: ReadComment) -> list[_Hit]:
        """Harm announced without being named: an ominous sequel ("tu vas voir",
        "ça va faire mal"), someone waited for or watched where they are, harm done
        "in two" to "him", a weapon one has — with a second sign (another of them,
        a condition or a provocation, a hint left unsaid, a weapon, blood, an angry
        emoji); a warning about where one goes is a threat on its own. Not when
        the comment gives the warning or the weapon an innocent reason."""
        if not self._veiled and not self._warnings:
            return []
        menace = ProposCategory.MENACE
        hits = [
            _Hit(menace, *doc.tokens_of(m))
            for m in self._warnings.finditer(doc.norm, doc.word_set)
            if not doc.quoted[doc.token_at(m.start())]
        ]
        cores = [
            doc.tokens_of(m)
            for m in self._veiled.finditer(doc.norm, doc.word_set)
            if not doc.quoted[doc.token_at(m.start())]
        ]
        if cores:
            apart = _apart(cores)
            signs = [
                span
                for m in self._signs.finditer(doc.norm, doc.word_set)
                if not doc.quoted[(span := doc.tokens_of(m))[0]]
                and not any(s < span[1] and span[0] < e for s, e in apart)
            ]
            if len(apart) > 1 or signs or any(c in doc.text for c in _ANGRY_EMOJI):
                hits += [_Hit(menace, s, e) for s, e in apart + _apart(signs)]
        if hits and self._explained.finditer(doc.norm, doc.word_set):
            return []
        return hits

    def _hate(self, doc: ReadComment, marks: list[Mapping[str, int]]) -> list[_Hit]:
        hits: list[_Hit] = []
        groups: list[tuple[int, int]] = []
        for index, mark in enumerate(marks):
            if "injures_nominales" in mark and not doc.quoted[index]:
                position, sacre_de, collective = self._back(doc, index)
                previous = doc.words[position] if position >= 0 else ""
                if (
                    collective
                    or sacre_de
                    or previous in self._sets["determinants"]
                    or previous
                    in (
                        "maudits",
                        "maudites",
                        "sales",
                    )
                ):
                    hits.append(
                        _Hit(ProposCategory.HAINE, index, index + mark["injures_nominales"])
                    )
            if "injures" in mark and not doc.quoted[index] and not self._reported(doc, index):
                hits.append(_Hit(ProposCategory.HAINE, index, index + mark["injures"], ""))
            if "groupes" in mark and not doc.quoted[index] and not self._a_language(doc, index):
                end = index + mark["groupes"]
                groups.append((index, end))
                position, sacre_de, collective = self._back(doc, index)
                before = doc.words[index - 1] if index else ""
                if collective or before in ("maudits", "maudites", "sales"):
                    hits.append(
                        _Hit(
                            ProposCategory.HAINE,
                            max(position, 0) if collective else index - 1,
                            end,
                            "",
                        )
                    )
        if self._haine_alone:
            for match in self._haine_alone.finditer(doc.norm, doc.word_set):
                start, end = doc.tokens_of(match)
                if not doc.quoted[start] and not self._reported(doc, start):
                    hits.append(_Hit(ProposCategory.HAINE, start, end, ""))
        if groups and self._haine and not any("denonciation" in m for m in marks):
            near = {doc.clause_of[start] + shift for start, _ in groups for shift in (-1, 0, 1)}
            found = [doc.tokens_of(m) for m in self._haine.finditer(doc.norm, doc.word_set)]
            # an insult said near the group: "les gais sont des malades", "ces Haïtiens-là,
            # des voleurs" (read in the words, so that "demeure" is not "demeuré")
            found += [
                (k, k + n)
                for k, mark in enumerate(marks)
                for name in _GROUP_INSULTS
                if (n := mark.get(name, 0))
            ]
            found = [
                (s, e)
                for s, e in found
                if doc.clause_of[s] in near
                and not doc.quoted[s]
                and not self._reported(doc, s)
                and (s, e) not in groups
            ]
            if found:
                hits.append(_Hit(ProposCategory.HAINE, *groups[0]))
                hits.extend(_Hit(ProposCategory.HAINE, s, e) for s, e in found)
        return hits

    def _a_language(self, doc: ReadComment, index: int) -> bool:
        """Is the group word at ``index`` a language or a school subject ("le prof de
        FRANÇAIS", "en anglais"), not people ("les Anglais", "maudits Français")?"""
        if doc.words[index] not in _LANGUAGES:
            return False
        low = doc.clause_range(index)[0]
        return index == low or doc.words[index - 1] not in _PEOPLE_BEFORE

    def _defamation(self, doc: ReadComment, marks: list[Mapping[str, int]]) -> list[_Hit]:
        if not self._accusations:
            return []
        if any("dementis" in m for m in marks) or self._relayed(doc):
            return []
        hits: list[_Hit] = []
        words = doc.words
        for match in self._accusations.finditer(doc.norm, doc.word_set):
            start, end = doc.tokens_of(match)
            if doc.quoted[start]:
                continue
            clause = doc.clause_of[start]
            if doc.questions[clause] and self._asking(doc, clause):
                continue
            low, high = doc.clauses[clause]
            if any(
                words[k] in _NEGATIONS or words[k] in ("n", "rien")
                for k in range(max(low, start - 2), start)
            ):
                continue
            if any(self._first_person(doc, k) for k in range(max(low, start - 3), start)):
                continue
            if self._own_circle_subject(doc, low, start):
                continue  # "mon ami s'est fait arrêter": a friend's news
            if start - 2 >= low and words[start - 2 : start] == ["quelqu", "un"]:
                continue
            if start > low and (
                words[start - 1] in self._sets["determinants"] or words[start - 1] in _BEFORE_NOUN
            ):
                continue  # "contre la fraude", "victime de fraude": a noun, not a verb
            follows = words[low] in self._sets["tiers"] or words[low] in _IMPERSONAL
            if not (
                self._target_in(doc, low, high)
                or (follows and clause and self._target_in(doc, *doc.clauses[clause - 1]))
            ):
                continue
            hits.append(_Hit(ProposCategory.DIFFAMATION, start, end, ""))
        return hits

    def _insinuated(self, doc: ReadComment) -> list[_Hit]:
        """An accusation hinted at: a frame ("comme par hasard", "coïncidence?",
        "demandez-vous pourquoi") in a comment that names a target and something
        gained or taken (money, a contract, a post, a grant) — not relayed news."""
        if not self._insinuations:
            return []
        frames = [
            doc.tokens_of(m)
            for m in self._insinuations.finditer(doc.norm, doc.word_set)
            if not doc.quoted[doc.token_at(m.start())]
        ]
        if not frames:
            return []
        gains = [doc.tokens_of(m) for m in self._gains.finditer(doc.norm, doc.word_set)]
        if not gains or self._relayed(doc):
            return []
        if not any(self._target_in(doc, low, high) for low, high in doc.clauses):
            return []
        return [_Hit(ProposCategory.DIFFAMATION, s, e) for s, e in frames + gains[:1]]

    def _own_circle(self, doc: ReadComment, k: int) -> bool:
        """Is word ``k`` "mon / ma / mes…" before the writer's friend or family
        ("mon ami", "ma coloc", "mon fils")?"""
        words = doc.words
        if words[k] not in _OWN or k + 1 >= len(words):
            return False
        return words[k + 1] in self._sets["proches"] or words[k + 1] in self._sets["famille"]

    def _own_circle_subject(self, doc: ReadComment, low: int, start: int) -> bool:
        """Is the subject of the words before ``start`` the writer's friend or
        family ("MON AMI s'est fait arrêter"; after "que", what follows it: "mon
        ami dit que LE PROF…" is about the teacher)?"""
        words = doc.words
        for k in range(start - 1, low - 1, -1):
            if words[k] in ("que", "qu"):
                low = k + 1
                break
        return any(self._own_circle(doc, k) for k in range(low, start))

    def _relayed(self, doc: ReadComment) -> bool:
        """Does the comment relay news with its source ("selon TVA", "la police
        rapporte que")?"""
        return bool(self._attributions) and bool(
            self._attributions.finditer(doc.norm, doc.word_set)
        )

    def _misconduct(self, doc: ReadComment, marks: list[Mapping[str, int]]) -> list[_Hit]:
        """Misconduct named as a noun in a sentence that names a target: "le prof
        fait payer ses étudiants, c'est de l'extorsion" — not a topic ("une
        politique contre le harcèlement"), a question, a denial or the writer's."""
        hits: list[_Hit] = []
        words = doc.words
        topics = self._sets["sujets"]
        for index, mark in enumerate(marks):
            if "delits" not in mark or doc.quoted[index]:
                continue
            clause = doc.clause_of[index]
            low, high = doc.clauses[clause]
            if doc.questions[clause] and self._asking(doc, clause):
                continue
            before = [w for w in words[max(low, index - 4) : index] if w not in _DEFINITE]
            if any(
                w in topics or w in _NEGATIONS or w in ("aucun", "aucune", "sans") for w in before
            ):
                continue
            if any(self._first_person(doc, k) for k in range(low, index)):
                continue
            follows = words[low] in self._sets["tiers"] or words[low] in _IMPERSONAL
            if self._target_in(doc, low, high) or (
                follows and clause and self._target_in(doc, *doc.clauses[clause - 1])
            ):
                hits.append(_Hit(ProposCategory.DIFFAMATION, index, index + mark["delits"]))
        return [] if hits and self._relayed(doc) else hits

    def _asking(self, doc: ReadComment, clause: int) -> bool:
        """Is this question a real one ("est-ce que…?", "c'est vrai que…?"), not a
        rhetorical accusation ("pourquoi le cégep cache les plaintes?")?"""
        low, high = doc.clauses[clause]
        opening = " ".join(doc.words[low : min(high, low + 4)])
        return opening.startswith(_ASKING)

    def _target_in(self, doc: ReadComment, low: int, high: int) -> bool:
        """Does the clause name an identifiable person or the college?"""
        words = doc.words
        sets = self._sets
        for k in range(low, high):
            word = words[k]
            if word in sets["institutions"]:
                return True
            if word in sets["titres"] and k + 1 < high and doc.caps[k + 1]:
                return True
            if (
                word in sets["personnes"]
                and k > low
                and (words[k - 1] in _TARGET_DETERMINERS or words[k - 1] in _DU)
            ):
                return True  # "le prof", "la nièce DU directeur"
            if (
                word in sets["personnes"]
                and k - 1 > low
                and words[k - 2] in _TARGET_DETERMINERS
                and words[k - 1] not in _BEFORE_NOUN
            ):
                return True  # "la NOUVELLE directrice", "the PROGRAM coordinator"
            if (
                doc.caps[k]
                and self._is_name(doc, k, low)
                and ((k + 1 < high and doc.caps[k + 1]) or k > low)
            ):
                return True
        return False

    # -- private information -------------------------------------------------

    def _private(self, doc: ReadComment, marks: list[Mapping[str, int]]) -> list[_Hit]:
        hits = [h for h in self._contacts(doc) if not self._own_contact(doc, h)]
        hits += self._private_words(doc, marks)
        return hits

    def _own_contact(self, doc: ReadComment, hit: _Hit) -> bool:
        """Is this number or address the writer's own ("appelez-moi au…")?"""
        if not self._own or not doc.words:
            return False
        token = doc.token_of_text(hit.start)
        clause = doc.clause_of[token] if token >= 0 else 0
        for match in self._own.finditer(doc.norm, doc.word_set):
            start = doc.token_at(match.start())
            if doc.clause_of[start] in (clause, clause - 1) and start <= max(token, 0):
                return True
        return False

    def _contacts(self, doc: ReadComment) -> list[_Hit]:
        """Phone numbers, addresses, codes and e-mails, found in the characters;
        ``start`` is where they begin in the text."""
        hits: list[_Hit] = []
        text = doc.text
        private = ProposCategory.VIE_PRIVEE
        if "@" in text:
            for found in _EMAIL.finditer(text):
                if (
                    found.group(1).lower() in _PERSONAL_MAIL
                    and found.group() not in self._public_texts
                ):
                    hits.append(
                        _Hit(private, found.start(), 0, "courriel personnel", found.group())
                    )
        if not _DIGIT.search(text):
            return hits
        for match in _PHONE.finditer(text):
            digits = re.sub(r"\D", "", match.group())
            if digits[-10:] not in self._public_phones and digits[-10:-7] not in _TOLL_FREE:
                hits.append(_Hit(private, match.start(), 0, "numéro de téléphone", match.group()))
        folded = doc.folded
        for regex in (self._address, self._apartment):
            for found in regex.finditer(folded.text):
                if not self._is_public_place(found.group()):
                    first, last = folded.original(found.start(), found.end())
                    hits.append(_Hit(private, first, 0, "adresse", text[first:last]))
        for found in _CODE_PERMANENT.finditer(text):
            hits.append(_Hit(private, found.start(), 0, "code permanent", found.group()))
        return hits

    def _private_words(self, doc: ReadComment, marks: list[Mapping[str, int]]) -> list[_Hit]:
        """Private information read in the words: identifiers, health, intimate
        facts, accounts, where someone lives, minors."""
        hits: list[_Hit] = []
        text = doc.text
        private = ProposCategory.VIE_PRIVEE
        words = doc.words
        for index, mark in enumerate(marks):
            if "identifiants" in mark and not (index and words[index - 1] in _OWN):
                end = index + mark["identifiants"]
                number = self._number_after(doc, end, 4) or self._number_after(doc, 0, len(words))
                if number:
                    hits.append(_Hit(private, index, end, "matricule"))
                    hits.append(_Hit(private, doc.token_at_end(number), number, "matricule"))
            if "plaques" in mark:
                after = doc.folded.original(*doc.spans[index])[1]
                plate = _PLATE.search(text, after, min(len(text), after + 120))
                if plate and re.search(r"\d", plate.group()) and re.search("[A-Z]", plate.group()):
                    hits.append(
                        _Hit(private, plate.start(), 0, "plaque d'immatriculation", plate.group())
                    )
            if "horaires" in mark and self._schedule_of_someone(
                doc, index, index + mark["horaires"]
            ):
                hits.append(
                    _Hit(private, index, index + mark["horaires"], "horaire d'une personne")
                )
            for name, kind in (("sante", "santé"), ("intime", "vie intime")):
                if name in mark and not doc.quoted[index] and self._said_of_someone(doc, index):
                    hits.append(_Hit(private, index, index + mark[name], f"{kind} d'une personne"))
            if "comptes" in mark and index and words[index - 1] in _THIRD_POSSESSIVES:
                after = doc.folded.original(*doc.spans[index])[1]
                window = text[after : after + 40]
                given = _HANDLE.search(window) or _LOCAL_PHONE.search(window)
                if given:
                    hits.append(
                        _Hit(private, index, index + 1, "coordonnées personnelles", given.group())
                    )
        for match in self._disclosure.finditer(doc.norm, doc.word_set):
            start, end = doc.tokens_of(match)
            if not doc.quoted[start]:
                hits.append(_Hit(private, start, end, "personne désignée pour être retrouvée"))
        for match in self._birth.finditer(doc.norm, doc.word_set):
            start, end = doc.tokens_of(match)
            if self._someone_else_before(doc, start) or any(
                self._is_full_name(doc, k) for k in range(*doc.clause_range(start))
            ):
                hits.append(_Hit(private, start, end, "date de naissance"))
        if self._residence:
            for match in self._residence.finditer(doc.norm, doc.word_set):
                start, end = doc.tokens_of(match)
                if self._someone_else_before(doc, start):
                    hits.append(_Hit(private, start, end, "lieu de résidence"))
        for match in _MINOR.finditer(doc.norm):
            start = doc.token_at(match.start())
            age = match.group(1)
            if age is not None and (int(age) >= 18 or not self._is_age(doc, start)):
                continue
            low = doc.clause_range(start)[0]
            if any(self._first_person(doc, k) or words[k] == "on" for k in range(low, start)):
                continue
            clause = doc.clause_of[start]
            near = range(
                doc.clauses[max(0, clause - 1)][0],
                doc.clauses[min(len(doc.clauses) - 1, clause + 1)][1],
            )
            identified = any(words[k] in _IDENTIFYING for k in near) or any(
                self._is_full_name(doc, k) for k in near
            )
            if identified:
                end = doc.token_at(match.end() - 2) + 1
                hits.append(_Hit(private, start, end, "personne mineure identifiable"))
        return hits

    def _is_age(self, doc: ReadComment, start: int) -> bool:
        """Is the number at ``start`` (before "ans") someone's age — "elle a 15 ans",
        "la fille de 14 ans", "Léa, 16 ans" — not a duration ("pendant 8 ans",
        "plus de 8 ans", "il y a 10 ans")?"""
        words = doc.words
        low = doc.clause_range(start)[0]
        previous = words[start - 1] if start > low else ""
        if previous in ("a", "as", "avait", "aura", "age", "agee", "aged"):
            return previous != "a" or start - 2 < low or words[start - 2] != "y"
        if previous in ("de", "d"):
            return start - 2 >= low and words[start - 2] not in _NOT_AGE
        first = doc.folded.original(*doc.spans[start])[0]
        return doc.text[:first].rstrip().endswith(",")

    def _first_person(self, doc: ReadComment, k: int) -> bool:
        """Is word ``k`` the writer ("je", "moi") or the writer's own child ("mon fils")?"""
        word = doc.words[k]
        if word in self._sets["premiere_personne"]:
            return True
        return word in _OWN and k + 1 < len(doc.words) and doc.words[k + 1] in self._sets["famille"]

    def _number_after(self, doc: ReadComment, end: int, within: int) -> int:
        """The end of a 7 to 9 digit number among the ``within`` words after ``end``
        (the digits may be cut in groups: "2207 719"), or 0."""
        words = doc.words
        for k in range(end, min(end + within, len(words))):
            if not words[k].isdigit():
                continue
            digits, stop = "", k
            while stop < len(words) and words[stop].isdigit() and len(digits) < 9:
                digits += words[stop]
                stop += 1
            if 7 <= len(digits) <= 9:
                return stop
        return 0

    def _schedule_of_someone(self, doc: ReadComment, index: int, end: int) -> bool:
        """ "son horaire", "l'horaire de Julie Roy" — not "mon horaire", "l'horaire
        de la bibliothèque"."""
        words = doc.words
        if index and words[index - 1] in _THIRD_POSSESSIVES:
            return True
        return (
            end + 1 < len(words)
            and words[end] in ("de", "d", "of")
            and (self._is_full_name(doc, end + 1) or words[end + 1] in self._sets["titres"])
        )

    def _said_of_someone(self, doc: ReadComment, index: int) -> bool:
        """Is the health or intimate word at ``index`` said of someone other than
        the writer: "la prof est séropositive", "sa dépression", "il est gai"?"""
        words = doc.words
        low = doc.clause_range(index)[0]
        if index > low and words[index - 1] in _THIRD_POSSESSIVES:
            return not any(self._first_person(doc, j) for j in range(low, index))
        # "est séropositive", "a fait une dépression", "est en arrêt maladie pour un burnout";
        # not a topic: "un cours sur le cancer", "la lutte contre le cancer", "à la Société
        # du cancer"
        k = index - 1
        while k >= low and words[k] in _DEFINITE:
            k -= 1
        if k >= low and words[k] in _TOPIC:
            return False
        if not any(
            words[k] in _HEALTH_VERBS and doc.original(k, k + 1) != "à"
            for k in range(max(low, index - 6), index)
        ):
            return False
        return self._someone_else_before(doc, index)

    def _someone_else_before(self, doc: ReadComment, index: int) -> bool:
        """Does the clause before ``index`` name someone, and not the writer?"""
        words = doc.words
        low = doc.clause_range(index)[0]
        if any(self._first_person(doc, j) for j in range(low, index)):
            return False
        return any(
            self._is_person(doc, j, low) or words[j] in self._sets["tiers"]
            for j in range(low, index)
        )

    def _is_public_place(self, found: str) -> bool:
        key = _place_key(found)
        return any(
            key[: len(p)] == p[: len(key)] or p.startswith(key) for p in self._public_places if key
        )


_ABBREVIATIONS = {
    "st": "saint",
    "ste": "sainte",
    "boul": "boulevard",
    "bd": "boulevard",
    "blvd": "boulevard",
    "av": "avenue",
    "ave": "avenue",
    "ch": "chemin",
}


def _place_key(address: str) -> str:
    """An address reduced to its letters and digits, folded, abbreviations spelled
    out: "960, rue St-Georges" and "960 rue Saint-Georges, Drummondville" share the
    key's start."""
    return "".join(_ABBREVIATIONS.get(w, w) for w in words_of(address))


def _apart(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans that do not overlap an earlier one (spans in text order)."""
    kept: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if not kept or start >= kept[-1][1]:
            kept.append((start, end))
    return kept


def _quoted(words: Sequence[str]) -> str:
    return ", ".join(f"« {' '.join(w.split())} »" for w in words)


_REASONS = {
    ProposCategory.INSULTE: "insulte visant une personne",
    ProposCategory.DIFFAMATION: (
        "accusation présentée comme un fait contre une personne identifiable ou le Cégep"
    ),
    ProposCategory.MENACE: "menace",
    ProposCategory.HAINE: "propos haineux envers un groupe",
    ProposCategory.VIE_PRIVEE: "renseignement privé",
}
