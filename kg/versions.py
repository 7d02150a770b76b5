"""KG versions: every load is a :LoadRun with an id, a sequence number, parameters and counts.

The graph after run *N* is the version *N*. Knowledge edges carry ``created_run`` and
``created_seq``, so two versions can be compared (:func:`diff_runs`) and a run can be taken
back (:func:`rollback_run`): its new edges go, and so do nodes it created that nothing
else uses. Edges that already existed and that the run only reinforced keep their data.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cosmo.core.errors import InputError
from cosmo.core.schema import RELATIONS
from cosmo.kg.derived import intentions_of_run, refresh_product_counts
from cosmo.kg.store import GraphStore, WriteSummary

__all__ = [
    "RunInfo",
    "begin_run",
    "checkpoint",
    "diff_runs",
    "finish_run",
    "graph_stats",
    "list_runs",
    "new_run",
    "record_aliases",
    "rollback_run",
]


@dataclass
class RunInfo:
    id: str
    seq: int
    status: str
    done_batches: int = 0
    total_batches: int = 0
    counts: WriteSummary = field(default_factory=WriteSummary)
    params: dict[str, Any] = field(default_factory=dict)
    started_at: str | None = None
    finished_at: str | None = None
    loaded: int = 0
    rejected: int = 0


def _counts(raw: str | None) -> WriteSummary:
    if not raw:
        return WriteSummary()
    d = json.loads(raw)
    d.pop("rows", None)
    return WriteSummary(**d)


def _dump(s: WriteSummary) -> str:
    return json.dumps({k: v for k, v in vars(s).items() if k != "rows"})


def _info(r: dict[str, Any]) -> RunInfo:
    return RunInfo(
        id=r["id"],
        seq=int(r["seq"]),
        status=r["status"],
        done_batches=int(r.get("done") or 0),
        total_batches=int(r.get("total") or 0),
        counts=_counts(r.get("counts")),
        params=json.loads(r.get("params") or "{}"),
        started_at=r.get("started"),
        finished_at=r.get("finished"),
        loaded=int(r.get("loaded") or 0),
        rejected=int(r.get("rejected") or 0),
    )


_RUN_FIELDS = """r.id AS id, r.seq AS seq, r.status AS status, r.done_batches AS done, r.total_batches AS total,
r.counts AS counts, r.params AS params, r.started_at AS started, r.finished_at AS finished,
r.loaded AS loaded, r.rejected AS rejected"""


def new_run(
    run_id: str,
    seq: int,
    *,
    digest: str,
    params: dict[str, Any],
    total_batches: int,
    now: datetime,
) -> dict[str, Any]:
    """The properties of a load run's node when it starts (status ``running``)."""
    return {
        "id": run_id,
        "seq": seq,
        "status": "running",
        "digest": digest,
        "params": json.dumps(params),
        "started_at": now.isoformat(),
        "done_batches": 0,
        "total_batches": total_batches,
        "counts": _dump(WriteSummary()),
    }


def begin_run(
    store: GraphStore, *, digest: str, params: dict[str, Any], total_batches: int
) -> RunInfo:
    """Resume the unfinished run of the same input and parameters, or start a new one."""
    open_runs = store.query(
        f"MATCH (r:LoadRun) WHERE r.status = 'running' AND r.digest = $d RETURN {_RUN_FIELDS} ORDER BY r.seq DESC LIMIT 1",
        {"d": digest},
    )
    if open_runs:
        return _info(open_runs[0])
    last = store.query("MATCH (r:LoadRun) RETURN max(r.seq) AS m")
    seq = int(last[0]["m"] or 0) + 1 if last else 1
    now = datetime.now(UTC)
    run_id = f"run-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
    store.execute(
        "CREATE (r:LoadRun {id: $id, seq: $seq, status: $status, digest: $digest, params: $params, "
        "started_at: $started_at, done_batches: $done_batches, total_batches: $total_batches, "
        "counts: $counts})",
        new_run(run_id, seq, digest=digest, params=params, total_batches=total_batches, now=now),
    )
    return RunInfo(
        run_id, seq, "running", 0, total_batches, params=params, started_at=now.isoformat()
    )


def checkpoint(
    store: GraphStore,
    run_id: str,
    done_batches: int,
    counts: WriteSummary,
    *,
    total_batches: int | None = None,
) -> None:
    """Record progress (and, once known, the run's number of batches)."""
    cypher = "MATCH (r:LoadRun {id: $id}) SET r.done_batches = $n, r.counts = $c"
    params: dict[str, Any] = {"id": run_id, "n": done_batches, "c": _dump(counts)}
    if total_batches is not None:
        cypher += ", r.total_batches = $t"
        params["t"] = total_batches
    store.execute(cypher, params)


def finish_run(
    store: GraphStore, run_id: str, counts: WriteSummary, *, rejected: int, loaded: int
) -> None:
    store.execute(
        "MATCH (r:LoadRun {id: $id}) SET r.status = 'done', r.finished_at = $t, r.counts = $c, "
        "r.rejected = $rej, r.loaded = $ok",
        {
            "id": run_id,
            "t": datetime.now(UTC).isoformat(),
            "c": _dump(counts),
            "rej": rejected,
            "ok": loaded,
        },
    )


def record_aliases(store: GraphStore, run_id: str, additions: list[dict[str, Any]]) -> None:
    """Keep on the run the aliases its tails added to earlier Intentions (``kg diff`` lists
    them, rollback takes them back). A resumed run keeps what its first attempt recorded."""
    store.execute(
        "MATCH (r:LoadRun {id: $id}) SET r.aliases_added = coalesce(r.aliases_added, $a)",
        {"id": run_id, "a": json.dumps(additions)},
    )


