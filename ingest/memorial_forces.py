"""The memorial archive's ``responsible_forces`` spellings, normalised to one organisation each.

The archive writes the same institution in many ways ("Islamic Revolutionary Tribunal",
"Islamic Revolutionary court", "Revolutionary Court"; "Intelligence Ministry", "Ministry of
Information", "Information Ministry"...), sometimes several in one field ("Revolutionary
Court, Security forces, Prison authorities (Evin)"). This table turns each part into one
organisation so that "every execution attributed to the revolutionary courts" is one query.

Rules (why it is shaped like this):
- A field is split on commas; each part is matched against ``RULES`` in order, first match
  wins. The original text is never thrown away: the reader keeps it on every claim's
  ``note`` and on the incident's notes, so a reader of the graph can always check the
  normalisation against the archive's own words.
- Courts named with a city ("Islamic Revolutionary Tribunal of Mashad", "Mashad Islamic
  Revolutionary Tribunal") become that city's court ("Mashhad Revolutionary Court"): a
  city's court is a different institution from the revolutionary-court system, and the
  city is stated by the archive. No hierarchy (PART_OF) is recorded: the archive states none.
- Persons ("Ayatollah Khalkhali"), vague words ("unknown", "firing squad", "armed men") and
  bodies too vague to identify are left unmatched (the text stays on the incident).
- Ids are the reader's own (``org:memorial-...``), so the memorial bundle is self-contained
  and never overwrites a row of the seed graph. Where the seed graph defines the same
  institution (``seed_id``), the reader adds a SAME_AS claim (method ``curated``, score 1.0)
  to it when the seed node is in the graph at load time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

ID_PREFIX = "org:memorial-"
JUDGED_AT = "2026-11-21"  # when this table's SAME_AS judgements were made


@dataclass(frozen=True)
class Force:
    """One organisation the archive holds responsible."""

    key: str  # the id is ``org:memorial-<key>``
    name: str
    kind: str  # one of graph.model.ORG_KINDS
    country: str | None = "IR"
    aliases: tuple[str, ...] = ()
    seed_id: str | None = None  # the same institution in ingest/seed_data/Organization.csv

    @property
    def id(self) -> str:
        return ID_PREFIX + self.key


def _f(key: str, name: str, kind: str, *aliases: str, seed: str | None = None,
       country: str | None = "IR") -> Force:
    return Force(key, name, kind, country, tuple(aliases), seed)


FORCES: dict[str, Force] = {f.key: f for f in (
    # Generic buckets, as the seed graph has them.
    _f("state-security-forces", "Iranian state security forces (unspecified)", "security_force",
       "Islamic Republic security forces", "Security forces",
       seed="org:iranian-state-security-forces"),
    _f("iranian-authorities", "Iranian authorities (unspecified)", "government",
       "Islamic Republic", "Islamic Republic of Iran", "Islamic Republic authorities",
       "Iranian government", seed="org:iranian-authorities"),
    # Judiciary and courts.
    _f("judiciary", "Judiciary of the Islamic Republic of Iran", "judiciary",
       "Islamic Republic judiciary", seed="org:judiciary-of-iran"),
    _f("revolutionary-courts", "Islamic Revolutionary Courts", "court",
       "Islamic Revolutionary Tribunal", "Islamic Revolutionary Court", "Revolutionary Court",
       "Islamic Revolutionary Tribunals"),
    _f("central-revolutionary-court", "Central Islamic Revolutionary Court", "court",
       "Central Islamic Revolutionary Tribunal", "Central Revolutionary Court"),
    _f("anti-narcotics-revolutionary-tribunal", "Islamic Revolutionary Tribunal (anti-narcotics)",
       "court", "Anti-Narcotics Islamic Revolutionary Tribunal",
       "Islamic Revolutionary Tribunal of Anti-Drug Campaign",
       "Islamic Revolutionary Anti-Drug Tribunal"),
    _f("army-revolutionary-tribunal", "Islamic Revolutionary Tribunal of the Army", "court",
       "Islamic Revolutionary Court of Tehran Army", "Islamic Revolutionary Court Martial",
       "Revolutionary Tribunal of the Islamic Republic of Iran Army"),
    _f("military-courts", "Military courts and prosecution", "court", "military court",
       "Army's Office of Prosecution"),
    _f("supreme-court", "Supreme Court of Iran", "court", "Supreme Court",
       seed="org:supreme-court-of-iran"),
    _f("revolutionary-prosecutor", "Islamic Revolutionary Prosecutor's Office",
       "prosecutor_office", "Islamic Revolutionary Prosecutor General's Office",
       "Central Islamic Revolutionary Prosecutor's Office",
       "Islamic Revolutionary Public Prosecution Office"),
    _f("anti-narcotics-prosecutor", "Anti-Narcotics Section of the Public Prosecutor's Office",
       "prosecutor_office", "Islamic Revolutionary Prosecution Office to Combat Drugs"),
    _f("public-prosecutor", "Public Prosecutor's Office", "prosecutor_office",
       "General Prosecutor's Office", "Islamic Republic Public Prosecution Office"),
    _f("ministry-of-justice", "Ministry of Justice", "government",
       "Ministry of Justice of Sistan Va Baluchestan", "provincial Ministry of Justice office"),
    # Security, intelligence, military, police.
    _f("irgc", "Islamic Revolutionary Guard Corps (IRGC)", "military", "IRGC",
       "Revolutionary Guards", "Islamic Revolutionary Guards Corps", "Pasdaran",
       seed="org:irgc"),
    _f("irgc-intelligence", "IRGC Intelligence", "intelligence", "IRGC intelligence",
       "Intelligence Office of Revolutionary Guards",
       "Intelligence Branch of the Revolutionary Guards"),
    _f("quds-force", "IRGC Quds Force", "military", "Quds Force"),
    _f("basij", "Basij", "security_force", "Basij Resistance Force", "Basiji", "Bassij"),
    _f("intelligence-ministry", "Ministry of Intelligence of the Islamic Republic of Iran",
       "intelligence", "Intelligence Ministry", "Ministry of Information", "Information Ministry",
       "Ministry of Intelligence", "MOIS", "Ettela'at"),
    _f("police", "Police of the Islamic Republic of Iran", "police", "Police",
       "Law Enforcement Force", "Iran Police", "NAJA", "FARAJA"),
    _f("intelligence-police", "Intelligence Police", "police", "Intelligence Police",
       "Intelligence Deputy of the Security Forces"),
    _f("morality-police", "Morality police (Gasht-e Ershad)", "police", "morality police",
       "Guidance Patrol", "Gasht-e Ershad"),
    _f("anti-narcotics-police", "Anti-narcotics police", "police", "Narcotics Combat Police"),
    _f("drug-control-headquarters", "Drug Control Headquarters", "government",
       "Headquarters for Combatting Narcotic Drugs", "Center for Combating Narcotics"),
    _f("revolutionary-committees", "Islamic Revolutionary Committees (Komiteh)",
       "security_force", "Islamic Revolutionary Committee", "Revolutionary Committee",
       "Komiteh"),
    _f("army", "Islamic Republic of Iran Army (Artesh)", "military", "Iranian army", "Artesh"),
    _f("savak", "SAVAK", "intelligence", "Savak"),
    _f("death-commissions-1988", "1988 death commissions", "other", "Death Commissions"),
    # Prisons.
    _f("prison-authorities", "Iranian prison authorities (unspecified)", "prison",
       "Prison authorities"),
    _f("evin-prison", "Evin Prison", "prison", "Evin"),
    _f("gohardasht-prison", "Gohardasht Prison", "prison", "Gohardasht", "Rajaei Shahr Prison"),
    _f("gharchak-prison", "Gharchak Prison", "prison", "Gharchak"),
    _f("tabriz-central-prison", "Tabriz Central Prison", "prison"),
    _f("lakan-prison", "Lakan Prison (Rasht)", "prison", "Lakan Prison Rasht"),
    _f("nowshahr-central-prison", "Nowshahr Central Prison", "prison"),
    _f("yasuj-central-prison", "Yasuj Central Prison", "prison", "Yassuj Central Prison"),
    _f("kahrizak-detention-centre", "Kahrizak Detention Centre", "detention_centre",
       "Kahrizak prison", "Kahrizak Detention Center"),
    _f("qezel-hesar-prison", "Qezel Hesar Prison", "prison", "Ghezel Hesar",
       seed="org:qezel-hesar-prison"),
    # State media and other bodies the archive names.
    _f("irna", "Islamic Republic News Agency (IRNA)", "media", "IRNA",
       "Islamic Republic News Agency"),
    _f("kayhan", "Kayhan", "media"),
    _f("ministry-of-culture", "Ministry of Culture", "government"),
    # Non-state armed and political groups the archive holds responsible.
    _f("pmoi", "People's Mojahedin Organization of Iran (PMOI/MEK)", "political_group",
       "PMOI", "PMIO", "MEK", "MKO", "People's Mojahedin of Iran Organization",
       "Mojahedin Khalq Organization", seed="org:pmoi-mek"),
    _f("islamic-jihad-organization", "Islamic Jihad Organization", "political_group",
       "Islamic Jihad", country=None),
    _f("hezbollah", "Hezbollah", "political_group", country=None),
    _f("kdpi", "Democratic Party of Iranian Kurdistan (KDPI)", "political_group",
       "Kurdistan Democratic Party", "Democratic Party of Kurdistan of Iran", "HADKA",
       country=None),
    _f("komala", "Komala", "political_group", country=None),
    _f("fadaiyan-khalq", "Fadaiyan Khalq Organization", "political_group",
       "Fedaiyan Khalq", country=None),
    _f("fadaiyan-khalq-minority", "Fadaiyan Khalq Minority Organization", "political_group",
       country=None),
    _f("peykar", "Peykar Organization for the Liberation of the Working Class",
       "political_group", country=None),
    _f("tudeh-party", "Tudeh Party of Iran", "political_group", "Tudeh Party", country=None),
    _f("jundallah", "Jundallah", "political_group", "Jondallah", country=None),
    _f("jaish-al-adl", "Jaish al-Adl", "political_group", "Jeish-al-Adl", country=None),
    _f("pjak", "Kurdistan Free Life Party (PJAK)", "political_group", "PJAK", country=None),
    _f("al-qaeda", "Al-Qaeda", "political_group", country=None),
    _f("islamic-movement-of-iraqi-kurdistan", "Islamic Movement of Iraqi Kurdistan",
       "political_group", country=None),
    _f("namir", "National Movement of the Iranian Resistance", "political_group",
       country=None),
    _f("iraqi-forces", "Iraqi armed forces", "military", "Iraqi forces", country="IQ"),
)}

# Spelling variants of cities (slug -> display form) used when a court names its city.
_CITY = {
    "mashad": "Mashhad", "mashhad": "Mashhad", "orumieh": "Urmia", "urumiyeh": "Urmia",
    "urmia": "Urmia", "esfahan": "Isfahan", "isfahan": "Isfahan", "esfehan": "Isfahan",
    "sary": "Sari", "sari": "Sari", "hamedan": "Hamadan", "hamadan": "Hamadan",
    "qaemshahr": "Qaemshahr", "qa-em-shahr": "Qaemshahr", "qaem-shahr": "Qaemshahr",
    "bandarabbas": "Bandar Abbas", "bandar-abbas": "Bandar Abbas",
    "boroujerd": "Borujerd", "borujerd": "Borujerd", "masjedsoleiman": "Masjed Soleyman",
    "masjed-soleyman": "Masjed Soleyman", "khoramabad": "Khorramabad",
    "khorramabad": "Khorramabad", "kordestan": "Kurdistan", "kurdistan": "Kurdistan",
    "sistan-va-baluchestan": "Sistan and Baluchestan",
    "sistan-and-baluchestan": "Sistan and Baluchestan",
    "sistan-and-baluchistan": "Sistan and Baluchestan",
    "sistan-va-baluchistan": "Sistan and Baluchestan",
}
_NOT_CITIES = {"islamic", "special", "central", "the", "anti", "islamic-republic"}
# Courts of these cities are in the seed graph.
_SEED_COURTS = {
    "tehran": "org:tehran-revolutionary-court",
    "ahvaz": "org:ahvaz-revolutionary-court",
    "rasht": "org:rasht-revolutionary-court",
}

_SLUG = re.compile(r"[^a-z0-9]+")


def _slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")


def _city(text: str) -> str | None:
    """A city named in a court's name, in one spelling per city (None if it is no city)."""
    text = re.sub(r"\b(province|provincial|the|islamic republic|iran)\b", " ", text, flags=re.IGNORECASE)
    text = re.sub(r"[’'`]s\b|\bs\b", " ", text)
    text = re.sub(r"\s+", " ", text).strip(" ,.-")
    if not text or len(text) > 40 or re.search(r"\d|army|drug|narcotic|campaign", text, re.IGNORECASE):
        return None
    slug = _slug(text)
    if slug in _NOT_CITIES:
        return None
    if slug in _CITY:
        return _CITY[slug]
    return " ".join(w[:1].upper() + w[1:] for w in text.split())


