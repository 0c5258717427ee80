"""Name keys must bring Persian and Latin spellings of one name together."""

from __future__ import annotations

import pytest

from graph.names import name_keys, normalise, normalise_persian, query_keys, skeleton

HEAD = ["Gholamhossein Mohseni-Ejei", "Gholamhossein Mohseni Eje'i", "غلامحسین محسنی اژه‌ای"]


def test_persian_folding() -> None:
    # Arabic yeh and kaf, tatweel, diacritics, zero-width non-joiner
    assert normalise_persian("علي") == "علی"
    assert normalise_persian("كاظم") == "کاظم"
    assert normalise_persian("محـــسنی") == "محسنی"
    assert normalise_persian("مُحسِنی") == "محسنی"
    assert normalise("اژه\u200cای") == normalise("اژه ای")


@pytest.mark.parametrize("query", ["محسني اژه اي", "Mohseni Ejehi", "Mohseni-Ejei", "Mohseni Eje'i",
                                   "Mohseni Ezhei", "Gholam-Hossein Mohseni", "gholamhossein"])
def test_variants_share_keys(query: str) -> None:
    assert set(query_keys(query)) & set(name_keys(HEAD))


def test_unrelated_names_share_no_skeleton() -> None:
    keys = {k for k in name_keys(HEAD) if k.startswith("k:")}
    assert not keys & set(query_keys("Zzyzx Testperson"))


def test_skeleton_is_spelling_robust() -> None:
    assert skeleton("Hossein") == skeleton("Hosein") == skeleton("Husein")
    assert skeleton("Mohseni") == skeleton("محسنی")


def test_keys_are_stable() -> None:
    assert name_keys(HEAD) == name_keys(list(reversed(HEAD)))
