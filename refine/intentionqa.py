"""IntentionQA as labelled candidates: refinement input, classifier labels, annotation items.

Each IntentionQA task-1 row is a real Amazon co-buy pair with one gold intention (an
``assertion`` with FolkScope's typicality score) and three distractor intentions taken
from other pairs. :func:`intentionqa_candidates` turns them into :class:`Candidate` rows:

* the gold assertion → a candidate of its pair, ``origin="intentionqa"``,
  ``reference_score`` = typicality;
* each distractor → a candidate of the *same* pair that does not explain it,
  ``origin="intentionqa-distractor"``, no ``reference_score``.

An assertion becomes a relation and a tail by
:func:`cosmo.ingest.intentionqa.parse_assertion` (the one rule set). The tail is the
parsed phrase ("keeping food warm"), as generation writes tails; for people (annotation,
instruction data) ``tails="sentence"`` keeps the whole explanation ("because they both are
capable of keeping food warm."). A tail that is gold for a pair stays gold even where it is
also one of that pair's distractors. HTML entities (``&quot;``) are unescaped.
"""

from __future__ import annotations

import hashlib
import html
from itertools import islice
from pathlib import Path
from typing import Literal

from cosmo.core.records import Candidate
from cosmo.core.schema import Behaviour
from cosmo.ingest.intentionqa import assertion_text, assertions_of, parse_assertion, read_rows

__all__ = ["intentionqa_candidates"]


def _cid(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=10).hexdigest()


def intentionqa_candidates(
    path: Path | str,
    *,
    limit_pairs: int | None = None,
    limit_rows: int | None = None,
    distractors: bool = True,
    tails: Literal["phrase", "sentence"] = "phrase",
    pipeline_run: str = "intentionqa",
) -> list[Candidate]:
    """Candidates from IntentionQA task 1: gold intentions and (optionally) distractors.

    ``limit_pairs`` keeps the first N distinct co-buy pairs (file order), ``limit_rows`` the
    first N rows, for small demos and samples.

    Raises:
        InputError: a line is not JSON or lacks a field (file, line and field named).
    """
    out: dict[str, Candidate] = {}
    pairs: set[tuple[str, str]] = set()
    for _, row in islice(read_rows(path), limit_rows):
        pair = (str(row["item_a_id"]), str(row["item_b_id"]))
        if pair[0] == pair[1]:
            continue
        if pair not in pairs:
            if limit_pairs is not None and len(pairs) >= limit_pairs:
                continue
            pairs.add(pair)
        titles = (html.unescape(str(row["item_a_name"])), html.unescape(str(row["item_b_name"])))
        for text, gold in assertions_of(row) if distractors else assertions_of(row)[:1]:
            relation, tail = parse_assertion(text)
            if tails == "sentence":
                tail = html.unescape(assertion_text(text))
            cid = _cid(pair[0], pair[1], relation, tail.lower())
            if cid in out and (not gold or out[cid].origin == "intentionqa"):
                continue  # seen; a gold tail is never replaced by a distractor
            out[cid] = Candidate(
                candidate_id=cid,
                behaviour=Behaviour.CO_BUY,
                source=pair[0],
                target=pair[1],
                source_title=titles[0],
                target_title=titles[1],
                relation=relation,
                tail=tail,
                raw_output=text,
                prompt_version="intentionqa-task1",
                model="folkscope",
                params="{}",
                origin="intentionqa" if gold else "intentionqa-distractor",
                pipeline_run=pipeline_run,
                reference_score=float(row.get("typicality") or 0.0) if gold else None,
            )
    return list(out.values())