_COURT_TYPES = {
    "revolutionary": ("revolutionary-court", "Revolutionary Court"),
    "criminal": ("criminal-court", "Criminal Court"),
    "public": ("public-court", "Public Court"),
    "courthouse": ("courthouse", "Courthouse"),
}


def _city_court(city: str, court_type: str) -> Force:
    suffix_key, suffix_name = _COURT_TYPES[court_type]
    key = f"{_slug(city)}-{suffix_key}"
    seed = _SEED_COURTS.get(_slug(city)) if court_type == "revolutionary" else None
    return Force(key, f"{city} {suffix_name}", "court", "IR", (), seed)


_REV = r"(?:islamic\s+)?revolution(?:ary|'s|’s|\s+s)?\s+(?:court|tribunal)s?"
_REV_CITY_AFTER = re.compile(rf"^{_REV}\s+(?:of|in)\s+(?P<city>.+)$", re.IGNORECASE)
_REV_CITY_BEFORE = re.compile(rf"^(?P<city>.+?)\s+{_REV}$", re.IGNORECASE)
_BRANCH_CITY = re.compile(rf"^branch\s+\d+\s+{_REV}\s+(?:of|in)\s+(?P<city>.+)$", re.IGNORECASE)
_OTHER_COURT = re.compile(
    r"^(?:(?P<city1>.+?)\s+(?:province\s+)?(?P<t1>criminal|public)\s+court(?:\s+two)?"
    r"|(?:provincial\s+)?(?P<t2>criminal|public|general)\s+court\s+(?:of|in)\s+(?P<city2>.+)"
    r"|branch\s+\d+\s+of\s+the\s+(?:public\s+and\s+)?(?P<t3>criminal)\s+court\s+in\s+(?P<city3>.+)"
    r"|branch\s+\d+\s+of\s+the\s+public\s+and\s+(?P<t4>criminal)\s+court\s+of\s+(?P<city4>.+)"
    r"|(?P<city5>.+?)\s+(?:provincial\s+|general\s+)?(?P<t5>courthouse))$", re.IGNORECASE)


