"""Demo stage: load the catalogue, behaviour and refined triples, then show what the graph holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

if TYPE_CHECKING:
    from cosmo.core.demo import DemoContext
    from cosmo.kg.store import GraphStore

__all__ = ["run"]


def _frame(path):  # type: ignore[no-untyped-def]
    from cosmo.core.tables import read_table

    return read_table(path).frame


def run(ctx: DemoContext[GraphStore]) -> None:
    from cosmo.kg.loader import load_behaviour, load_triples_file
    from cosmo.kg.versions import graph_stats

    store, console, arts = ctx.store, ctx.console, ctx.artifacts
    store.setup(embedding_dim=384)
    frames = {k: _frame(arts[k]) for k in ("catalogue", "search_buy", "co_buy") if k in arts}
    if frames:
        s = load_behaviour(
            store,
            products=frames.get("catalogue"),
            search_buy=frames.get("search_buy"),
            co_buy=frames.get("co_buy"),
        )
        console.print(
            f"[green]✓[/] catalogue and behaviour loaded: nodes +{s.nodes_created}, relationships +{s.relationships_created}"
        )
    if "triples" in arts:
        report = load_triples_file(store, arts["triples"], batch_size=ctx.settings.batch_size)
        console.print(
            f"[green]✓[/] knowledge loaded as version {report.seq} ({report.run_id}): {report.loaded_rows} triples, "
            f"{report.rejected} rejected, relationships +{report.written.relationships_created}"
        )
    else:
        console.print("[yellow]no refined triples to load (the refine stage did not run)[/]")
    stats = graph_stats(store)
    ctx.count("kg", **stats["nodes"], **stats["relationships"])
    t = Table(title="knowledge graph", show_edge=False)
    t.add_column("kind")
    t.add_column("count", justify="right")
    for name, n in {**stats["nodes"], **stats["relationships"]}.items():
        if n:
            t.add_row(name, f"{n:,}")
    console.print(t)
    example = store.query(
        "MATCH (a:Product)-[r]->(i:Intention)<-[r2]-(b:Product) WHERE b <> a AND type(r) = type(r2) "
        "RETURN a.title AS a, type(r) AS relation, i.text AS intention, b.title AS b, r.plausibility AS p "
        "ORDER BY p DESC, intention LIMIT 3"
    )
    for row in example:
        console.print(
            f"  [bold]{str(row['a'])[:50]}[/] -[{row['relation']}]-> [cyan]{row['intention']}[/] <- {str(row['b'])[:50]}"
        )
    console.print(
        "next: `cosmo kg stats`, `cosmo kg versions`, saved queries in cypher/ (see cypher/README.md)"
    )
