"""Import FolkScope / IntentionQA assertions as candidates.

FolkScope (Yu et al., 2023) explains co-purchases with assertions such as
"PersonX bought a product of Item A and a product of Item B because they both are
capable of keeping him warm." :func:`import_intentionqa` reads an IntentionQA file and maps
each gold assertion to a COSMO relation and tail with the rules of
:mod:`cosmo.ingest.intentionqa` (:func:`~cosmo.ingest.intentionqa.map_assertion`); the
assertions no rule covers are counted, not imported. The result is
:class:`~cosmo.core.records.Candidate` rows with ``origin="folkscope"`` and
``reference_score`` = the assertion's typicality.
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from cosmo.core.errors import InputError
from cosmo.core.records import Candidate
from cosmo.core.schema import RELATIONS, Behaviour
from cosmo.generation.runner import candidate_id
from cosmo.ingest.intentionqa import assertion_text, map_assertion, read_rows

__all__ = ["FolkScopeImport", "import_intentionqa"]


@dataclass
class FolkScopeImport:
    """Imported candidates and the mapping table."""

    candidates: list[Candidate] = field(default_factory=list)
    by_relation: Counter[str] = field(default_factory=Counter)
    by_rule: Counter[str] = field(default_factory=Counter)
    unmapped: int = 0
    unmapped_examples: list[str] = field(default_factory=list)
    duplicates: int = 0
    rejects: list[InputError] = field(default_factory=list)

    def table(self) -> list[tuple[str, int]]:
        """(relation, assertions) for all 15 relations plus ``(none)``; sums to the mapped rows."""
        return [(r, self.by_relation.get(r, 0)) for r in RELATIONS] + [("(none)", self.unmapped)]


def _text(v: object) -> str | None:
    return None if v is None else str(v)


def import_intentionqa(path: Path | str, pipeline_run: str = "folkscope-import") -> FolkScopeImport:
    """Read an IntentionQA/FolkScope JSONL and map every assertion (see the module docstring)."""
    rejects: list[InputError] = []
    out = FolkScopeImport(rejects=rejects)
    seen: set[str] = set()
    for line, v in read_rows(path, ("item_a_id", "item_b_id", "assertion"), problems=rejects):
        a, b, text = _text(v["item_a_id"]), _text(v["item_b_id"]), _text(v["assertion"])
        if not a or not b or a == b:
            msg = "needs two different product ids"
            out.rejects.append(InputError(msg, file=str(path), line=line, field="item_b_id"))
            continue
        if not text or not text.strip():
            msg = "assertion is empty"
            out.rejects.append(InputError(msg, file=str(path), line=line, field="assertion"))
            continue
        try:
            typ = float(v["typicality"]) if v.get("typicality") is not None else None
        except (TypeError, ValueError):
            msg = "typicality is not a number"
            out.rejects.append(InputError(msg, file=str(path), line=line, field="typicality"))
            continue
        mapped = map_assertion(text)
        if mapped is None:
            out.unmapped += 1
            if len(out.unmapped_examples) < 15:
                out.unmapped_examples.append(assertion_text(text))
            continue
        rel, tail, rule = mapped
        out.by_relation[rel] += 1
        out.by_rule[rule] += 1
        cid = candidate_id(Behaviour.CO_BUY.value, a, b, rel, tail, "folkscope", "folkscope")
        if cid in seen:
            out.duplicates += 1
            continue
        seen.add(cid)
        out.candidates.append(
            Candidate(
                candidate_id=cid,
                behaviour=Behaviour.CO_BUY,
                source=a,
                target=b,
                source_title=html.unescape(_text(v.get("item_a_name")) or "") or None,
                target_title=html.unescape(_text(v.get("item_b_name")) or "") or None,
                relation=rel,
                tail=tail,
                raw_output=text,
                prompt_version="folkscope",
                model="folkscope",
                params="{}",
                origin="folkscope",
                pipeline_run=pipeline_run,
                reference_score=typ,
            )
        )
    return out
