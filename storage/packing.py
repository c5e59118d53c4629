"""How the store keeps an item's text and title key small.

An item's text is deflated with a preset dictionary of French words when that makes
it smaller, else kept as UTF-8; its title key (``veille.pipeline.title_key``) is kept
as a 64-bit digest (:func:`title_hash`); its url and guid are kept once when they
are its key (:func:`pack_url`, :func:`pack_guid`).

A packed text is one byte telling how the rest is written, then the rest:

    0x00  the text in UTF-8, as is (deflate would not make it smaller: short texts)
    0x01  raw deflate (RFC 1951) of the UTF-8, with the preset dictionary
          :data:`DICTIONARY_1`

A format byte found in a store keeps its meaning for ever: another way of packing
(another dictionary, another compressor) takes a new byte, and :func:`unpack_text`
goes on reading the old ones. An unknown byte (a store written by a newer veille)
or a damaged value raises :class:`~veille.errors.StorageError`, never a wrong text.
"""

from __future__ import annotations

import hashlib
import zlib
from functools import cache

from veille.errors import StorageError

PLAIN = 0x00
DEFLATE_1 = 0x01

# zlib's default: with the dictionary, level 1 leaves texts 9-15 % larger, for 2 to
# 12 µs less per text under 1 kB (a third less at 3 kB)
LEVEL = 6

# Words that news and comments about the Cégep share: those found in at least three
# texts of the development corpora (mentions and propos), by the bytes they cover,
# 4 kB, the most frequent last (deflate reaches them at the shortest distances).
# Deflated against them, a text is 10-20 % smaller than deflated alone (measured on
# one corpus with the words of the other: the shorter the text, the larger the gain).
# Part of format 0x01: NEVER CHANGE IT (a test checks its digest); a better
# dictionary is a new format byte.
_WORDS_1 = """
    gratuit Granby Mon communication organisateurs Voltigeurs éducation émouvants cet
    français travaille 000 examens gouvernement mortes pluies rue piste ai Une Mélanie vous
    appel connaître entre temps collaboration contribueront Je pairs parmi élus arbres aura
    commun date font niveau nouvelle on témoignages Charles équipe Catherine devraient
    directeur général il lieu mois monde moyen présenté terme Un animer lancé the Tremblay
    aide elle leur prix vraiment CEGEP aînés cette dizaine limiter potable rares Fêtes
    auront fin mon Merci dévoilés suite Woodyatt cinq gars gratuits immeuble incendie
    interdit personne tout trajets vitesse Canada offert salué ça douze forte CegepDrummond
    attendues bibliothèque ses tellement Lindsay planter projets ruelles Joseph arts
    canicule disent dès détails entraide estime feuilles finissants fortes hausse hôtel
    limite main pilote promet cafétéria événement qu maison milieu salles ajoutera longeant
    prévoit Cegep Geneviève Stéphanie autant conférence expérience octobre tutorat études
    Carrefour François aux bilan collectes liés stage cyclable prochain prof Centre ans
    après espace administration endommagé fille lourdement samedis secondaire surveillé
    information Maison chômage enseignement entraves essentiel ici plaignent économie marché
    deux aussi bénévole chauffeurs classe drummondvillois industriel infirmiers connaît
    autoroute par transport adresse cherche opérations remises se être chimie professionnel
    avec ce citoyens coût inscrire lourd prolongée pèse période résidents tous évalué
    affiche Société causeront dépassé habitants soir Sûreté approche modifié nouveaux public
    publique stable attraction jusqu régionale approuvé pis lors grève oblige places revoir
    sommes bourses leurs matin trois habituel sera taux Sherbrooke boulevard consommation
    déneigement mais optimistes adopté demande Collège affaires fait handicap marquée
    pourront rivière touche œuvre Statistique croissances économique et municipal peuvent
    policiers procédé Nicéphore abordables constatent engagement installera ligne municipaux
    stagiaires étrangers effectif saison Service peinent région réseau estimations assister
    concrètes près présenter retombées son années attirer automne contrer horaire Ville
    carrière effectuer journées situation pavillon alimentaire quarantaine Selon accueillie
    avant comprendra initiative santé certaines commerçants logements novembre scolaire
    travailleurs travaux bénévoles calendrier organismes ville pas automobilistes ensemble
    recruter réclame régions semaine souhaite centre gratuitement Desjardins réclament
    conseil rentrée semaines annonce développement majeure Drummondvillois année certains
    diffusées entreprise lundi progressé unifamiliale reprendront ont présence surcharge
    syndicats projet seront accueilleront annoncé population ressources La arrestations
    collaboratif infirmier longtemps printemps régional partenaires rémunéré Saint
    démographiques selon enquête récente depuis parents activités désormais méthodes
    consultation pendant dénoncent personnel qui logement rappelle favorablement enseignante
    laboratoires qualifiés réorientation secteur service spectacles techniques également
    cours accueillera diplomation intéressées complet dérouleront légèrement nouvelles plus
    première supérieur budget encore fonctionnement personnes plusieurs que DRUMMONDVILLE
    manufacturier résidence adultes cégeps jeunes communautaires financement techniciens
    travail employeurs représentent Plusieurs davantage programme sur Victoriaville pénurie
    ministère évaluation Fédération sont présentation Enseignement un internationaux
    demandes du direction cegepdrummond admission session psychologue invités au collégial
    artificielle intelligence accompagner entreprises dernières Le étudiante été augmenté
    nouveau enseignants stationnement cégep demeure psychologique programmes préoccupation
    Les Drummond en cérémonie Québec une dans construction le les la des est Cégep pour
    étudiants de Drummondville
"""
DICTIONARY_1 = (" " + " ".join(_WORDS_1.split())).encode()


