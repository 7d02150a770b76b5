"""Annotation labels as the classifier reads them.

One row per (candidate, annotator) with the five yes/no answers of the COSMO guideline::

    {"candidate_id": "...", "annotator": "ann1", "completeness": true, "relevance": true,
     "informativeness": false, "plausibility": true, "typicality": false}

``item_id`` (the name :mod:`cosmo.refine.annotation` exports) is accepted for
``candidate_id``. Answers may be booleans, ``yes``/``no``, ``1``/``0`` or a share in
[0, 1] (e.g. the fraction of annotators who said yes). Rows may also carry the
candidate's text (behaviour, source, target, source_title, target_title, relation, tail);
otherwise they are joined to a candidates file by id.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cosmo.core.errors import InputError
from cosmo.core.records import Candidate
from cosmo.core.tables import read_table
from cosmo.refine.annotation.items import QUESTIONS

__all__ = ["QUESTIONS", "aggregate_labels", "candidates_for_labels", "read_labels"]

_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f"}


def _answer(value: Any, *, file: str | None, line: int, field: str) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        if 0.0 <= float(value) <= 1.0:
            return float(value)
        raise InputError(f"answer {value!r} is outside 0..1", file=file, line=line, field=field)
    text = str(value).strip().lower()
    if text == "":
        return None
    if text in _TRUE:
        return 1.0
    if text in _FALSE:
        return 0.0
    try:
        return _answer(float(text), file=file, line=line, field=field)
    except ValueError:
        raise InputError(
            f"answer {value!r} is not yes/no, true/false or a number in 0..1",
            file=file,
            line=line,
            field=field,
        ) from None


def read_labels(source: Path | Any, *, need: Sequence[str] = ("plausibility",)) -> Any:
    """Labels from a JSONL/CSV/Parquet file or a DataFrame, checked and normalised.

    Returns a DataFrame with ``candidate_id``, ``annotator`` and one float column per
    question present (NaN where unanswered). Raises :class:`InputError` for a missing
    column, a bad answer (file, line, field) or the same (candidate, annotator) twice
    with different answers.
    """
    import pandas as pd

    if isinstance(source, (str, Path)):
        file: str | None = str(source)
        table = read_table(source)
        frame, lines = table.frame, [int(n) for n in table.lines]
    else:
        file = None
        frame = source.copy()
        lines = list(range(1, len(frame) + 1))
    if "candidate_id" not in frame.columns and "item_id" in frame.columns:
        frame = frame.rename(columns={"item_id": "candidate_id"})
    if "candidate_id" not in frame.columns:
        raise InputError(
            "missing column candidate_id (or item_id)", file=file, field="candidate_id"
        )
    missing = [q for q in need if q not in frame.columns]
    if missing:
        raise InputError(
            f"missing answer column(s) {', '.join(missing)}", file=file, field=missing[0]
        )
    if "annotator" not in frame.columns:
        frame["annotator"] = "unknown"
    frame = frame.reset_index(drop=True)
    for q in QUESTIONS:
        if q in frame.columns:
            frame[q] = [
                _answer(v, file=file, line=n, field=q)
                for n, v in zip(lines, frame[q].tolist(), strict=True)
            ]
            frame[q] = pd.to_numeric(frame[q], errors="coerce")
    frame["candidate_id"] = frame["candidate_id"].astype(str)
    frame["annotator"] = frame["annotator"].astype(str)
    qs = [q for q in QUESTIONS if q in frame.columns]
    dup = frame.duplicated(["candidate_id", "annotator"], keep=False)
    if dup.any():
        for (cid, ann), grp in frame[dup].groupby(["candidate_id", "annotator"]):
            if len(grp[qs].drop_duplicates()) > 1:
                raise InputError(
                    f"conflicting labels for candidate {cid!r} by annotator {ann!r}",
                    file=file,
                    line=lines[int(grp.index[1])],
                    field="candidate_id",
                )
        frame = frame.drop_duplicates(["candidate_id", "annotator"])
    return frame


def aggregate_labels(labels: Any) -> Any:
    """One row per candidate: the mean of each answer over annotators (a soft label)."""
    qs = [q for q in QUESTIONS if q in labels.columns]
    out = labels.groupby("candidate_id", sort=False)[qs].mean()
    out["n_annotators"] = labels.groupby("candidate_id", sort=False)["annotator"].nunique()
    return out.reset_index()


_CONTEXT = ("behaviour", "source", "target", "relation", "tail")


def candidates_for_labels(
    labels: Any, candidates: Mapping[str, Candidate] | None = None, *, file: str | None = None
) -> list[Candidate]:
    """The candidate of every label row, by id from ``candidates`` or from the row's text.

    Raises :class:`InputError` naming the first unknown id.
    """
    out: list[Candidate] = []
    has_context = all(c in labels.columns for c in _CONTEXT)
    for i, row in enumerate(labels.to_dict("records"), start=1):
        cid = str(row["candidate_id"])
        if candidates is not None and cid in candidates:
            out.append(candidates[cid])
            continue
        if not has_context:
            raise InputError(
                f"unknown candidate_id {cid!r}: not in the candidates given, and the label row "
                "carries no candidate text (behaviour, source, target, relation, tail)",
                file=file,
                line=i,
                field="candidate_id",
            )
        data = {k: row.get(k) for k in Candidate.model_fields if row.get(k) is not None}
        data = {k: v for k, v in data.items() if not (isinstance(v, float) and math.isnan(v))}
        data.update(candidate_id=cid)
        for key, default in (
            ("raw_output", str(row["tail"])),
            ("prompt_version", "annotation"),
            ("model", "unknown"),
            ("params", "{}"),
            ("origin", "annotation"),
            ("pipeline_run", "annotation"),
        ):
            data.setdefault(key, default)
        try:
            out.append(Candidate.model_validate(data))
        except Exception as e:
            raise InputError(f"bad candidate text: {e}", file=file, line=i) from e
    return out
