"""Import candidates generated elsewhere (a GPU cluster, another tool) with their provenance.

The import format is a CSV, Parquet or JSONL table, one candidate tail per row:

================ ======== ==================================================================
column           required meaning
================ ======== ==================================================================
behaviour        yes      ``search_buy`` or ``co_buy``
source           yes      query text (search_buy) or product A id (co_buy)
target           yes      purchased product id, or product B id
relation         yes      one of the 15 COSMO relations (any case)
tail             yes      the candidate intention, e.g. "camping in cold weather"
source_title     no       product A's title (co_buy)
target_title     no       the target product's title
target_type      no       product type of the target
target_domain    no       domain / category of the target
raw_output       no       the generator's whole answer (default: the tail)
model            no       generator name (default: ``unknown``)
prompt_version   no       prompt template version (default: ``external``)
params           no       JSON of the sampling parameters (default ``{}``)
origin           no       where it came from (default: ``imported``)
reference_score  no       a score that came with it, 0..1 (e.g. typicality)
================ ======== ==================================================================

Rows that break a rule are rejected with file, line and field; the rest are imported.
Candidate ids are recomputed, so the same row imported twice is the same candidate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from cosmo.core.errors import InputError, SchemaError
from cosmo.core.records import Candidate
from cosmo.core.schema import Behaviour, normalise_text, relation_type
from cosmo.core.tables import read_table, resolve_columns
from cosmo.generation.runner import candidate_id

__all__ = ["IMPORT_COLUMNS", "ImportResult", "import_candidates"]

REQUIRED = ("behaviour", "source", "target", "relation", "tail")
OPTIONAL = (
    "source_title",
    "target_title",
    "target_type",
    "target_domain",
    "raw_output",
    "model",
    "prompt_version",
    "params",
    "origin",
    "reference_score",
)
IMPORT_COLUMNS = REQUIRED + OPTIONAL


@dataclass
class ImportResult:
    candidates: list[Candidate] = field(default_factory=list)
    rejects: list[InputError] = field(default_factory=list)
    duplicates: int = 0


def import_candidates(
    path: Path | str, pipeline_run: str = "import", fmt: str | None = None
) -> ImportResult:
    """Read candidates in the import format (see the module docstring)."""
    table = read_table(path, fmt, lenient=True)
    cols = resolve_columns(table, REQUIRED, OPTIONAL)
    out = ImportResult(rejects=list(table.rejects))
    seen: set[str] = set()
    for row in table.rows:
        v = {k: row.values.get(c) for k, c in cols.items()}

        def bad(msg: str, name: str, line: int = row.line) -> None:
            out.rejects.append(
                InputError(msg, file=str(table.path), line=line, field=cols.get(name, name))
            )

        missing = next((k for k in REQUIRED if not (v.get(k) or "").strip()), None)
        if missing:
            bad(f"{missing} is empty", missing)
            continue
        try:
            behaviour = Behaviour((v["behaviour"] or "").strip().lower())
        except ValueError:
            bad(f"behaviour must be search_buy or co_buy, got {v['behaviour']!r}", "behaviour")
            continue
        try:
            rel = relation_type(v["relation"] or "")
        except SchemaError as e:
            bad(e.reason, "relation")
            continue
        tail = " ".join((v["tail"] or "").split())
        if not normalise_text(tail):
            bad("tail has no words", "tail")
            continue
        score = None
        if v.get("reference_score") not in (None, ""):
            try:
                score = float(v["reference_score"] or "")
            except ValueError:
                bad("reference_score is not a number", "reference_score")
                continue
            if not 0.0 <= score <= 1.0:
                bad("reference_score must be between 0 and 1", "reference_score")
                continue
        model = v.get("model") or "unknown"
        version = v.get("prompt_version") or "external"
        source, target = (v["source"] or "").strip(), (v["target"] or "").strip()
        cid = candidate_id(behaviour.value, source, target, rel, tail, model, version)
        if cid in seen:
            out.duplicates += 1
            continue
        try:
            cand = Candidate(
                candidate_id=cid,
                behaviour=behaviour,
                source=source,
                target=target,
                source_title=v.get("source_title"),
                target_title=v.get("target_title"),
                target_type=v.get("target_type"),
                target_domain=v.get("target_domain"),
                relation=rel,
                tail=tail,
                raw_output=v.get("raw_output") or tail,
                prompt_version=version,
                model=model,
                params=v.get("params") or "{}",
                origin=v.get("origin") or "imported",
                pipeline_run=pipeline_run,
                reference_score=score,
            )
        except ValidationError as e:
            bad(str(e.errors()[0].get("msg")), str(e.errors()[0]["loc"][0]))
            continue
        seen.add(cid)
        out.candidates.append(cand)
    return out
