"""The dossier: an accountability or chain-of-command answer as a document for a court file
(HTML, and PDF through weasyprint).

Every statement in it is a claim of the answer, numbered and footnoted with its sources
(title, publisher, date, reference, URL); an unsourced claim is marked UNSOURCED and a claim
whose dates cannot decide the question's date is marked DATES UNKNOWN, never shown as
certain. The posts of every person are given with their dates, the sanctions status of
every person per authority, and a picture of the chain drawn as inline SVG (no script, no
network), so the document prints as it is shown.

A dossier records when (UTC), from which database, by which software version and for which
question (reference, date) it was produced, with the sha256 of the answer data it shows.
That data is embedded in the HTML (``<script type="application/json" id="dossier-data">``)
and attached to the PDF (``dossier-data.json``), so anyone can recompute the hash:
``sha256(json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")))``.

The dossier is rendered from the answers' ``model_dump()`` (plain dicts, read with
``.get``), so small changes to the answer models do not break it.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from exports.snapshot import software_version, store_location
from graph.schema import UNSOURCED_EXEMPT
from graph.store import Store

TEMPLATES = Path(__file__).resolve().parent / "templates"
AUTHORITIES = ("OFAC", "EU", "UK", "UN", "CA", "AU")

# How a claim of each type reads as a sentence: "<from> <verb> <to>".
VERBS = {
    "HOLDS": "held the post of",
    "POSITION_IN": "is a post in",
    "MEMBER_OF": "was a member of",
    "PART_OF": "was part of",
    "AFFILIATED_WITH": "was affiliated with",
    "DEFENDANT_IN": "was the defendant in",
    "JUDGE_IN": "was a judge in",
    "PROSECUTOR_IN": "was a prosecutor in",
    "HEARD_BY": "was heard by",
    "UPHELD_BY": "was upheld by",
    "VICTIM_OF": "was a victim of",
    "PERPETRATED_BY": "was perpetrated by",
    "OCCURRED_AT": "occurred at",
    "RESULT_OF": "resulted from",
    "PART_OF_EVENT": "was part of the event",
    "DETAINED_AT": "was detained at",
    "LOCATED_IN": "is located in",
    "TARGETS": "targets",
    "SIGNED": "signed",
    "SAME_AS": "is judged the same as",
    "MENTIONED_IN": "is mentioned in",
}
KIND_COLOURS = {
    "Person": "#fde2e1", "Organization": "#dde8fb", "Position": "#e6f4ea", "Case": "#fff4d6",
    "Incident": "#f3e1f7", "Location": "#eeeeee", "Sanction": "#ffe9cc", "Source": "#f5f5f5",
}


class DossierError(ValueError):
    """The dossier cannot be made as asked (wrong kind of entity, no date...)."""


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- the view: statements, footnotes, sources ---------------------------------------------


@dataclass
class View:
    """What the template shows; built from the answer dicts."""

    question: dict[str, Any]
    produced: dict[str, Any]
    subject: dict[str, Any]
    kind: str  # "accountability" or "chain"
    statements: list[dict[str, Any]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    sections: dict[str, Any] = field(default_factory=dict)
    svg: str = ""
    data_json: str = ""

    _claim_no: dict[str, int] = field(default_factory=dict)
    _source_no: dict[str, int] = field(default_factory=dict)

    def source_no(self, src: dict[str, Any]) -> int:
        sid = str(src.get("id"))
        if sid not in self._source_no:
            self._source_no[sid] = len(self.sources) + 1
            self.sources.append({"no": self._source_no[sid], **src})
        return self._source_no[sid]

    def statement(self, claim: dict[str, Any] | None) -> int | None:
        """The footnote number of a claim (one per distinct claim; reused when repeated)."""
        if not claim:
            return None
        key = f"{claim.get('type')}/{claim.get('id')}/{claim.get('from_id')}/{claim.get('to_id')}"
        if key in self._claim_no:
            # a claim repeated at another date may carry another status: keep the worst
            prior = self.statements[self._claim_no[key] - 1]
            if claim.get("status") == "dates_unknown":
                prior["status"] = "dates_unknown"
            return self._claim_no[key]
        no = len(self.statements) + 1
        self._claim_no[key] = no
        srcs = [s for s in claim.get("sources") or [] if s]
        known = {str(s.get("id")) for s in srcs}
        for sid in claim.get("source_ids") or []:
            if sid not in known:  # cited but not resolvable: still listed, marked missing
                srcs.append({"id": sid, "missing": True})
        self.statements.append({
            "no": no,
            "claim": claim,
            "text": sentence(claim),
            "dates": dates_text(claim),
            "confidence": claim.get("confidence") or "unknown",
            "status": claim.get("status"),
            "unsourced": bool(claim.get("unsourced")) or (
                not srcs and claim.get("type") not in UNSOURCED_EXEMPT),
            "note": claim.get("note"),
            "source_nos": [self.source_no(s) for s in srcs],
            "attested": claim.get("attested") or [],
        })
        return no

    def path(self, claims: list[dict[str, Any]] | None) -> list[int]:
        return [n for n in (self.statement(c) for c in claims or []) if n is not None]


def _name(claim: dict[str, Any], end: str) -> str:
    return str(claim.get(f"{end}_name") or claim.get(f"{end}_id") or "?")


def sentence(claim: dict[str, Any]) -> str:
    verb = VERBS.get(str(claim.get("type")), str(claim.get("type", "")).lower().replace("_", " "))
    text = f"{_name(claim, 'from')} {verb} {_name(claim, 'to')}"
    role = claim.get("role")
    if role:
        text += f" (role: {role})"
    extra = claim.get("extra") or {}
    bits = [f"{k}: {v}" for k, v in sorted(extra.items()) if v not in (None, "", [])]
    if bits:
        text += f" ({'; '.join(bits)})"
    return text


def dates_text(claim: dict[str, Any]) -> str:
    start, end = claim.get("valid_from"), claim.get("valid_to")
    if not start and not end:
        return "dates not stated"
    left = f"from {start}" if start else "start not stated"
    if end == "open":
        right = "still holding when the source was written"
    elif end:
        right = f"to {end}"
    else:
        right = "end not stated"
    return f"{left}, {right}"


def sanctions_rows(sanctions: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One row per authority: listed (with its designations), delisted, or none recorded."""
    sanctions = sanctions or {}
    authorities = list(AUTHORITIES) + sorted(a for a in sanctions if a not in AUTHORITIES)
    rows = []
    for auth in authorities:
        items = sanctions.get(auth) or []
        if not items:
            status = "none recorded"
        elif any(i.get("active", True) for i in items):
            status = "listed"
        else:
            status = "delisted"
        rows.append({"authority": auth, "status": status, "items": items})
    return rows


