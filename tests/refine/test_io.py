"""Bad input gets clear errors naming file, line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cosmo.core.artifacts import read_candidates, write_triples
from cosmo.core.errors import InputError
from cosmo.refine.labels import candidates_for_labels, read_labels


def _rows(small_candidates, n=3):  # type: ignore[no-untyped-def]
    return [c.model_dump(mode="json") for c in small_candidates[:n]]


def test_candidates_round_trip_through_parquet(tmp_path: Path, small_candidates) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "candidates.parquet"
    pd.DataFrame(_rows(small_candidates, 10)).to_parquet(path)
    assert read_candidates(path) == list(small_candidates[:10])


def test_missing_column_is_named(tmp_path: Path, small_candidates) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "c.parquet"
    pd.DataFrame(_rows(small_candidates)).drop(columns=["tail"]).to_parquet(path)
    with pytest.raises(InputError, match=r"missing column.*tail") as e:
        read_candidates(path)
    assert e.value.field == "tail" and e.value.file == str(path)


def test_bad_value_names_line_and_field(tmp_path: Path, small_candidates) -> None:  # type: ignore[no-untyped-def]
    rows = _rows(small_candidates)
    rows[1]["behaviour"] = "window_shopping"
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    with pytest.raises(InputError) as e:
        read_candidates(path)
    # JSONL: the second object is on line 2; CSV: the header is line 1, so it is on line 3
    assert e.value.line == 2 and e.value.field == "behaviour"
    csv_path = tmp_path / "c.csv"
    pd.DataFrame(rows).to_csv(csv_path, index=False)
    with pytest.raises(InputError) as e:
        read_candidates(csv_path)
    assert e.value.line == 3 and e.value.field == "behaviour"


def test_truncated_jsonl_and_duplicate_ids(tmp_path: Path, small_candidates) -> None:  # type: ignore[no-untyped-def]
    rows = _rows(small_candidates)
    text = "\n".join(json.dumps(r) for r in rows)
    path = tmp_path / "c.jsonl"
    path.write_text(text[:-20])
    with pytest.raises(InputError, match="truncated") as e:
        read_candidates(path)
    assert e.value.line == 3
    path.write_text("\n".join(json.dumps(r) for r in [*rows, rows[0]]))
    with pytest.raises(InputError, match="duplicate candidate_id") as e:
        read_candidates(path)
    assert e.value.field == "candidate_id"
    with pytest.raises(InputError, match="not found"):
        read_candidates(tmp_path / "nope.parquet")


def test_labels_unknown_ids_conflicts_and_bad_answers(tmp_path: Path, small_candidates) -> None:  # type: ignore[no-untyped-def]
    known = {c.candidate_id: c for c in small_candidates}
    good = {
        "candidate_id": small_candidates[0].candidate_id,
        "annotator": "a",
        "plausibility": "yes",
        "typicality": "no",
    }
    labels = read_labels(pd.DataFrame([good]))
    assert labels.loc[0, "plausibility"] == 1.0 and labels.loc[0, "typicality"] == 0.0
    unknown = read_labels(pd.DataFrame([{**good, "candidate_id": "nope"}]))
    with pytest.raises(InputError, match="unknown candidate_id 'nope'") as e:
        candidates_for_labels(unknown, known)
    assert e.value.line == 1
    path = tmp_path / "labels.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "plausibility": "no"}) + "\n")
    with pytest.raises(InputError, match="conflicting labels") as e:
        read_labels(path)
    assert e.value.line == 2
    path.write_text(json.dumps({**good, "plausibility": "maybe"}) + "\n")
    with pytest.raises(InputError, match="not yes/no") as e:
        read_labels(path)
    assert e.value.field == "plausibility" and e.value.line == 1
    path.write_text(json.dumps({"annotator": "a", "plausibility": True}) + "\n")
    with pytest.raises(InputError, match="candidate_id"):
        read_labels(path)
    # identical duplicate rows are harmless; item_id is accepted for candidate_id
    item = {**good, "item_id": good["candidate_id"]}
    del item["candidate_id"]
    assert len(read_labels(pd.DataFrame([item, item]))) == 1


def test_triples_written_in_the_kg_format(tmp_path: Path) -> None:
    from cosmo.core.records import TRIPLE_COLUMNS, KnowledgeTriple

    t = KnowledgeTriple(
        behaviour="co_buy",
        source="A",
        target="B",
        relation="USED_TO",
        tail="keep warm",
        aliases=("keeping warm",),
        plausibility=0.9,
        typicality=0.4,
        frequency=2,
    )
    for suffix in ("parquet", "jsonl", "csv"):
        path = tmp_path / f"t.{suffix}"
        assert write_triples([t], path) == 1
        frame = (
            pd.read_parquet(path)
            if suffix == "parquet"
            else (pd.read_json(path, lines=True) if suffix == "jsonl" else pd.read_csv(path))
        )
        assert list(frame.columns) == list(TRIPLE_COLUMNS)
        row = frame.iloc[0].to_dict()
        assert KnowledgeTriple.model_validate(
            {k: v for k, v in row.items() if not (isinstance(v, float) and v != v)}
        ).aliases == ("keeping warm",)