def _alias_additions(store: GraphStore, lo: int, hi: int) -> list[dict[str, Any]]:
    rows = store.query(
        "MATCH (r:LoadRun) WHERE r.seq > $lo AND r.seq <= $hi AND r.status <> 'rolled_back' "
        "AND r.aliases_added IS NOT NULL RETURN r.id AS run, r.aliases_added AS a ORDER BY r.seq",
        {"lo": lo, "hi": hi},
    )
    return [{**a, "run": r["run"]} for r in rows for a in json.loads(r["a"])]


def list_runs(store: GraphStore) -> list[RunInfo]:
    return [_info(r) for r in store.query(f"MATCH (r:LoadRun) RETURN {_RUN_FIELDS} ORDER BY r.seq")]


def _run(store: GraphStore, run: str) -> RunInfo:
    runs = {r.id: r for r in list_runs(store)}
    by_seq = {str(r.seq): r for r in runs.values()}
    found = runs.get(run) or by_seq.get(run)
    if found is None:
        raise InputError(f"no load run {run!r}; see `cosmo kg versions`", field="run")
    return found


def graph_stats(store: GraphStore) -> dict[str, dict[str, int]]:
    """Counts per node label and per relationship type."""
    labels = {}
    for lbl in ("Product", "Query", "Intention", "LoadRun"):
        labels[lbl] = int(store.query(f"MATCH (n:{lbl}) RETURN count(n) AS n")[0]["n"])
    rels = {}
    for rel in ("SEARCH_BUY", "CO_BUY", *RELATIONS):
        rels[rel] = int(store.query(f"MATCH ()-[r:{rel}]->() RETURN count(r) AS n")[0]["n"])
    return {"nodes": labels, "relationships": rels}


def diff_runs(store: GraphStore, a: str, b: str, *, examples: int = 5) -> dict[str, Any]:
    """Knowledge edges added after version ``a`` up to version ``b``, per relation, with examples."""
    ra, rb = _run(store, a), _run(store, b)
    lo, hi = sorted((ra.seq, rb.seq))
    added: dict[str, int] = {}
    samples: dict[str, list[dict[str, Any]]] = {}
    for rel in RELATIONS:
        rows = store.query(
            f"MATCH (h)-[r:{rel}]->(i:Intention) WHERE r.created_seq > $lo AND r.created_seq <= $hi "
            "RETURN count(r) AS n",
            {"lo": lo, "hi": hi},
        )
        n = int(rows[0]["n"])
        if n:
            added[rel] = n
            samples[rel] = store.query(
                f"MATCH (h)-[r:{rel}]->(i:Intention) WHERE r.created_seq > $lo AND r.created_seq <= $hi "
                "RETURN coalesce(h.id, h.key) AS head, i.text AS tail, r.plausibility AS plausibility, "
                "r.created_run AS run ORDER BY head, tail LIMIT $k",
                {"lo": lo, "hi": hi, "k": examples},
            )
    aliases = _alias_additions(store, lo, hi)
    derived = store.query(
        "MATCH (h:Query)-[r]->(i:Intention) WHERE r.created_seq > $lo AND r.created_seq <= $hi "
        "AND r.derived_from IS NOT NULL RETURN type(r) AS rel, count(r) AS n",
        {"lo": lo, "hi": hi},
    )
    return {
        "from": {"run": ra.id, "seq": ra.seq},
        "to": {"run": rb.id, "seq": rb.seq},
        "added": added,
        "derived_added": {r["rel"]: int(r["n"]) for r in derived if r["n"]},
        "total_added": sum(added.values()),
        "examples": samples,
        "aliases_added": len(aliases),
        "alias_examples": aliases[:examples],
    }


def rollback_run(store: GraphStore, run: str) -> WriteSummary:
    """Remove the knowledge edges a run created and the nodes it created that are now unused."""
    info = _run(store, run)
    total = WriteSummary()
    touched = intentions_of_run(store, info.id)
    for rel in RELATIONS:
        total += store.execute(
            f"MATCH ()-[r:{rel}]->() WHERE r.created_run = $run DELETE r", {"run": info.id}
        )
    for rel in ("SEARCH_BUY", "CO_BUY"):
        total += store.execute(
            f"MATCH ()-[r:{rel}]->() WHERE r.created_run = $run DELETE r", {"run": info.id}
        )
    for lbl in ("Intention", "Query", "Product"):
        total += store.execute(
            f"MATCH (n:{lbl}) WHERE n.created_run = $run OPTIONAL MATCH (n)-[e]-() "
            "WITH n, count(e) AS deg WHERE deg = 0 DELETE n",
            {"run": info.id},
        )
    taken = [
        {"i": a["intention"], "a": a["alias"]}
        for a in _alias_additions(store, info.seq - 1, info.seq)
    ]
    if taken:
        total += store.execute(
            "UNWIND $rows AS row MATCH (i:Intention {id: row.i}) "
            "SET i.aliases = [a IN i.aliases WHERE a <> row.a]",
            {"rows": taken},
        )
    refresh_product_counts(store, touched)  # intentions deleted above are simply not found
    store.execute("MATCH (r:LoadRun {id: $id}) SET r.status = 'rolled_back'", {"id": info.id})
    total.rows.clear()
    return total