# -- the chain picture ---------------------------------------------------------------------


def chain_svg(root: str, claims: list[dict[str, Any]], names: dict[str, tuple[str, str]],
              statement_nos: dict[str, int]) -> str:
    """A layered drawing: the subject at the bottom, each row one step further up the chain.

    Boxes are coloured by node kind; edges carry the relation and its footnote number;
    dashed edges are claims whose dates cannot decide the date asked, red ones unsourced.
    """
    adj: dict[str, set[str]] = defaultdict(set)
    edges: dict[tuple[str, str, str], dict[str, Any]] = {}
    for c in claims:
        a, b = str(c.get("from_id")), str(c.get("to_id"))
        key = (a, b, str(c.get("type")))
        if key not in edges:
            edges[key] = c
        adj[a].add(b)
        adj[b].add(a)
    if root not in adj:
        adj[root] = set()
    layer = {root: 0}
    frontier = [root]
    while frontier:
        nxt = []
        for n in sorted(frontier):
            for m in sorted(adj[n]):
                if m not in layer:
                    layer[m] = layer[n] + 1
                    nxt.append(m)
        frontier = nxt
    rows: dict[int, list[str]] = defaultdict(list)
    for n, lv in layer.items():
        rows[lv].append(n)
    for members in rows.values():
        members.sort(key=lambda n: (names.get(n, ("", n))[0], n))
    box_w, box_h, gap_x, gap_y, pad = 190, 46, 24, 70, 20
    widest = max(len(r) for r in rows.values())
    width = pad * 2 + widest * box_w + (widest - 1) * gap_x
    depth = max(rows) + 1
    height = pad * 2 + depth * box_h + (depth - 1) * gap_y
    pos: dict[str, tuple[float, float]] = {}
    for lv, members in rows.items():
        row_w = len(members) * box_w + (len(members) - 1) * gap_x
        x0 = (width - row_w) / 2
        y = height - pad - box_h - lv * (box_h + gap_y)
        for i, n in enumerate(members):
            pos[n] = (x0 + i * (box_w + gap_x), y)

    def clip(text: str, n: int) -> str:
        return text if len(text) <= n else text[: n - 1] + "…"

    out = [(f'<svg xmlns="http://www.w3.org/2000/svg" class="chain" role="img" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
            f'height="{height:.0f}" font-family="DejaVu Sans, Noto Sans, sans-serif" '
            'font-size="11">'),
           '<title>Chain picture</title>',
           ('<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
            'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
            'fill="#555"/></marker></defs>')]
    drawn = 0
    for (a, b, typ), c in sorted(edges.items()):
        if a not in pos or b not in pos:
            continue
        (ax, ay), (bx, by) = pos[a], pos[b]
        x1, y1 = ax + box_w / 2, ay + (0 if by < ay else box_h if by > ay else box_h / 2)
        x2, y2 = bx + box_w / 2, by + (box_h if by < ay else 0 if by > ay else box_h / 2)
        unsourced = bool(c.get("unsourced")) or not (c.get("source_ids") or c.get("sources"))
        colour = "#c62828" if unsourced else "#555"
        dash = ' stroke-dasharray="5,4"' if c.get("status") == "dates_unknown" else ""
        out.append(f'<line x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}" '
                   f'stroke="{colour}" stroke-width="1.4"{dash} marker-end="url(#arrow)"/>')
        no = statement_nos.get(f"{typ}/{c.get('id')}/{a}/{b}")
        label = typ + (f" [{no}]" if no else "")
        # labels of neighbouring edges alternate along the line so they do not overlap
        t = 0.35 if drawn % 2 else 0.6
        drawn += 1
        out.append(f'<text x="{x1 + (x2 - x1) * t + 4:.0f}" y="{y1 + (y2 - y1) * t:.0f}" '
                   f'fill="{colour}" font-size="9">{escape(label)}</text>')
    for n, (bx0, by0) in sorted(pos.items()):
        name, kind = names.get(n, (n, "?"))
        fill = KIND_COLOURS.get(kind, "#ffffff")
        stroke = ' stroke-width="2.5"' if n == root else ' stroke-width="1"'
        out.append(f'<rect x="{bx0:.0f}" y="{by0:.0f}" width="{box_w}" height="{box_h}" rx="6" '
                   f'fill="{fill}" stroke="#333"{stroke}/>')
        out.append(f'<text x="{bx0 + 8:.0f}" y="{by0 + 19:.0f}" font-weight="bold">'
                   f'{escape(clip(name, 30))}</text>')
        out.append(f'<text x="{bx0 + 8:.0f}" y="{by0 + 36:.0f}" fill="#555" font-size="9">'
                   f'{escape(kind)} · {escape(clip(n, 32))}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _collect_names(obj: Any, names: dict[str, tuple[str, str]]) -> None:
    """Every entity and claim end named anywhere in the answer: id -> (name, kind)."""
    if isinstance(obj, dict):
        if "id" in obj and "kind" in obj and isinstance(obj.get("id"), str):
            names.setdefault(obj["id"], (str(obj.get("name") or obj["id"]), str(obj["kind"])))
        if "from_id" in obj and "to_id" in obj:
            from graph.model import kind_of_id

            for end in ("from", "to"):
                i = str(obj.get(f"{end}_id"))
                names.setdefault(i, (str(obj.get(f"{end}_name") or i), kind_of_id(i) or "?"))
        for v in obj.values():
            _collect_names(v, names)
    elif isinstance(obj, list):
        for v in obj:
            _collect_names(v, names)


# -- building the two kinds of dossier ------------------------------------------------------


def _accountability_view(view: View, ans: dict[str, Any]) -> list[dict[str, Any]]:
    acts = []
    picture: list[dict[str, Any]] = []
    for act in ans.get("acts") or []:
        acts.append({"act": act.get("act") or {}, "date": act.get("date"),
                     "victims": act.get("victims") or [],
                     "path": view.path(act.get("path"))})
        picture.extend(act.get("path") or [])
    by_role: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for actor in ans.get("actors") or []:
        entity = actor.get("entity") or {}
        row = {
            "entity": entity,
            "role": actor.get("role"),
            "detail": actor.get("detail"),
            "act_id": actor.get("act_id"),
            "at": actor.get("at"),
            "status": actor.get("status"),
            "path": view.path(actor.get("path")),
            "posts": [view.statement(c) for c in actor.get("path") or []
                      if c.get("type") in ("HOLDS", "MEMBER_OF")
                      and c.get("from_id") == entity.get("id")],
            "sanctions": sanctions_rows(actor.get("sanctions"))
            if entity.get("kind") in ("Person", "Organization") else [],
        }
        by_role[str(actor.get("role"))].append(row)
        picture.extend(actor.get("path") or [])
    order = ["direct", "judicial", "inciting", "custodial", "superior", "institutional"]
    roles = [{"role": r, "actors": by_role[r]} for r in order if by_role.get(r)]
    roles += [{"role": r, "actors": a} for r, a in sorted(by_role.items()) if r not in order]
    notice = []
    for item in ans.get("notice") or []:
        notice.append({**item, "statement": view.statement(item.get("claim"))})
        picture.append(item.get("claim") or {})
    view.sections = {"acts": acts, "roles": roles, "notice": notice}
    return [c for c in picture if c]


def _chain_view(view: View, ans: dict[str, Any], queries: Any) -> list[dict[str, Any]]:
    picture: list[dict[str, Any]] = []
    posts = []
    for post in ans.get("posts") or []:
        posts.append({**post, "holds_no": view.statement(post.get("holds")),
                      "position_in_no": view.statement(post.get("position_in"))})
        picture += [c for c in (post.get("holds"), post.get("position_in")) if c]
    orgs = []
    persons: dict[str, dict[str, Any]] = {}
    entity = ans.get("entity") or {}
    if entity.get("kind") == "Person":
        persons[entity["id"]] = entity
    for org in sorted(ans.get("organizations") or [], key=lambda o: o.get("level", 0)):
        parents = [{**p, "no": view.statement(p.get("claim"))} for p in org.get("parents") or []]
        heads = []
        for h in org.get("heads") or []:
            heads.append({**h, "holds_no": view.statement(h.get("holds")),
                          "position_in_no": view.statement(h.get("position_in"))})
            picture += [c for c in (h.get("holds"), h.get("position_in")) if c]
            person = h.get("person") or {}
            if person.get("id"):
                persons[person["id"]] = person
        picture += [p.get("claim") for p in org.get("parents") or [] if p.get("claim")]
        orgs.append({**org, "parents": parents, "heads": heads})
    sanctions = []
    for pid, person in sorted(persons.items()):
        try:
            prof = queries.profile(pid).model_dump(mode="json")
            rows = sanctions_rows(prof.get("sanctions"))
        except Exception as exc:  # noqa: BLE001 - shown in the dossier, never hidden
            rows = [{"authority": "-", "status": f"could not be read: {exc}", "items": []}]
        sanctions.append({"person": person, "rows": rows})
    view.sections = {"posts": posts, "organizations": orgs, "sanctions": sanctions,
                     "top": ans.get("top") or [], "dates_unknown": ans.get("dates_unknown", 0)}
    return picture


def build_view(store: Store, ref: str, at: str | None = None, *,
               include_restricted: bool = True) -> View:
    """Ask the question and build what the dossier shows. With ``at`` and a person,
    position or organisation: the chain of command on that date; otherwise (a victim, an
    incident or a case) the accountability answer."""
    from queries.service import GraphQueries

    queries = GraphQueries(store, include_restricted=include_restricted)
    kinds = ("Person", "Position", "Organization") if at else ("Person", "Incident", "Case")
    entity = queries.resolve(ref, kinds).model_dump(mode="json")
    kind = entity.get("kind")
    if at and kind in ("Person", "Position", "Organization"):
        mode = "chain"
        answer = queries.chain(entity["id"], at).model_dump(mode="json")
    elif at:
        raise DossierError(
            f"{entity.get('id')} is a {kind}: --at asks for a chain of command, which starts "
            "from a person, position or organisation; an accountability dossier (without "
            "--at) takes the chain at the date of each act")
    elif kind in ("Person", "Incident", "Case"):
        mode = "accountability"
        answer = queries.accountability(entity["id"]).model_dump(mode="json")
    else:
        raise DossierError(
            f"{entity.get('id')} is a {kind}: a dossier is made for a victim, an incident or "
            "a case (accountability), or with --at for a person, position or organisation "
            "(chain of command on that date)")
    data = {"question": {"kind": mode, "ref": ref, "entity": entity.get("id"), "at": at},
            "answer": answer}
    data_json = canonical_json(data)
    produced = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": store_location(store),
        "engine": type(store).__name__,
        "software": f"accountability-graph {software_version()}",
        "answer_sha256": sha256_text(data_json),
        "restricted": "included" if include_restricted else "excluded",
    }
    view = View(question=data["question"], produced=produced, subject=entity, kind=mode,
                data_json=data_json)
    if mode == "accountability":
        picture = _accountability_view(view, answer)
    else:
        picture = _chain_view(view, answer, queries)
    names: dict[str, tuple[str, str]] = {}
    _collect_names(answer, names)
    view.svg = chain_svg(str(entity.get("id")), picture, names, view._claim_no)
    return view