def _court_with_city(part: str) -> Force | None:
    for pattern in (_BRANCH_CITY, _REV_CITY_AFTER, _REV_CITY_BEFORE):
        m = pattern.match(part)
        if m:
            city = _city(m.group("city"))
            if city:
                return _city_court(city, "revolutionary")
            return None
    m = _OTHER_COURT.match(part)
    if m:
        groups = m.groupdict()
        for i in range(1, 6):
            city = groups.get(f"city{i}")
            if city:
                typ = (groups.get(f"t{i}") or "courthouse").lower()
                typ = "public" if typ == "general" else typ
                name = _city(city)
                return _city_court(name, typ) if name else None
    return None


Rule = tuple[re.Pattern[str], str]


def _r(pattern: str, key: str) -> Rule:
    assert key in FORCES, key
    return re.compile(pattern, re.IGNORECASE), key


# Ordered: the first rule whose pattern is found in a part wins; city courts are tried
# between PRE_RULES and RULES.
PRE_RULES: list[Rule] = [
    _r(r"death commission", "death-commissions-1988"),
    _r(r"quds force", "quds-force"),
    _r(r"(irgc|revolutionary guards?)\W.{0,20}(intelligence|information)"
       r"|(intelligence|information) (office|branch|sector|agency) of (the )?revolutionary guards"
       r"|^revolutionary guards information|irgc information", "irgc-intelligence"),
    _r(r"anti-?\s?narcotics?\s+section|prosecut\w*.{0,40}(drug|narcotic)"
       r"|(drug|narcotic).{0,40}prosecut", "anti-narcotics-prosecutor"),
    _r(r"revolution\w*.{0,30}(court|tribunal).{0,40}(drug|narcotic)"
       r"|(anti-?\s?drug|anti-?\s?narcotic)\w*\s+(islamic\s+)?revolution\w*\s+(court|tribunal)"
       r"|revolution\w*\s+anti-?drug\s+tribunal", "anti-narcotics-revolutionary-tribunal"),
    _r(r"revolution\w*\s+(court|tribunal)\w*.{0,40}\barmy\b|court martial",
       "army-revolutionary-tribunal"),
    _r(r"^military court|army.s office of prosecution", "military-courts"),
    _r(r"revolution\w*('s|’s|\s+s)?\s+(?:\w+\s+){0,3}prosecut|revolutionary public prosecut"
       r"|revolutionary prosecution", "revolutionary-prosecutor"),
    _r(r"central\s+(islamic\s+)?revolutionary\s+(court|tribunal)", "central-revolutionary-court"),
    _r(r"^(islamic\s+)?revolutionary\s+(court|tribunal)s?\s+of\s+(iran|the islamic republic)$",
       "revolutionary-courts"),
    _r(rf"^(special\s+)?{_REV}$", "revolutionary-courts"),
]

