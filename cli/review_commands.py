"""``accgraph review list|accept|reject``: the entity-matching review queue.

Pairs the matcher found close but not certain wait here; a person decides. Decisions are
kept (beside the database, see ingest.review) and honoured by every later ingest: an
accepted pair is linked SAME_AS with ``judged_by = review:<who>``, a rejected pair is never
proposed or linked again (and a link the matcher had made is removed).
"""

from __future__ import annotations

import getpass
import json
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from cli.context import EXIT_USAGE, fail, state_of

out = Console()
err = Console(stderr=True)


def _who(by: str | None) -> str:
    if by:
        return by
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return "reviewer"


def register(app: typer.Typer) -> None:
    review = typer.Typer(help="The entity-matching review queue: list, accept, reject.",
                         no_args_is_help=True)
    app.add_typer(review, name="review")

    @review.command("list")
    def list_cmd(
        ctx: typer.Context,
        status: str = typer.Option("pending", "--status",
                                   help="pending, accepted, rejected or all."),
        limit: Optional[int] = typer.Option(None, "--limit", help="At most this many pairs."),
        as_json: bool = typer.Option(False, "--json", help="Print the pairs as JSON."),
    ) -> None:
        """List pairs of records that may be one entity, best score first."""
        from ingest.review import STATUSES, ReviewQueue

        if status != "all" and status not in STATUSES:
            fail(f"--status must be one of {', '.join(STATUSES)} or all")
        with state_of(ctx).open_store() as store:
            with ReviewQueue.for_store(store) as queue:
                pairs = queue.list(None if status == "all" else status, limit)
            nodes = store.get_nodes({p.a for p in pairs} | {p.b for p in pairs})
        rows: list[dict[str, Any]] = []
        for p in pairs:
            row = p.to_json()
            row["a_name"] = nodes[p.a].props.get("name") if p.a in nodes else None
            row["b_name"] = nodes[p.b].props.get("name") if p.b in nodes else None
            rows.append(row)
        if as_json:
            out.print_json(json.dumps(rows, ensure_ascii=False))
            return
        if not rows:
            out.print(f"no {status if status != 'all' else ''} pairs in the review queue.")
            return
        table = Table(title=f"review queue ({status})")
        for col in ("score", "a", "a name", "b", "b name", "why", "status"):
            table.add_column(col, overflow="fold")
        for r in rows:
            why = ", ".join(f"{k} {v}" for k, v in r["details"].items()
                            if k in ("birth", "nationality", "gender", "org_kind"))
            table.add_row(f"{r['score']:.3f}", r["a"], r["a_name"] or "(missing)", r["b"],
                          r["b_name"] or "(missing)", why or "names", r["status"])
        out.print(table)

    def _decide(ctx: typer.Context, a: str, b: str, status: str, by: str | None,
                note: str | None) -> None:
        from ingest.matching import accepted_links, delete_same_as, same_as_id
        from ingest.review import ACCEPTED, ReviewQueue

        if a == b:
            fail("a record cannot be paired with itself")
        with state_of(ctx).open_store() as store:
            nodes = store.get_nodes([a, b])
            for node_id in (a, b):
                if node_id not in nodes:
                    fail(f"no record with id '{node_id}' in the graph", EXIT_USAGE)
            if nodes[a].kind != nodes[b].kind:
                fail(f"'{a}' is a {nodes[a].kind} and '{b}' a {nodes[b].kind}: only records "
                     "of one kind can be the same entity")
            with ReviewQueue.for_store(store) as queue:
                pair = queue.decide(a, b, status, _who(by), kind=nodes[a].kind, note=note)
                if status == ACCEPTED:
                    rels = [r for r in accepted_links(store, queue, {a, b})
                            if r.id == same_as_id(a, b)]
                    store.write([], rels)
                    out.print(f"accepted: {a} SAME_AS {b} (judged_by review:{pair.decided_by})")
                else:
                    existing = store.get_rels([_probe(a, b)])
                    if existing and not delete_same_as(store, same_as_id(a, b)):
                        err.print("[yellow]warning:[/] this store cannot delete the existing "
                                  "SAME_AS link; it will be ignored by the matcher but remains "
                                  "in the graph")
                    out.print(f"rejected: {a} and {b} will not be linked or proposed again")

    def _probe(a: str, b: str) -> Any:
        from ingest.matching import same_as_record

        return same_as_record(a, b, score=0.0, method="probe", judged_by="probe",
                              judged_at="2000-01-01", confidence="low", source_ids=[])

    @review.command("accept")
    def accept(
        ctx: typer.Context,
        a: str = typer.Argument(..., help="Id of one record."),
        b: str = typer.Argument(..., help="Id of the other record."),
        by: Optional[str] = typer.Option(None, "--by", help="Who decides (default: user)."),
        note: Optional[str] = typer.Option(None, "--note", help="Why (kept with the link)."),
    ) -> None:
        """Judge two records to be one entity: links them SAME_AS, now and on every ingest."""
        from ingest.review import ACCEPTED

        _decide(ctx, a, b, ACCEPTED, by, note)

    @review.command("reject")
    def reject(
        ctx: typer.Context,
        a: str = typer.Argument(..., help="Id of one record."),
        b: str = typer.Argument(..., help="Id of the other record."),
        by: Optional[str] = typer.Option(None, "--by", help="Who decides (default: user)."),
        note: Optional[str] = typer.Option(None, "--note", help="Why."),
    ) -> None:
        """Judge two records to be different entities: never proposed or linked again."""
        from ingest.review import REJECTED

        _decide(ctx, a, b, REJECTED, by, note)