def render_html(view: View) -> str:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                      autoescape=select_autoescape(["html"]), trim_blocks=True,
                      lstrip_blocks=True)
    template = env.get_template("dossier.html")
    # safe inside <script>: '<' escaped (still the same JSON value, so the hash holds)
    embedded = view.data_json.replace("<", "\\u003c")
    return template.render(v=view, embedded_json=embedded,
                           unsourced=sum(1 for s in view.statements if s["unsourced"]),
                           undecided=sum(1 for s in view.statements
                                         if s["status"] == "dates_unknown"))


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Refuse every resource: a dossier is self-contained; graph data must never make the
    renderer reach the network or the file system."""
    raise ValueError(f"dossier rendering does not fetch resources ({url[:60]})")


def html_to_pdf(html: str, out: Path, data_json: str | None = None) -> None:
    import weasyprint

    doc = weasyprint.HTML(string=html, url_fetcher=_no_fetch)
    attachments = []
    if data_json is not None:
        attachments.append(weasyprint.Attachment(
            string=data_json, name="dossier-data.json", url_fetcher=_no_fetch,
            description="the answer data this dossier shows (its sha256 is printed)"))
    doc.write_pdf(str(out), attachments=attachments)


def export_dossier(store: Store, out: Path, ref: str, at: str | None = None,
                   include_restricted: bool = True) -> dict[str, Any]:
    """Write the dossier to ``out``: PDF when it ends ``.pdf``, HTML for ``.html``/``.htm``."""
    suffix = out.suffix.lower()
    if suffix not in (".pdf", ".html", ".htm"):
        raise DossierError(f"{out}: name the dossier .html or .pdf")
    view = build_view(store, ref, at, include_restricted=include_restricted)
    html = render_html(view)
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".pdf":
        html_to_pdf(html, out, view.data_json)
    else:
        out.write_text(html, encoding="utf-8")
    return {"format": "dossier", "out": str(out), "kind": view.kind,
            "subject": view.subject.get("id"), "statements": len(view.statements),
            "sources": len(view.sources), "answer_sha256": view.produced["answer_sha256"],
            "include_restricted": include_restricted}
