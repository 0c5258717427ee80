"""The question commands: chain, accountability, linked, gaps, search, path, timeline,
analyze, profile.

Human-readable by default (a tree for chains, tables for lists, every step with its dates,
confidence and numbered source notes), ``--json`` for scripts (the same models the HTTP API
returns). A bad reference (unknown id, ambiguous name: candidates listed) or a bad date
exits with code 2.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Optional

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from cli.context import fail, state_of
from queries import answers as A
from queries.errors import Ambiguous, QueryError

out = Console()
err = Console(stderr=True)


@contextmanager
def _queries(ctx: typer.Context) -> Iterator[Any]:
    from queries.service import GraphQueries

    with state_of(ctx).open_store(read_only=True) as store:
        try:
            yield GraphQueries(store)
        except Ambiguous as exc:
            table = Table(title=f"'{exc.ref}' matches several entities; use an id")
            for col in ("id", "kind", "name", "score"):
                table.add_column(col)
            for c in exc.candidates:
                table.add_row(str(c.get("id")), str(c.get("kind", "")), str(c.get("name")),
                              str(c.get("score", "")))
            err.print(table)
            fail(str(exc))
        except QueryError as exc:
            fail(str(exc))


def _emit_json(model: BaseModel) -> None:
    out.print_json(json.dumps(model.model_dump(mode="json"), ensure_ascii=False))


class Notes:
    """Numbered source notes, so each step cites [n] and the list follows once."""

    def __init__(self) -> None:
        self.order: dict[str, A.SourceRef] = {}

    def cite(self, claim: A.Claim | None) -> str:
        if claim is None:
            return ""
        if not claim.sources:
            return "[red]UNSOURCED[/]" if claim.unsourced else ""
        nums = []
        for s in claim.sources:
            if s.id not in self.order:
                self.order[s.id] = s
            nums.append(str(list(self.order).index(s.id) + 1))
        return "[" + ",".join(nums) + "]"

    def print(self) -> None:
        if not self.order:
            return
        out.print("\n[bold]Sources[/]")
        for i, s in enumerate(self.order.values(), 1):
            if s.missing:
                out.print(f" [{i}] {s.id} (not in the graph)", markup=False)
                continue
            bits = [b for b in (s.publisher, s.date, s.reference, s.url) if b]
            out.print(f" [{i}] {s.title}" + (f" — {'; '.join(bits)}" if bits else "")
                      + f" ({s.id})", markup=False, highlight=False)


def _esc(text: Any) -> str:
    from rich.markup import escape

    return escape(str(text)) if text is not None else ""


def _dates(c: A.Claim) -> str:
    if not c.valid_from and not c.valid_to:
        return "dates not stated"
    return f"{c.valid_from or '?'} – {c.valid_to or '?'}"


def describe(c: A.Claim, notes: Notes) -> str:
    bits = [_dates(c), f"confidence {c.confidence or '?'}"]
    if c.role:
        bits.append(f"role {_esc(c.role)}")
    text = ", ".join(bits)
    if c.status == "dates_unknown":
        att = f"; sources dated {', '.join(c.attested)}" if c.attested else ""
        text += f", [yellow]DATES UNKNOWN on the date asked{att}[/]"
    elif c.status == "valid":
        text += ", [green]valid[/]"
    return f"[dim]({text})[/] {notes.cite(c)}"


def _name(e: A.EntityRef | None) -> str:
    if e is None:
        return ""
    sub = f", {e.subtype}" if e.subtype else ""
    return f"[bold]{_esc(e.name)}[/] [dim]{_esc(e.id)}{_esc(sub)}[/]"


def _sanctions_text(s: dict[str, list[A.SanctionRef]]) -> str:
    if not s:
        return "none recorded"
    parts = []
    for auth, items in s.items():
        refs = []
        for x in items:
            t = x.list_ref or x.programme or x.id
            if x.via:
                t += f" via {x.via}"
            if not x.active:
                t += f" (delisted {x.delisted})"
            refs.append(t)
        parts.append(f"{auth}: {'; '.join(refs)}")
    return " | ".join(parts)


# -- renderers -------------------------------------------------------------------------


def render_chain(ans: A.ChainAnswer) -> None:
    notes = Notes()
    tree = Tree(f"Chain of command above {_name(ans.entity)} on [bold]{ans.at}[/]")
    orgs = {o.organization.id: o for o in ans.organizations}

    def add_org(node: Tree, oid: str, seen: tuple[str, ...]) -> None:
        org = orgs[oid]
        for h in org.heads:
            node.add(f"head: {_name(h.person)} as {_esc(h.position.name)} "
                     f"{describe(h.holds, notes)}; post in organisation "
                     f"{describe(h.position_in, notes)}")
        if not org.heads:
            node.add("[dim]head on this date: none recorded[/]")
        for link in org.parents:
            child = node.add(f"part of {_name(link.parent)} {describe(link.claim, notes)}")
            if link.parent.id in seen:
                child.add("[red]cycle: already above in this chain[/]")
            elif link.parent.id in orgs:
                add_org(child, link.parent.id, seen + (link.parent.id,))

    if ans.posts:
        for p in ans.posts:
            what = (f"holds {_esc(p.position.name)} {describe(p.holds, notes)}"
                    if p.position else f"member {describe(p.holds, notes)}")
            via = f" [dim](via the same-as record {p.via})[/]" if p.via else ""
            branch = tree.add(what + via)
            inorg = branch.add(f"in {_name(p.organization)} "
                               + (describe(p.position_in, notes) if p.position_in else ""))
            add_org(inorg, p.organization.id, (p.organization.id,))
    else:
        for oid in ans.entry:
            node = tree.add(_name(orgs[oid].organization))
            add_org(node, oid, (oid,))
    if not ans.entry:
        tree.add("[dim]no post, membership or organisation held on this date[/]")
    out.print(tree)
    if ans.dates_unknown:
        out.print(f"[yellow]{ans.dates_unknown} step(s) cannot be decided on {ans.at}: their "
                  "dates are missing or imprecise (kept, not shown as certain).[/]")
    notes.print()


def render_accountability(ans: A.AccountabilityAnswer) -> None:
    notes = Notes()
    out.print(f"Accountability for {_name(ans.subject)}")
    for act in ans.acts:
        victims = ", ".join(v.name or v.id for v in act.victims)
        tree = Tree(f"[bold]{_esc(act.act.name)}[/] [dim]{act.act.id}[/] "
                    f"on {act.date or 'an unknown date'}"
                    + (f" — victim(s): {_esc(victims)}" if victims else ""))
        for role in ("direct", "inciting", "judicial", "custodial", "institutional",
                     "superior"):
            actors = [a for a in ans.actors if a.act_id == act.act.id and a.role == role]
            if not actors:
                continue
            branch = tree.add(f"[bold]{role}[/]")
            for a in actors:
                node = branch.add(f"{_name(a.entity)} — {_esc(a.detail)}"
                                  + (" [yellow](dates unknown on the path)[/]"
                                     if a.status == "dates_unknown" else ""))
                for c in a.path:
                    node.add(f"{_esc(c.from_name or c.from_id)} —{c.type}→ "
                             f"{_esc(c.to_name or c.to_id)} {describe(c, notes)}")
                if a.entity.kind == "Person" or a.sanctions:
                    node.add(f"sanctions: {_esc(_sanctions_text(a.sanctions))}")
        out.print(tree)
    if not ans.acts:
        out.print("[dim]no act (incident or case) recorded for this subject[/]")
    if ans.notice:
        table = Table(title="Notice: earlier incidents attributed to the same organisations")
        for col in ("organisation", "earlier incident", "date", "before act", "sources"):
            table.add_column(col)
        for n in ans.notice:
            table.add_row(_esc(n.organization.name), _esc(n.incident.name),
                          _esc(n.incident.date), n.before_act, notes.cite(n.claim))
        out.print(table)
    notes.print()


def render_linked(ans: A.LinkedAnswer) -> None:
    notes = Notes()
    when = f" on {ans.at}" if ans.at else " (any time)"
    table = Table(title=f"Officials linked to {ans.organization.name}{when}")
    for col in ("person", "post / unit", "dates", "sources", *ans.authorities):
        table.add_column(col)
    for o in ans.officials:
        for i, p in enumerate(o.posts):
            first = p.path[0]
            post = ((p.position.name or p.position.id) if p.position else "member") + " — " + (
                p.organization.name or p.organization.id)
            status = " [yellow]dates unknown[/]" if p.status == "dates_unknown" else ""
            cites = " ".join(notes.cite(c) for c in p.path)
            sanc = []
            for auth in ans.authorities:
                items = o.sanctions.get(auth, [])
                sanc.append(("; ".join((s.list_ref or s.id) + (" (via)" if s.via else "")
                                       for s in items) or "—") if i == 0 else "")
            table.add_row(_name(o.person) if i == 0 else "", _esc(post),
                          _dates(first) + status, cites, *sanc)
    out.print(table)
    if not ans.officials:
        out.print("[dim]no official recorded[/]")
    notes.print()


def render_gaps(ans: A.GapsAnswer) -> None:
    table = Table(title=f"Implicated persons with no active {ans.authority} designation "
                        f"({len(ans.gaps)} of {ans.total})")
    for col in ("#", "person", "score", "why listed", "other sanctions"):
        table.add_column(col)
    for i, g in enumerate(ans.gaps, 1):
        by_role: dict[str, list[str]] = {}
        for r in g.reasons:
            by_role.setdefault(r.role, []).append(r.act_name or r.act_id)
        why = "; ".join(
            f"{role} in {len(acts)} act(s): {', '.join(acts[:3])}"
            + (f" (+{len(acts) - 3})" if len(acts) > 3 else "")
            for role, acts in by_role.items())
        if g.reasons_total > len(g.reasons):
            why += f" (first {len(g.reasons)} of {g.reasons_total} reasons listed)"
        table.add_row(str(i), _name(g.person), f"{g.score:g}", _esc(why),
                      _esc(_sanctions_text(g.other_sanctions)))
    out.print(table)


def render_search(ans: A.SearchAnswer) -> None:
    table = Table(title=f"search: {ans.query} (normalised: {ans.normalised})")
    for col in ("score", "id", "kind", "name", "matched name"):
        table.add_column(col)
    for h in ans.hits:
        table.add_row(f"{h.score:g}", h.entity.id, h.entity.kind + (
            f" ({h.entity.subtype})" if h.entity.subtype else ""), _esc(h.entity.name),
            _esc(h.matched))
    out.print(table)
    if not ans.hits:
        out.print("[dim]no match[/]")


def render_paths(ans: A.PathsAnswer) -> None:
    notes = Notes()
    when = f" through claims holding on {ans.at}" if ans.at else ""
    if ans.length is None:
        out.print(f"No path between {_name(ans.source)} and {_name(ans.target)}{when}.")
        return
    out.print(f"{len(ans.paths)} shortest path(s) of length {ans.length} between "
              f"{_name(ans.source)} and {_name(ans.target)}{when}")
    for i, p in enumerate(ans.paths, 1):
        tree = Tree(f"path {i}" + (" [yellow](dates unknown on a step)[/]"
                                   if p.status == "dates_unknown" else ""))
        for c in p.claims:
            tree.add(f"{_esc(c.from_name or c.from_id)} —{c.type}→ "
                     f"{_esc(c.to_name or c.to_id)} {describe(c, notes)}")
        out.print(tree)
    notes.print()


def render_timeline(ans: A.TimelineAnswer) -> None:
    notes = Notes()
    table = Table(title=f"Timeline of {ans.entity.name} ({ans.entity.id})")
    for col in ("date", "what", "event", "sources"):
        table.add_column(col)
    for ev in ans.events:
        cite = notes.cite(ev.claim) if ev.claim else ""
        if not cite and ev.sources:
            cite = notes.cite(A.Claim(id="_", type="_", from_id="_", to_id="_",
                                      sources=ev.sources))
        table.add_row(ev.date, ev.what, _esc(ev.label), cite)
    out.print(table)
    if ans.undated:
        out.print(f"\n[bold]Undated claims[/] ({len(ans.undated)})")
        for c in ans.undated:
            out.print(f" {_esc(c.from_name or c.from_id)} —{c.type}→ "
                      f"{_esc(c.to_name or c.to_id)} {describe(c, notes)}")
    notes.print()


def render_analytics(ans: A.AnalyticsAnswer) -> None:
    when = f" on {ans.at}" if ans.at else ""
    out.print(f"{ans.measure} over {ans.nodes} nodes / {ans.edges} links "
              f"({', '.join(ans.kinds)}){when}")
    if ans.communities:
        table = Table(title="communities (Louvain)")
        for col in ("#", "size", "members"):
            table.add_column(col)
        for c in ans.communities:
            names = ", ".join(m.name or m.id for m in c.members[:12])
            more = f" … (+{c.size - 12})" if c.size > 12 else ""
            table.add_row(str(c.id), str(c.size), _esc(names + more))
        out.print(table)
        return
    table = Table()
    for col in ("rank", "score", "id", "kind", "name"):
        table.add_column(col)
    for i, s in enumerate(ans.ranking, 1):
        table.add_row(str(i), f"{s.score:.4f}", s.entity.id, s.entity.kind, _esc(s.entity.name))
    out.print(table)


def render_profile(p: A.Profile) -> None:
    notes = Notes()
    out.print(f"Profile of {_name(p.entity)}" + (" [red](restricted)[/]" if p.restricted
                                                 else ""))
    table = Table(title="names")
    for col in ("name", "lang", "script", "confidence", "record", "sources"):
        table.add_column(col)
    for n in p.names:
        table.add_row(_esc(n.name), n.lang or "", n.script or "", n.confidence or "",
                      n.record_id or "", notes.cite(A.Claim(id="_", type="_", from_id="_",
                                                            to_id="_", sources=n.sources)))
    out.print(table)
    for k, v in p.attributes.items():
        out.print(f"{k}: {_esc(v)}")
    sections: list[tuple[str, list[Any]]] = [
        ("posts", p.posts), ("memberships", p.memberships), ("cases", p.cases),
        ("incidents", p.incidents), ("same as", p.same_as), ("other relations", p.relations)]
    for title, items in sections:
        if not items:
            continue
        out.print(f"\n[bold]{title}[/]")
        for it in items:
            if isinstance(it, A.PostHeld):
                org = f" in {_name(it.organization)}" if it.organization else ""
                out.print(f" {_esc(it.position.name)}{org} {describe(it.holds, notes)}")
            else:
                arrow = "→" if it.direction == "out" else "←"
                out.print(f" {it.claim.type} {arrow} {_name(it.other)} "
                          f"{describe(it.claim, notes)}"
                          + (f" [dim](via {it.via})[/]" if it.via else ""))
    out.print(f"\n[bold]sanctions[/]: {_esc(_sanctions_text(p.sanctions))}")
    notes.print()


# -- commands --------------------------------------------------------------------------


def _run(ctx: typer.Context, as_json: bool, call: Callable[[Any], BaseModel],
         render: Callable[[Any], None]) -> None:
    with _queries(ctx) as q:
        ans = call(q)
    if as_json:
        _emit_json(ans)
    else:
        render(ans)


JSON_OPT = typer.Option(False, "--json", help="Print the answer as JSON.")


def register(app: typer.Typer) -> None:
    @app.command()
    def chain(ctx: typer.Context,
              ref: str = typer.Argument(..., help="Person, position or organisation: id or name."),
              at: str = typer.Option(..., "--at", help="Date: YYYY, YYYY-MM or YYYY-MM-DD."),
              as_json: bool = JSON_OPT) -> None:
        """Chain of command at a date: posts held, their organisations, the PART_OF chain
        to the top and each organisation's head(s), every step dated and sourced."""
        _run(ctx, as_json, lambda q: q.chain(ref, at), render_chain)

    @app.command()
    def accountability(ctx: typer.Context,
                       ref: str = typer.Argument(..., help="Victim, incident or case."),
                       as_json: bool = JSON_OPT) -> None:
        """Who is linked to the act(s): direct, judicial, custodial, and above them the
        chain of command at the date of the act, each with the path of claims and sources."""
        _run(ctx, as_json, lambda q: q.accountability(ref), render_accountability)

    @app.command()
    def linked(ctx: typer.Context,
               ref: str = typer.Argument(..., help="Organisation: id or name."),
               at: Optional[str] = typer.Option(None, "--at", help="Only posts held on this date."),
               as_json: bool = JSON_OPT) -> None:
        """Officials who held posts in an organisation or its subordinate units, with their
        sanctions per authority."""
        _run(ctx, as_json, lambda q: q.linked(ref, at), render_linked)

    @app.command()
    def gaps(ctx: typer.Context,
             authority: str = typer.Option(..., "--authority", help="OFAC, EU, UK, UN, CA, AU..."),
             limit: int = typer.Option(100, "--limit"),
             quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
             as_json: bool = JSON_OPT) -> None:
        """Persons implicated in incidents or cases with no active designation by AUTHORITY,
        ranked by how much the graph implicates them. The first question scans every act
        (minutes at a million nodes, with a progress bar); later ones reuse the scan."""
        from ingest.progress import Progress

        progress = Progress(console=err, enabled=not quiet and not as_json)
        _run(ctx, as_json, lambda q: q.gaps(authority, limit, progress), render_gaps)

    @app.command()
    def search(ctx: typer.Context,
               text: str = typer.Argument(..., help="A name in any script."),
               limit: int = typer.Option(20, "--limit"),
               kind: Optional[list[str]] = typer.Option(None, "--kind",
                                                        help="Only these node kinds."),
               as_json: bool = JSON_OPT) -> None:
        """Find entities by name across Persian script and Latin transliterations."""
        _run(ctx, as_json, lambda q: q.search(text, limit, kind or None), render_search)

    @app.command()
    def path(ctx: typer.Context, a: str = typer.Argument(...), b: str = typer.Argument(...),
             at: Optional[str] = typer.Option(None, "--at",
                                              help="Only through claims holding on this date."),
             max_len: int = typer.Option(6, "--max-len"),
             as_json: bool = JSON_OPT) -> None:
        """Shortest chains of claims between two entities."""
        _run(ctx, as_json, lambda q: q.paths(a, b, at, max_len), render_paths)

    @app.command()
    def timeline(ctx: typer.Context, ref: str = typer.Argument(...),
                 as_json: bool = JSON_OPT) -> None:
        """Everything dated about an entity, in order, with sources."""
        _run(ctx, as_json, lambda q: q.timeline(ref), render_timeline)

    @app.command()
    def analyze(ctx: typer.Context,
                measure: str = typer.Argument(..., help="degree, betweenness, communities, brokers"),
                kind: Optional[list[str]] = typer.Option(None, "--kind", help="Node kinds kept."),
                at: Optional[str] = typer.Option(None, "--at", help="Only claims holding then."),
                group_a: Optional[list[str]] = typer.Option(None, "--group-a"),
                group_b: Optional[list[str]] = typer.Option(None, "--group-b"),
                limit: int = typer.Option(20, "--limit"),
                as_json: bool = JSON_OPT) -> None:
        """Network analytics on a projection: centrality, communities, brokers between two
        groups of organisations."""
        _run(ctx, as_json, lambda q: q.analytics(measure, kind or None, at, group_a or None,
                                                 group_b or None, limit), render_analytics)

    @app.command()
    def profile(ctx: typer.Context, ref: str = typer.Argument(...),
                as_json: bool = JSON_OPT) -> None:
        """Everything about one entity: names in all scripts, attributes, posts, cases,
        incidents, sanctions per authority, same-as records."""
        _run(ctx, as_json, lambda q: q.profile(ref), render_profile)