RULES: list[Rule] = [
    _r(rf"^(special\s+)?{_REV}$|^islamic revolutionary courts?$|^islamic revolutionary tribunals?$",
       "revolutionary-courts"),
    _r(r"supreme court", "supreme-court"),
    _r(r"judiciary police|judicial police", "police"),
    _r(r"intelligen\w*\s+police|intelligence deputy of the security forces"
       r"|police force of intelligence", "intelligence-police"),
    _r(r"ministry of (intelligence|information)|(intelligence|information) ministry"
       r"|minister of information|information administration|intelligence (office|department)"
       r"|information office|intelligence security office|^intelligence office$",
       "intelligence-ministry"),
    _r(r"morality police|gasht-e ershad|guidance patrol", "morality-police"),
    _r(r"drug control headquarters|headquarters for combatt?ing|center for combatt?ing narcotics"
       r"|narcotics administration", "drug-control-headquarters"),
    _r(r"narcotics? combat police|drug enforcement|anti[- ]?narcotics (agents|security forces)",
       "anti-narcotics-police"),
    _r(r"committee guards|revolution\w*('s|’s|\s+s)?\s+committee|revolutionary committee"
       r"|\bkomiteh\b|^(tehran|karaj) committee$", "revolutionary-committees"),
    _r(r"\bbass?iji?\b|student basij", "basij"),
    _r(r"\birgc\b|revolutionary guard|revolution guards|\bpasdar|guardians of the revolution"
       r"|islamic revolution.s revolutionary guards", "irgc"),
    _r(r"\bsavak\b", "savak"),
    _r(r"\bpolice\b|law enforcement|precinct|criminal investigations? (police|bureau|department)"
       r"|crime investigation unit|criminal intelligence police|riot guards|anti-riot"
       r"|border patrol|homicide branch|criminal investigations$", "police"),
    _r(r"prosecut", "public-prosecutor"),
    _r(r"ministry of justice", "ministry-of-justice"),
    _r(r"judiciary|judicial authorities", "judiciary"),
    _r(r"qezel ?hesar|ghezel ?hesar", "qezel-hesar-prison"),
    _r(r"\bevin\b", "evin-prison"),
    _r(r"gohardasht|rajaei ?shahr", "gohardasht-prison"),
    _r(r"gharchak", "gharchak-prison"),
    _r(r"tabriz central prison", "tabriz-central-prison"),
    _r(r"lakan prison", "lakan-prison"),
    _r(r"nowshahr central prison", "nowshahr-central-prison"),
    _r(r"yass?uj central prison", "yasuj-central-prison"),
    _r(r"kahrizak", "kahrizak-detention-centre"),
    _r(r"prison (authorities|officials|system)|\bprisons\b", "prison-authorities"),
    _r(r"\birna\b|islamic republic news agency|iranian national news agency", "irna"),
    _r(r"^kayhan$", "kayhan"),
    _r(r"^ministry of culture$", "ministry-of-culture"),
    _r(r"\bpmoi\b|\bpmio\b|\bmko\b|\bmek\b|mojahedin|mujahedin", "pmoi"),
    _r(r"^islamic jihad", "islamic-jihad-organization"),
    _r(r"^hezbollah$", "hezbollah"),
    _r(r"kurdistan democratic party|democratic party of (iranian )?kurdistan|\bhadka\b", "kdpi"),
    _r(r"^komala", "komala"),
    _r(r"fadaiyan khalq minority|fedaiyan khalq minority", "fadaiyan-khalq-minority"),
    _r(r"fadaiyan|fedaiyan", "fadaiyan-khalq"),
    _r(r"peykar", "peykar"),
    _r(r"tudeh", "tudeh-party"),
    _r(r"jondallah|jundallah", "jundallah"),
    _r(r"jeish-?al-?adl|jaish[- ]?(ul|al)-?adl", "jaish-al-adl"),
    _r(r"\bpjak\b", "pjak"),
    _r(r"al-?qaeda", "al-qaeda"),
    _r(r"islamic movement of iraqi kurdistan", "islamic-movement-of-iraqi-kurdistan"),
    _r(r"national movement of the iranian resistance", "namir"),
    _r(r"^iraqi forces$", "iraqi-forces"),
    _r(r"^(iranian army|security intelligence of the islamic republic army)$", "army"),
    _r(r"security forces|security agents|security officials|security officers|^security force$"
       r"|security authorities|security and information officers|security and police forces"
       r"|security district|state forces|government forces|military forces|armed forces"
       r"|paramilitary forces|plainclothes|^official (armed )?agents$|intelligence officials"
       r"|iranian military", "state-security-forces"),
    _r(r"^(the\s+)?(islamic republic( of iran)?|iran|iranian|government( of iran)?"
       r"|central government|government agents)(\W*s)?(\s+(authorities|government|regime))?$",
       "iranian-authorities"),
]