def pack_text(text: str) -> bytes:
    """``text`` as the store keeps it (format :data:`DEFLATE_1`, or :data:`PLAIN`
    when deflating would not make it smaller)."""
    raw = text.encode()
    packer = _packer(min(15, (len(DICTIONARY_1) + len(raw) + 262).bit_length())).copy()
    packed = packer.compress(raw) + packer.flush()
    if len(packed) < len(raw):
        return bytes((DEFLATE_1,)) + packed
    return bytes((PLAIN,)) + raw


@cache
def _packer(bits: int) -> zlib._Compress:
    """A compressor for format 0x01 with a window of ``2**bits`` bytes, the dictionary
    already read: :func:`pack_text` copies it. A window (and hash) just large enough
    for dictionary and text (and deflate's 262 bytes of lookahead) gives the same
    output as zlib's 32 kB; with the copy, a short text costs about 15 µs instead of
    70-90 µs to set up 256 kB of state and read the dictionary again."""
    return zlib.compressobj(LEVEL, zlib.DEFLATED, -bits, bits - 7, zdict=DICTIONARY_1)


def unpack_text(packed: bytes) -> str:
    """The text :func:`pack_text` packed (any format byte it ever wrote)."""
    version, body = packed[0] if packed else None, packed[1:]
    try:
        if version == PLAIN:
            return body.decode()
        if version == DEFLATE_1:
            unpacker = zlib.decompressobj(-15, zdict=DICTIONARY_1)
            raw = unpacker.decompress(body) + unpacker.flush()
            if not unpacker.eof or unpacker.unused_data:
                raise zlib.error("flux tronqué ou suivi d'autres octets")
            return raw.decode()
    except (zlib.error, UnicodeDecodeError) as exc:
        raise StorageError(f"texte d'un élément illisible dans la base ({exc})") from exc
    what = "vide" if version is None else f"octet 0x{version:02x}"
    raise StorageError(
        f"texte d'un élément dans un format inconnu ({what}) : la base a-t-elle été "
        "écrite par une version plus récente de veille ?"
    )


def item_text(text: str | None, packed_text: bytes | None) -> str | None:
    """An item's text from its two columns: ``packed_text`` since migration 0009,
    ``text`` in the rows stored before (None: pruned, or never had one)."""
    return unpack_text(packed_text) if packed_text is not None else text


def title_hash(title_key: str) -> int:
    """A title key as a signed 64-bit integer (BLAKE2b): what the store keeps and looks
    up instead of the key itself (8 bytes where a key takes about 80, and as much again
    in its index). Two different keys share a digest with a probability of 2⁻⁶⁴: among
    the 100,000 keys of a busy 72-hour window, a new one meets another's digest about
    once in 2×10¹⁴ items (it would be taken for the same story: stored, and sighted on
    the other's mention). Part of what a store holds: NEVER CHANGE IT."""
    digest = hashlib.blake2b(title_key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


# An item's url as the store keeps it: empty when it is the item's key (the canonical
# url: nearly every feed item), a lone space when the item has none (an item with only
# a guid; intake never leaves a url that is only spaces). NEVER CHANGE IT.
_SAME_AS_KEY = ""
_NO_URL = " "


def pack_url(url: str, key: str) -> str:
    """``url`` as the store keeps it for the item of ``key`` (:func:`unpack_url` gives
    it back)."""
    if url == key:
        return _SAME_AS_KEY
    return _NO_URL if url == "" else url


def unpack_url(stored: str, key: str) -> str:
    """The url of the item of ``key`` from what the store keeps (:func:`pack_url`)."""
    if stored == _SAME_AS_KEY:
        return key
    return "" if stored == _NO_URL else stored


def pack_guid(guid: str | None, key: str) -> str | None:
    """``guid`` as the store keeps it for the item of ``key``: empty when it is the key
    (intake never leaves an empty guid: it makes it None). NEVER CHANGE IT."""
    return _SAME_AS_KEY if guid == key else guid


def unpack_guid(stored: str | None, key: str) -> str | None:
    """The guid of the item of ``key`` from what the store keeps (:func:`pack_guid`)."""
    return key if stored == _SAME_AS_KEY else stored
