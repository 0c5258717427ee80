"""The question commands end to end (real LadybugDB with the seed-facts graph): human output,
--json, and exit code 2 with a clear message for bad references and dates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app

runner = CliRunner()
TRC = "org:tehran-revolutionary-court"
HEAD = "person:mohseni-ejei-gholamhossein"


def run(db: Path, *args: str) -> tuple[int, str, str]:
    res = runner.invoke(app, ["--db", str(db), *args], env={"COLUMNS": "200"})
    if res.exception and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res.exit_code, res.stdout, res.stderr


def test_chain_tree_and_json(seed_db: Path) -> None:
    code, out, _ = run(seed_db, "chain", TRC, "--at", "2026-01")
    assert code == 0
    assert "Judiciary of the Islamic Republic of Iran" in out
    assert "Gholamhossein Mohseni-Ejei" in out and "DATES UNKNOWN" in out
    assert "2026-01-16" in out and "AI Index MDE 13/0614/2026" in out
    code, out, _ = run(seed_db, "chain", TRC, "--at", "2026-01", "--json")
    data = json.loads(out)
    assert data["organizations"][1]["heads"][0]["person"]["id"] == HEAD


def test_accountability_output(seed_db: Path) -> None:
    code, out, _ = run(seed_db, "accountability", "person:behrouz-ehsani")
    assert code == 0
    for text in ("trial court", "upheld the sentence", "place of execution",
                 "Qezel Hesar Prison", "Supreme Court of Iran", "superior"):
        assert text in out
    code, out, _ = run(seed_db, "accountability", "Behrouz Ehsani", "--json")
    assert code == 0 and json.loads(out)["subject"]["id"] == "person:behrouz-ehsani"


@pytest.mark.parametrize("args", [
    ["search", "محسني اژه اي"], ["search", "Mohseni Ejehi", "--kind", "Person"],
    ["linked", "org:judiciary-of-iran"], ["linked", "org:judiciary-of-iran", "--at", "2026"],
    ["gaps", "--authority", "EU"], ["path", "person:behrouz-ehsani", HEAD],
    ["path", "person:behrouz-ehsani", HEAD, "--at", "2025-07-27"],
    ["timeline", "person:behrouz-ehsani"], ["profile", HEAD],
    ["analyze", "degree"], ["analyze", "betweenness", "--kind", "Organization", "--kind", "Person"],
    ["analyze", "communities"],
    ["analyze", "brokers", "--group-a", "org:judiciary-of-iran", "--group-b", "org:irgc"],
])
def test_every_command_answers(seed_db: Path, args: list[str]) -> None:
    code, out, err = run(seed_db, *args)
    assert code == 0, err
    assert out.strip()
    code, out, err = run(seed_db, *args, "--json")
    assert code == 0, err
    assert isinstance(json.loads(out), dict)


def test_search_finds_head(seed_db: Path) -> None:
    for text in ("محسني اژه اي", "Mohseni Ejehi"):
        code, out, _ = run(seed_db, "search", text, "--json")
        assert json.loads(out)["hits"][0]["entity"]["id"] == HEAD


@pytest.mark.parametrize("args,message", [
    (["chain", "person:nobody-at-all", "--at", "2026"], "no entity matches"),
    (["chain", "Revolutionary Court", "--at", "2026"], "matches"),
    (["chain", TRC, "--at", "2026-13"], "month 13"),
    (["chain", TRC, "--at", "yesterday"], "not a date"),
    (["accountability", "incident:no-such-thing"], "no entity matches"),
    (["linked", "org:nope"], "no entity matches"),
    (["linked", TRC, "--at", "2026-02-30"], "day 30"),
    (["path", HEAD, "person:nobody"], "no entity matches"),
    (["timeline", "Nobody Zzyzx"], "no entity matches"),
    (["analyze", "pagerank"], "measure"),
    (["gaps", "--authority", " "], "authority"),
])
def test_bad_references_exit_2(seed_db: Path, args: list[str], message: str) -> None:
    code, out, err = run(seed_db, *args)
    assert code == 2
    assert message in err.replace("\n", " ")


def test_ambiguous_lists_candidates(seed_db: Path) -> None:
    code, _, err = run(seed_db, "chain", "Revolutionary Court", "--at", "2026")
    assert code == 2
    assert TRC in err and "org:rasht-revolutionary-court" in err


def test_gaps_shows_the_scan_progress(seed_db: Path) -> None:
    """The first gaps question scans every act (minutes at a million nodes): the command
    shows the tables read and the acts walked on stderr, and nothing with --quiet or
    --json (stdout keeps only the answer)."""
    code, out, err = run(seed_db, "gaps", "--authority", "EU")
    assert code == 0, err
    assert "gaps: reading the relation tables" in err and "15/15" in err
    assert "gaps: walking every act" in err
    assert "walking" not in out
    for quiet in (["--quiet"], ["--json"]):
        code, out, err = run(seed_db, "gaps", "--authority", "EU", *quiet)
        assert code == 0 and "walking" not in err + out
