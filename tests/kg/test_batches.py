"""Batch plumbing: rows built on demand, batches prepared ahead, errors and order kept."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cosmo.core.errors import GraphStoreError
from cosmo.core.schema import pair_key
from cosmo.kg.batches import LazyRows, Planned, run_batches
from cosmo.kg.planner import plan_writes
from cosmo.kg.store import WriteSummary
from cosmo.kg.validate import validate_triples


def _rows(a: int, b: int) -> list[dict[str, Any]]:
    return [{"k": k} for k in range(a, b)]


def test_lazy_rows_behave_like_a_list() -> None:
    lazy, eager = LazyRows(10, _rows), _rows(0, 10)
    assert len(lazy) == 10 and list(lazy) == eager and lazy == eager
    assert lazy[3:7] == eager[3:7] and lazy[8:100] == eager[8:100] and lazy[5:2] == []
    assert lazy[-1] == eager[-1] and lazy[::3] == eager[::3]
    with pytest.raises(IndexError):
        lazy[10]


class _Recorder:
    """A GraphStore fake that records the batches it executes (and can fail on one)."""

    backend = "falkordb"

    def __init__(self, fail_at: int | None = None) -> None:
        self.seen: list[list[int]] = []
        self.fail_at = fail_at

    def execute(self, cypher: str, params: Mapping[str, Any] | None = None) -> WriteSummary:
        assert params is not None and params["run"] == "r"
        if self.fail_at is not None and len(self.seen) == self.fail_at:
            raise GraphStoreError("boom")
        self.seen.append([r["k"] for r in params["rows"]])
        return WriteSummary(properties_set=len(params["rows"]))


def test_run_batches_keeps_order_skips_done_batches_and_raises() -> None:
    steps = [("A", LazyRows(7, _rows)), ("B", _rows(100, 103))]
    rec = _Recorder()
    events = list(run_batches(rec, iter(steps), batch_size=3, params={"run": "r"}))  # type: ignore[arg-type]
    planned = [e for e in events if isinstance(e, Planned)]
    assert [(p.batches, p.rows) for p in planned] == [(4, 10)]
    got = [e for e in events if not isinstance(e, Planned)]
    assert [b.number for b, _ in got] == [1, 2, 3, 4]
    assert rec.seen == [[0, 1, 2], [3, 4, 5], [6], [100, 101, 102]]
    assert sum(s.properties_set for _, s in got if s is not None) == 10

    resumed = _Recorder()
    events = list(
        run_batches(resumed, steps, batch_size=3, params={"run": "r"}, skip_batches=2)  # type: ignore[arg-type]
    )
    assert resumed.seen == [[6], [100, 101, 102]]
    assert [
        (b.number, s is None) for b, s in (e for e in events if not isinstance(e, Planned))
    ] == [
        (1, True),
        (2, True),
        (3, False),
        (4, False),
    ]

    def bad_plan():  # type: ignore[no-untyped-def]
        yield steps[0]
        raise ValueError("plan failed")

    with pytest.raises(ValueError, match="plan failed"):
        list(run_batches(_Recorder(), bad_plan(), batch_size=3, params={"run": "r"}))  # type: ignore[arg-type]

    failing = _Recorder(fail_at=1)
    with pytest.raises(GraphStoreError, match="boom"):
        list(run_batches(failing, steps, batch_size=3, params={"run": "r"}))  # type: ignore[arg-type]
    assert failing.seen == [[0, 1, 2]]
    # the worker threads have stopped (not left blocked on a queue)
    assert not [t for t in threading.enumerate() if t.name.startswith("cosmo-kg-")]


def test_planned_pair_keys_match_the_schema() -> None:
    df = pd.DataFrame(
        {
            "behaviour": ["co_buy", "co_buy", "search_buy", "search_buy"],
            "source": ["B2", "A1", "  Red  Tent!", "red tent"],
            "target": ["A1", "B2", "A1", "C3"],
            "relation": ["USED_WITH", "USED_WITH", "USED_FOR_FUNC", "USED_FOR_FUNC"],
            "tail": ["camping", "camping", "camping", "camping"],
        }
    )
    checked = validate_triples(df, np.arange(1, len(df) + 1), file="x")
    steps = plan_writes(checked.frame)
    planned = {p[0] for st in steps if st.kind == "knowledge" for r in st.rows for p in r["pairs"]}
    expected = {
        pair_key(b, s, t)
        for b, s, t in zip(df["behaviour"], df["source"], df["target"], strict=True)
    }
    assert planned == expected
    queries = [r["key"] for st in steps if st.kind == "queries" for r in st.rows]
    assert queries == ["red tent"]
