"""Fictional people, places and organisations for synthetic problems.

Names are built from invented place syllables, so the facts about them exist in no pre-training corpus.
A :class:`NamePool` hands out names for one problem and never returns a name that contains, or is
contained in, a name it already gave out: a gold answer then occurs only in the facts about it.
"""

from __future__ import annotations

import random

from tracekd_ext.errors import TracekdError

_PLACE_HEADS = ("Vel", "Ost", "Kar", "Mir", "Thal", "Bren", "Cor", "Dras", "Esk", "Fen", "Gal", "Hal", "Ith",
                "Jor", "Kel", "Lun", "Mar", "Nor", "Orm", "Pel", "Quen", "Ros", "Sil", "Tor", "Ul", "Var", "Wen",
                "Yr", "Zan", "Bal", "Cael", "Dun", "Elm", "Grav")
_PLACE_LINKS = ("", "a", "e", "i", "o", "an", "en", "or")
_PLACE_TAILS = ("mora", "drel", "mund", "vik", "stead", "holm", "ria", "wick", "gard", "thal", "ven", "dor",
                "lis", "more", "bury", "wyn", "cairn", "haven")
_GIVEN_NAMES = ("Alira", "Bram", "Cassia", "Doran", "Elsin", "Fenna", "Garrik", "Halia", "Ivo", "Jessa", "Kael",
                "Liora", "Maren", "Nils", "Orla", "Pellam", "Quilla", "Rhosyn", "Sefa", "Tamsin", "Ulric", "Vesna",
                "Wren", "Yara", "Zev", "Anselm", "Brisa", "Corwin", "Delphine", "Emrys", "Ffion", "Gideon", "Hesper",
                "Isolde", "Jarek", "Kirsa", "Leif", "Mireille", "Nerys", "Osric", "Perrin", "Rowena", "Soren")
_SURNAME_HEADS = ("Ald", "Bram", "Cal", "Dun", "Ever", "Fal", "Grim", "Hart", "Iver", "Kest", "Lind", "Mor",
                  "Nev", "Oak", "Pren", "Rav", "Strom", "Thorn", "Vance", "Wyn", "Ash", "Brisk", "Corm", "Dell")
_SURNAME_TAILS = ("ley", "wick", "more", "ford", "hale", "by", "ton", "quist", "sen", "vane", "ridge", "mere",
                  "castle", "field", "holt", "shaw")
_ROLES = ("Chief Archivist", "Deputy Governor", "High Steward", "Trade Envoy", "Chancellor", "Harbour Master",
          "Provost", "Treasurer", "Chief Justice", "Lord Warden", "Surveyor General", "Consul", "Mayor",
          "Auditor General", "Master of Ceremonies", "Grand Marshal")
_PARTY_KINDS = ("Green Party", "Liberal Party", "Labour Party", "Unity Party", "Reform Party", "Heritage Party",
                "Progress Party", "Farmers' Party", "Civic Party", "Republican Party", "Alliance", "People's Front")
_BODY_KINDS = ("Heritage Society", "Rail Board", "Science Council", "Chamber of Commerce", "Water Authority",
               "Arts Council", "Port Commission", "Medical Association", "Library Trust", "Rowing Federation")
_SCHOOL_FORMS = ("University of {}", "{} Institute of Technology", "{} College", "{} Academy of Music",
                 "{} School of Law", "{} Polytechnic")
_EMPLOYER_KINDS = ("Observatory", "Museum", "General Hospital", "Labs", "Gazette", "Savings Bank", "Railways",
                   "Research Institute", "Shipyards", "Botanical Garden")
_TEAM_KINDS = ("Rovers", "Athletic", "United", "Wanderers", "Harriers", "Rangers", "Albion", "Comets")
_COMPANY_KINDS = ("Foods", "Shipping", "Textiles", "Mining", "Press", "Brewery", "Motors", "Pharmaceuticals",
                  "Glassworks", "Airways")

# What each kind of entity is; owners of companies are people or holding companies.
ENTITY_KINDS = ("person", "company", "owner", "role", "party", "body", "school", "employer", "team")


def place(rng: random.Random) -> str:
    """An invented place name such as ``Velamora`` or ``Ostdrel``."""
    return rng.choice(_PLACE_HEADS) + rng.choice(_PLACE_LINKS) + rng.choice(_PLACE_TAILS)


def person(rng: random.Random) -> str:
    return f"{rng.choice(_GIVEN_NAMES)} {rng.choice(_SURNAME_HEADS)}{rng.choice(_SURNAME_TAILS)}"


def _entity(kind: str, rng: random.Random) -> str:
    if kind == "person":
        return person(rng)
    if kind == "company":
        return f"{place(rng)} {rng.choice(_COMPANY_KINDS)}"
    if kind == "owner":
        return person(rng) if rng.random() < 0.5 else f"{place(rng)} Holdings"
    if kind == "role":
        return f"{rng.choice(_ROLES)} of {place(rng)}"
    if kind == "party":
        return f"{place(rng)} {rng.choice(_PARTY_KINDS)}"
    if kind == "body":
        return f"{place(rng)} {rng.choice(_BODY_KINDS)}"
    if kind == "school":
        return rng.choice(_SCHOOL_FORMS).format(place(rng))
    if kind == "employer":
        return f"{place(rng)} {rng.choice(_EMPLOYER_KINDS)}"
    if kind == "team":
        return f"{place(rng)} {rng.choice(_TEAM_KINDS)}"
    raise TracekdError(f"unknown entity kind '{kind}'; choose from {', '.join(ENTITY_KINDS)}")


class NamePool:
    """Distinct names for one problem: no name handed out is a substring of another.

    The check is exact and does not grow with the pool: the names handed out are indexed by their
    ``GRAM``-character pieces (a name inside a longer one shares all its pieces with it, so the candidates
    are the names that hold its rarest piece) and their lengths (a shorter name inside the new one is one
    of its slices of such a length).
    """

    GRAM = 5

    def __init__(self, rng: random.Random, max_tries: int = 1000):
        self._rng = rng
        self._max_tries = max_tries
        self._used: set[str] = set()
        self._lengths: set[int] = set()
        self._by_gram: dict[str, list[str]] = {}

    def _related(self, name: str) -> bool:
        """Whether ``name`` contains, or is contained in, a name handed out."""
        size = len(name)
        if any(name[i:i + n] in self._used for n in self._lengths if n <= size for i in range(size - n + 1)):
            return True
        if size < self.GRAM:  # too short for the index: compare with every name (no generated name is this short)
            return any(name in used for used in self._used)
        holders = min((self._by_gram.get(name[i:i + self.GRAM], ()) for i in range(size - self.GRAM + 1)), key=len)
        return any(name in used for used in holders)

    def new(self, kind: str) -> str:
        """A fresh name of ``kind`` unrelated (by substring) to every name given out so far."""
        for _ in range(self._max_tries):
            name = _entity(kind, self._rng)
            if not self._related(name):
                self._used.add(name)
                self._lengths.add(len(name))
                for gram in {name[i:i + self.GRAM] for i in range(len(name) - self.GRAM + 1)}:
                    self._by_gram.setdefault(gram, []).append(name)
                return name
        raise TracekdError(f"could not find a fresh {kind} name after {self._max_tries} tries")
