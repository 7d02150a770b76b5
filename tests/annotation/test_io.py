"""Export and import: round trips, and bad files that must be refused without losing data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cosmo.core.errors import InputError
from cosmo.core.manifest import read_manifest
from cosmo.refine.annotation import (
    QUESTIONS,
    AnnotationImportError,
    AnnotationStore,
    Label,
    export_labels,
    import_labels,
)


def answers(i: int) -> dict[str, bool]:
    return {q: (i + k) % 3 != 0 for k, q in enumerate(QUESTIONS)}


@pytest.fixture
def labelled(ann_store: AnnotationStore) -> AnnotationStore:
    ids = [it["item_id"] for it in ann_store.items()]
    for i, item_id in enumerate(ids[:6]):
        ann_store.save_label(Label(item_id, "alice", answers(i), note=f"n{i}"))
    for i, item_id in enumerate(ids[:4]):
        ann_store.save_label(Label(item_id, "bob", answers(i + 1)))
    return ann_store


def snapshot(store: AnnotationStore) -> list[tuple]:
    return [(lab.item_id, lab.annotator, dict(lab.answers), lab.note) for lab in store.labels()]


@pytest.mark.parametrize("suffix", ["jsonl", "csv"])
def test_round_trip(labelled: AnnotationStore, iqa_candidates, tmp_path: Path, suffix: str):
    out = export_labels(labelled, tmp_path / f"labels.{suffix}")
    assert read_manifest(out)["counts"]["labels"] == 10
    fresh = AnnotationStore(tmp_path / "fresh.sqlite")
    fresh.add_items(iqa_candidates[:12])
    rep = import_labels(fresh, out)
    assert (rep.inserted, rep.unchanged, rep.rows) == (10, 0, 10)
    assert snapshot(fresh) == snapshot(labelled)
    # importing again is harmless
    rep = import_labels(fresh, out)
    assert (rep.inserted, rep.unchanged) == (0, 10)
    assert snapshot(fresh) == snapshot(labelled)


def test_exported_csv_is_readable(labelled: AnnotationStore, tmp_path: Path):
    text = export_labels(labelled, tmp_path / "l.csv").read_text()
    header, first = text.splitlines()[:2]
    assert header.startswith("item_id,annotator,completeness,relevance")
    assert ",yes," in first or ",no," in first
    assert "because" in first  # the tail is there for people reading the file


def write_jsonl(path: Path, rows: list[dict], tail: str = "") -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + tail)
    return path


def rows_for(store: AnnotationStore, annotator: str, n: int, start: int = 6) -> list[dict]:
    ids = [it["item_id"] for it in store.items()]
    return [{"item_id": ids[start + i], "annotator": annotator, **answers(i)} for i in range(n)]


def refused(store: AnnotationStore, path: Path) -> AnnotationImportError:
    before = snapshot(store)
    with pytest.raises(AnnotationImportError) as e:
        import_labels(store, path)
    assert snapshot(store) == before, "a refused import must not change the store"
    assert e.value.file == str(path)
    assert "nothing from this file was imported" in str(e.value)
    return e.value


def test_unknown_item_id(labelled: AnnotationStore, tmp_path: Path):
    rows = rows_for(labelled, "carol", 3)
    rows[1]["item_id"] = "cand_does_not_exist"
    err = refused(labelled, write_jsonl(tmp_path / "bad.jsonl", rows))
    assert (err.line, err.field) == (2, "item_id")
    assert "unknown item id 'cand_does_not_exist'" in str(err)
    assert str(err).startswith(f"{tmp_path / 'bad.jsonl'}, line 2, field 'item_id'")


def test_conflicting_rows_in_one_file(labelled: AnnotationStore, tmp_path: Path):
    rows = rows_for(labelled, "carol", 3)
    clash = dict(rows[0])
    clash["typicality"] = not clash["typicality"]
    err = refused(labelled, write_jsonl(tmp_path / "c.jsonl", [*rows, clash]))
    assert (err.line, err.field) == (4, "typicality")
    assert "conflicting labels" in str(err) and "line 1" in str(err)


def test_conflict_with_a_stored_label(labelled: AnnotationStore, tmp_path: Path):
    stored = labelled.labels("alice")[0]
    row = {"item_id": stored.item_id, "annotator": "alice", **stored.answers}
    row["plausibility"] = not row["plausibility"]
    err = refused(
        labelled, write_jsonl(tmp_path / "s.jsonl", [*rows_for(labelled, "carol", 2), row])
    )
    assert (err.line, err.field) == (3, "plausibility")
    assert "conflicts with the stored label" in str(err)


def test_duplicate_rows(labelled: AnnotationStore, tmp_path: Path):
    rows = rows_for(labelled, "carol", 3)
    err = refused(labelled, write_jsonl(tmp_path / "d.jsonl", [*rows, rows[2]]))
    assert err.line == 4 and "duplicate row (same as line 3)" in str(err)


def test_truncated_jsonl(labelled: AnnotationStore, tmp_path: Path):
    rows = rows_for(labelled, "carol", 4)
    cut = json.dumps(rows[3])[:40]
    err = refused(labelled, write_jsonl(tmp_path / "t.jsonl", rows[:3], tail=cut))
    assert err.line == 4 and "truncated" in str(err)


def test_truncated_csv(labelled: AnnotationStore, tmp_path: Path):
    good = export_labels(labelled, tmp_path / "all.csv").read_text()
    lines = good.splitlines()
    new = [line.replace(",alice,", ",dave,") for line in lines[1:]]
    text = "\n".join([lines[0], *new]) + "\n"
    cut = text[: text.rindex(",no,") + 3] if ",no," in new[-1] else text[:-30]
    path = tmp_path / "t.csv"
    path.write_text(cut)
    err = refused(labelled, path)
    assert err.line == len(new) + 1 and "truncated" in str(err)
    assert err.field is not None


def test_bad_answer_and_every_problem_listed(labelled: AnnotationStore, tmp_path: Path):
    rows = rows_for(labelled, "carol", 4)
    rows[0]["relevance"] = "maybe"
    del rows[2]["typicality"]
    rows[3]["item_id"] = "cand_x"
    err = refused(labelled, write_jsonl(tmp_path / "m.jsonl", rows))
    assert [(p.line, p.field) for p in err.problems] == [
        (1, "relevance"),
        (3, "typicality"),
        (4, "item_id"),
    ]
    assert "and 2 more problems" in str(err)
    assert "line 3, field 'typicality'" in err.describe()


def test_unknown_format_and_missing_file(labelled: AnnotationStore, tmp_path: Path):
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(InputError, match="unknown format"):
        import_labels(labelled, tmp_path / "x.txt")
    with pytest.raises(InputError, match="file not found"):
        import_labels(labelled, tmp_path / "missing.jsonl")


def test_csv_header_must_name_the_questions(labelled: AnnotationStore, tmp_path: Path):
    path = tmp_path / "h.csv"
    path.write_text("item_id,annotator,completeness\nx,y,yes\n")
    err = refused(labelled, path)
    assert (err.line, err.field) == (1, "relevance")
