"""Name normalisation and search keys, across Persian script and Latin transliterations.

The embedded engine has no offline full-text index, and none would know that "Eje'i",
"Ezhei" and "اژه‌ای" are one name, so every node stores keys computed here and search
looks them up. Two kinds of key:

- ``t:<token>``: a token (and each pair of adjacent tokens joined, so "Gholam-Hossein" and
  "Gholamhossein" meet), in its normalised form; Persian tokens keep Persian script.
- ``k:<skeleton>``: the consonant skeleton of a Latinised token ("Mohseni", "Mohsseni" and
  "محسنی" all give ``msn``), which bridges scripts and transliteration schemes.

The skeleton is deliberately coarse: it finds candidates, and the scorer in
``queries.search`` ranks them.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from normality import ascii_text

# Arabic code points that Persian writes differently, and letters whose Persian
# pronunciation differs from the Arabic transliteration normality applies.
_PERSIAN_FOLD = str.maketrans({
    "\u064a": "\u06cc",  # Arabic yeh -> Farsi yeh
    "\u0649": "\u06cc",  # alef maksura -> Farsi yeh
    "\u0643": "\u06a9",  # Arabic kaf -> keheh
    "\u0629": "\u0647",  # teh marbuta -> heh
    "\u06c0": "\u0647",  # heh with yeh above -> heh
    "\u0623": "\u0627", "\u0625": "\u0627", "\u0671": "\u0627",  # alef with hamza -> alef
    "\u0624": "\u0648",  # waw with hamza -> waw
    "\u0626": "\u06cc",  # yeh with hamza -> yeh
    "\u0640": None,  # tatweel
    "\u200c": " ",  # zero-width non-joiner separates tokens, as a space does
    "\u200d": None, "\u200e": None, "\u200f": None, "\ufeff": None,
})  # fmt: skip

# Persian letters -> the Latin a Persian speaker's transliteration would use.
_PERSIAN_LATIN = str.maketrans({
    "\u0630": "z", "\u0636": "z", "\u0638": "z", "\u0632": "z",  # ذ ض ظ ز
    "\u062b": "s", "\u0635": "s", "\u0633": "s",  # ث ص س
    "\u0637": "t", "\u062a": "t",  # ط ت
    "\u062d": "h", "\u0647": "h",  # ح ه
    "\u0639": "", "\u0621": "",  # ع ء (glottal stops are not written in most Latin forms)
    "\u0648": "v", "\u06cc": "y", "\u0622": "a", "\u0627": "a",
    "\u0698": "zh", "\u062e": "kh", "\u063a": "gh", "\u0642": "gh", "\u0686": "ch",
    "\u0634": "sh", "\u062c": "j", "\u067e": "p", "\u06af": "g", "\u06a9": "k",
})  # fmt: skip

_APOSTROPHES = "'\u2019\u2018\u02bc\u02bb`\u00b4"
_SPLIT = re.compile(r"[^\w]+", re.UNICODE)
_ARABIC_BLOCK = re.compile(r"[\u0600-\u06ff]")
_DIGRAPHS = (("kh", "x"), ("gh", "q"), ("zh", "j"), ("dj", "j"), ("sh", "S"), ("ch", "C"),
             ("ph", "f"), ("ck", "k"), ("ou", "u"), ("c", "k"))
_SKELETON_DROP = re.compile(r"[aeiouyhwv]")


def has_persian(text: str) -> bool:
    return bool(_ARABIC_BLOCK.search(text))


def script_of(text: str) -> str:
    """``Arab`` for Persian/Arabic script, ``Latn`` otherwise (enough to label names)."""
    return "Arab" if has_persian(text) else "Latn"


def normalise_persian(text: str) -> str:
    """Fold Arabic letter forms to Persian, drop diacritics and tatweel, ZWNJ -> space."""
    text = unicodedata.normalize("NFC", text).translate(_PERSIAN_FOLD)
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith("M"))


def normalise(text: str) -> str:
    """A comparison form: Persian folded, Latin lowercased and stripped of accents,
    apostrophes removed (Eje'i = Ejei), every other separator a single space."""
    text = normalise_persian(text)
    for ch in _APOSTROPHES:
        text = text.replace(ch, "")
    out: list[str] = []
    for token in _SPLIT.split(text):
        if not token:
            continue
        if has_persian(token):
            out.append(token)
        else:
            out.append((ascii_text(token) or token).lower())
    return " ".join(t for t in (o.replace(" ", "") for o in out) if t)


def latinise(token: str) -> str:
    """A Persian token in Latin letters (for skeletons); Latin tokens pass through."""
    if has_persian(token):
        token = token.translate(_PERSIAN_LATIN)
        return (ascii_text(token) or "").lower()
    return token


@lru_cache(maxsize=65536)
def skeleton(token: str) -> str:
    """The consonant skeleton of one token, robust to vowel and digraph spelling."""
    latin = re.sub(r"[^a-z]", "", latinise(token).lower())
    for a, b in _DIGRAPHS:
        latin = latin.replace(a, b)
    latin = _SKELETON_DROP.sub("", latin)
    latin = re.sub(r"(.)\1+", r"\1", latin)
    return latin.lower()


def tokens(text: str) -> list[str]:
    return normalise(text).split()


def name_keys(names: list[str] | tuple[str, ...]) -> list[str]:
    """All search keys of a set of names, sorted and de-duplicated (stable for re-ingest)."""
    keys: set[str] = set()
    for name in names:
        toks = tokens(name)
        grams = list(toks) + [a + b for a, b in zip(toks, toks[1:])]
        for tok in grams:
            keys.add("t:" + tok)
            sk = skeleton(tok)
            if len(sk) >= 2:
                keys.add("k:" + sk)
    return sorted(keys)


def query_keys(text: str) -> list[str]:
    """The keys to look up for a search text (the same recipe as for stored names)."""
    return name_keys([text])
