"""Download the current official sanctions list and ingest it: ``accgraph fetch ofac|un``.

Each download is kept (Berkeley Protocol: preserve what was collected) in a folder of its
own, ``<downloads>/<list>/<YYYY-MM-DD>_<sha256 prefix>/``, with a ``fetch.json`` sidecar
recording the address(es) and the retrieval time; the reader takes the URL and the date
for the list's Source node from it. The downloads root is ``ACCGRAPH_DOWNLOADS`` or, by
default, a folder beside the database (``<db>.downloads``). Addresses are configurable
with ``--url`` or ``ACCGRAPH_OFAC_URL`` / ``ACCGRAPH_UN_URL``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from graph.config import beside_db
from graph.store import Store
from ingest.loader import LoadReport
from ingest.progress import Progress

MAX_BYTES = 500 * 1024 * 1024  # a list larger than this is not a list


@dataclass(frozen=True)
class ListSpec:
    name: str
    fmt: str
    env: str
    default_url: str
    main_file: str
    siblings: tuple[str, ...] = ()  # optional files beside the main one (same folder URL)


def _specs() -> dict[str, ListSpec]:
    from ingest.ofac import DEFAULT_URL as OFAC_URL
    from ingest.un_xml import DEFAULT_URL as UN_URL

    return {
        "ofac": ListSpec("ofac", "ofac-csv", "ACCGRAPH_OFAC_URL", OFAC_URL, "sdn.csv",
                         ("add.csv", "alt.csv", "sdn_comments.csv")),
        "un": ListSpec("un", "un-xml", "ACCGRAPH_UN_URL", UN_URL, "consolidated.xml"),
    }


LISTS = ("ofac", "un")


class FetchError(RuntimeError):
    """A download failed; the message says which address and why."""


def list_spec(name: str) -> ListSpec:
    specs = _specs()
    if name not in specs:
        raise FetchError(f"unknown list '{name}' (expected one of {', '.join(specs)})")
    return specs[name]


def resolve_url(spec: ListSpec, url: str | None) -> str:
    return url or os.environ.get(spec.env) or spec.default_url


def sibling_url(url: str, name: str) -> str:
    """The address of ``name`` in the same folder as ``url``, in the same letter case as
    the main file's name (OFAC serves ``SDN.CSV`` and ``ADD.CSV``)."""
    parts = urlsplit(url)
    path = parts.path
    folder, _, base = path.rpartition("/")
    if base.isupper():
        name = name.upper()
    return urlunsplit((parts.scheme, parts.netloc, f"{folder}/{name}", "", ""))


def downloads_root(store: Store | None) -> Path:
    return beside_db(store, ".downloads", "ACCGRAPH_DOWNLOADS", "downloads")


def _get(client: httpx.Client, url: str, dest: Path, *, optional: bool = False) -> str | None:
    """Stream ``url`` to ``dest``; returns its sha256, or None for a missing optional file."""
    try:
        with client.stream("GET", url) as resp:
            if resp.status_code == 404 and optional:
                return None
            if resp.status_code >= 400:
                raise FetchError(f"{url}: HTTP {resp.status_code}")
            h = hashlib.sha256()
            size = 0
            with dest.open("wb") as fh:
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if size > MAX_BYTES:
                        raise FetchError(f"{url}: larger than {MAX_BYTES} bytes")
                    h.update(chunk)
                    fh.write(chunk)
    except httpx.HTTPError as exc:
        raise FetchError(f"{url}: {exc}") from exc
    if size == 0:
        raise FetchError(f"{url}: empty response")
    return h.hexdigest()


def download(name: str, url: str | None = None, root: Path | None = None,
             timeout: float = 120.0) -> Path:
    """Download a list (and its side files) into its own kept folder; returns the folder."""
    spec = list_spec(name)
    main_url = resolve_url(spec, url)
    root = root or downloads_root(None)
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{spec.name}-", dir=root))
    now = _dt.datetime.now(_dt.UTC)
    try:
        urls: dict[str, str] = {}
        hashes: dict[str, str] = {}
        headers = {"User-Agent": "accountability-graph (sanctions list fetch)"}
        with httpx.Client(timeout=timeout, follow_redirects=True, headers=headers) as client:
            digest = _get(client, main_url, tmp / spec.main_file)
            assert digest is not None
            key = spec.main_file.split(".")[0]
            urls[key], hashes[spec.main_file] = main_url, digest
            for sib in spec.siblings:
                sib_url = sibling_url(main_url, sib)
                got = _get(client, sib_url, tmp / sib, optional=True)
                if got is not None:
                    short = {"sdn_comments.csv": "comments"}.get(sib, sib.split(".")[0])
                    urls[short], hashes[sib] = sib_url, got
        meta = {"list": spec.name, "url": main_url, "urls": urls, "sha256": hashes,
                "date": now.date().isoformat(), "retrieved_at": now.isoformat(timespec="seconds")}
        (tmp / "fetch.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        combined = hashlib.sha256("".join(sorted(hashes.values())).encode()).hexdigest()
        final = root / spec.name / f"{now.date().isoformat()}_{combined[:12]}"
        if final.exists():
            # the same bytes fetched the same day: keep the first copy (and its sidecar)
            shutil.rmtree(tmp)
        else:
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp.rename(final)
        return final
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def fetch_and_ingest(store: Store, name: str, url: str | None = None,
                     progress: Progress | None = None, root: Path | None = None,
                     timeout: float = 120.0) -> LoadReport:
    """Download the current list and ingest it (the usual report, plus where it was kept)."""
    from ingest.formats import ingest_path

    spec = list_spec(name)
    folder = download(name, url, root or downloads_root(store), timeout)
    report = ingest_path(store, spec.fmt, folder, progress)
    report.notes.append(f"downloaded from {resolve_url(spec, url)} into {folder}")
    return report
