from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cosmo.core.errors import InputError
from cosmo.gnn.session.data import expand_prefixes, load_cases, load_sessions, split_validation
from cosmo.gnn.session.metrics import rank_metrics, ranks_from_scores


def test_load_real_files(diginetica_dir: Path) -> None:
    sessions = load_sessions(diginetica_dir / "train_sessions.txt", limit=100)
    assert len(sessions) == 100 and all(len(s) >= 1 for s in sessions)
    cases = load_cases(diginetica_dir / "test.tsv", limit=50)
    assert len(cases) == 50 and cases.targets.dtype == np.int64
    assert cases.max_item <= 43097


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ("1 2\n3 x 4\n", 2, "items"),
        ("1 2\n\n", 2, "items"),
        ("0 1\n", 1, "items"),
    ],
)
def test_session_errors_name_line_and_field(
    tmp_path: Path, text: str, line: int, field: str
) -> None:
    p = tmp_path / "s.txt"
    p.write_text(text)
    with pytest.raises(InputError) as e:
        load_sessions(p)
    assert e.value.line == line and e.value.field == field and e.value.file == str(p)
    assert str(p) in str(e.value)


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ("1 2\t3\n1 2 3\n", 2, None),
        ("1 2\t3\n4\t5 6\n", 2, "target"),
        ("1 a\t3\n", 1, "prefix"),
        ("\t3\n", 1, "prefix"),
    ],
)
def test_case_errors(tmp_path: Path, text: str, line: int, field: str | None) -> None:
    p = tmp_path / "t.tsv"
    p.write_text(text)
    with pytest.raises(InputError) as e:
        load_cases(p)
    assert e.value.line == line and e.value.field == field


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_sessions(tmp_path / "nope.txt")


def test_expand_and_split() -> None:
    sessions = [[1, 2, 3], [4], [5, 6], [7, 8, 9, 10]]
    cases = expand_prefixes(sessions)
    assert cases.prefixes == [[1], [1, 2], [5], [7], [7, 8], [7, 8, 9]]
    assert cases.targets.tolist() == [2, 3, 6, 8, 9, 10]
    train, valid = split_validation(sessions, 0.25)
    assert train == sessions[:3]
    assert valid.targets.tolist() == [8, 9, 10]


def test_metrics_rank_all_items_with_pessimistic_ties() -> None:
    scores = np.array([[9.0, 0.1, 0.5, 0.3], [9.0, 0.2, 0.2, 0.1]], dtype=np.float32)
    ranks = ranks_from_scores(scores, np.array([3, 1]))
    assert ranks.tolist() == [2, 2]  # column 0 (padding) never counts
    m = rank_metrics(np.array([1, 2, 30]), k=20)
    assert m.precision == pytest.approx(200 / 3)
    assert m.mrr == pytest.approx(100 * (1 + 0.5) / 3)