@dataclass
class Normalised:
    """What one ``responsible_forces`` text names: organisations and unmatched parts."""

    forces: list[Force] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)


def _clean(part: str) -> str:
    part = part.replace("\u2019", "'").replace("\u2018", "'")
    part = re.sub(r"\s+", " ", part).strip(" .;:-—")
    return part


def _parts(raw: str) -> list[str]:
    text = raw.split(" — named:", 1)[0]  # "IRGC, Basij — named: <persons>": persons unmatched
    return [p for p in (_clean(x) for x in text.split(",")) if p]


def match_part(part: str) -> Force | None:
    """The organisation one comma-separated part names, or None."""
    for pattern, key in PRE_RULES:
        if pattern.search(part):
            return FORCES[key]
    court = _court_with_city(part)
    if court is not None:
        return court
    for pattern, key in RULES:
        if pattern.search(part):
            return FORCES[key]
    bare = re.sub(r"\s*\([^)]*\)", "", part).strip()
    if bare and bare != part:  # "Revolutionary Court (Judge ...)": the body without the person
        return match_part(bare)
    return None


_CACHE: dict[str, Normalised] = {}


def normalise(raw: str) -> Normalised:
    """Split a ``responsible_forces`` text into organisations (deduplicated, in order)."""
    hit = _CACHE.get(raw)
    if hit is not None:
        return hit
    out = Normalised()
    seen: set[str] = set()
    for part in _parts(raw):
        force = match_part(part)
        if force is None:
            out.unmatched.append(part)
        elif force.key not in seen:
            seen.add(force.key)
            out.forces.append(force)
    if " — named:" in raw:
        out.unmatched.append("named: " + raw.split(" — named:", 1)[1].strip())
    if len(_CACHE) < 100_000:
        _CACHE[raw] = out
    return out


Matcher = Callable[[str], Force | None]
