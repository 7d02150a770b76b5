"""What people annotate: candidates, the five questions, and labels.

An annotation item is one :class:`cosmo.core.records.Candidate` (its ``candidate_id``
is the item id). Each annotator answers five yes/no questions about it.

Until generation produces real candidates,
:func:`cosmo.refine.intentionqa.intentionqa_candidates` turns the public IntentionQA co-buy
file into candidates: the gold assertion of each pair (with its FolkScope typicality as
``reference_score``) and its three distractor intentions (which were written for other
pairs, so they are mostly wrong for this one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "QUESTIONS",
    "QUESTION_TEXT",
    "Label",
]

QUESTIONS: tuple[str, ...] = (
    "completeness",
    "relevance",
    "informativeness",
    "plausibility",
    "typicality",
)
"""The five yes/no questions of the COSMO annotation guideline, in the order asked."""

QUESTION_TEXT: dict[str, str] = {
    "completeness": "Is the explanation a complete, well-formed phrase?",
    "relevance": "Is it about these products (not about something else)?",
    "informativeness": "Does it say more than the product title or type already says?",
    "plausibility": "Is it a plausible reason for this purchase behaviour?",
    "typicality": "Is it a typical reason (many customers would do this for it)?",
}


@dataclass(frozen=True)
class Label:
    """One annotator's answers for one item."""

    item_id: str
    annotator: str
    answers: Mapping[str, bool]
    note: str = ""
    created_at: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def as_row(self) -> dict[str, Any]:
        row: dict[str, Any] = {"item_id": self.item_id, "annotator": self.annotator}
        for q in QUESTIONS:
            row[q] = bool(self.answers[q])
        row["note"] = self.note
        row["created_at"] = self.created_at
        return row
