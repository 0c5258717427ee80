"""``accgraph fetch``: downloads from a real HTTP server on 127.0.0.1 (serving synthetic
files, and the provided real files when ../shared/data is present), keeps each download
with its sidecar, and ingests it; a second fetch of the same bytes changes nothing."""

from __future__ import annotations

import functools
import json
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from graph.embedded import EmbeddedStore
from ingest.fetch import FetchError, download, fetch_and_ingest, sibling_url
from tests.ingest.test_ofac import write_ofac_set
from tests.ingest.test_un_xml import write_un


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep test output clean
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_Quiet, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


def test_sibling_url_keeps_case() -> None:
    assert sibling_url("https://x.test/a/SDN.CSV", "alt.csv") == "https://x.test/a/ALT.CSV"
    assert sibling_url("http://h/p/sdn.csv?x=1", "add.csv") == "http://h/p/add.csv"


def test_fetch_ofac_from_local_server(served: tuple[str, Path], tmp_path: Path,
                                      store: EmbeddedStore) -> None:
    base, root = served
    write_ofac_set(root / "ofac")
    (root / "ofac" / "sdn_comments.csv").unlink()  # optional side files may be missing
    downloads = tmp_path / "downloads"
    report = fetch_and_ingest(store, "ofac", f"{base}/ofac/sdn.csv", root=downloads)
    assert report.written and report.counts["Person"]["added"] == 2
    [folder] = list((downloads / "ofac").iterdir())
    meta = json.loads((folder / "fetch.json").read_text())
    assert meta["urls"]["sdn"] == f"{base}/ofac/sdn.csv" and "comments" not in meta["urls"]
    assert (folder / "sdn.csv").read_bytes() == (root / "ofac" / "sdn.csv").read_bytes()
    src_id = store.get_nodes(["person:ofac-90001"])["person:ofac-90001"].props["source_ids"][0]
    src = store.get_nodes([src_id])[src_id].props
    assert src["url"] == f"{base}/ofac/sdn.csv" and src["date"] == meta["date"]
    again = fetch_and_ingest(store, "ofac", f"{base}/ofac/sdn.csv", root=downloads)
    assert not again.written and again.total("added") == again.total("updated") == 0
    assert len(list((downloads / "ofac").iterdir())) == 1


def test_fetch_un_with_env_url_and_errors(served: tuple[str, Path], tmp_path: Path,
                                          store: EmbeddedStore,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    base, root = served
    write_un(root / "consolidated.xml")
    monkeypatch.setenv("ACCGRAPH_UN_URL", f"{base}/consolidated.xml")
    report = fetch_and_ingest(store, "un", None, root=tmp_path / "dl")
    assert report.counts["Person"]["added"] == 2
    with pytest.raises(FetchError, match="HTTP 404"):
        download("un", f"{base}/missing.xml", tmp_path / "dl")
    with pytest.raises(FetchError):
        download("un", "http://127.0.0.1:9/closed.xml", tmp_path / "dl", timeout=2)
    assert not any(p.name.startswith(".") for p in (tmp_path / "dl").iterdir())


def test_cli_fetch(served: tuple[str, Path], tmp_path: Path) -> None:
    base, root = served
    write_ofac_set(root / "ofac")
    db = tmp_path / "g.lbdb"
    result = CliRunner().invoke(app, ["--db", str(db), "fetch", "ofac", "--url",
                                      f"{base}/ofac/sdn.csv", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["rejected"] == 4 and data["added"] > 0
    assert (tmp_path / "g.lbdb.downloads" / "ofac").is_dir()
    bad = CliRunner().invoke(app, ["--db", str(db), "fetch", "ofac", "--url",
                                   f"{base}/nothing/sdn.csv"])
    assert bad.exit_code == 1 and "download failed" in bad.output
    assert CliRunner().invoke(app, ["--db", str(db), "fetch", "eu"]).exit_code == 2


@pytest.mark.shared_data
def test_fetch_real_un_list_from_local_server(shared_data: Path, served: tuple[str, Path],
                                              tmp_path: Path, store: EmbeddedStore) -> None:
    base, root = served
    shutil.copy(shared_data / "un" / "UN_consolidated_2026-02-27.xml", root / "consolidated.xml")
    report = fetch_and_ingest(store, "un", f"{base}/consolidated.xml", root=tmp_path / "dl")
    assert report.rejected == [] and report.counts["Person"]["added"] == 730
