"""No byte can corrupt the graph: control characters are refused on every input and write path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cosmo.core.errors import InputError
from cosmo.core.text import find_control
from cosmo.kg.bulk import bulk_build, bulk_load_if_empty
from cosmo.kg.loader import load_triples_file
from cosmo.kg.neo4j_import import write_import_csvs
from cosmo.kg.planner import plan_writes
from cosmo.kg.validate import validate_triples
from cosmo.kg.versions import graph_stats
from tests.kg.conftest import graph_dump


def _row(target: str, **extra: Any) -> dict[str, Any]:
    base = {"behaviour": "co_buy", "source": "A", "target": target}
    return {**base, "relation": "USED_WITH", "tail": f"a tent {target}", **extra}


def _hostile(tmp_path: Path) -> Path:
    """Line 1 is good; lines 2-4 hold a NUL or another control in an optional or key column."""
    rows = [
        _row("B", model="m", target_title="B title"),
        _row("C", model="m\x00x", target_title="C title"),
        _row("D", model="m", target_title="D\x1btitle"),
        _row("E", model="m", target_title="E title", tail="cut\x00here"),
    ]
    path = tmp_path / "hostile.jsonl"
    pd.DataFrame(rows).to_json(path, orient="records", lines=True)
    return path


def _no_control_stored(st: Any) -> None:
    dump = graph_dump(st)
    assert dump and all(find_control(list(map(str, d))) is None for d in dump)


EXPECTED = [(2, "model"), (3, "target_title"), (4, "tail")]


def test_control_characters_are_row_errors_in_every_column(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    report = load_triples_file(store, _hostile(tmp_path), max_rejected=0.9)
    assert report.loaded_rows == 1
    assert [(e.line, e.field) for e in report.errors] == EXPECTED
    assert "U+0000 (NUL)" in report.errors[0].message
    stats = graph_stats(store)
    assert stats["nodes"]["Product"] == 2 and stats["relationships"]["CO_BUY"] == 1
    _no_control_stored(store)


@pytest.mark.single_backend("GRAPH.BULK is FalkorDB's")
def test_the_bulk_path_refuses_control_characters(falkordb_settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from cosmo.kg.falkordb_store import FalkorDBStore

    settings = falkordb_settings.model_copy(update={"graph": "t_bulk_control"})
    st = FalkorDBStore.from_settings(settings)
    try:
        report = bulk_load_if_empty(st, _hostile(tmp_path), settings=settings, max_rejected=0.9)
        assert report is not None and report.loaded_rows == 1
        assert [(e.line, e.field) for e in report.errors] == EXPECTED
        assert graph_stats(st)["nodes"]["Product"] == 2
        _no_control_stored(st)
        st.clear()
        # a caller that skipped validation: the encoder refuses, and no graph is left
        bad = pd.DataFrame([_row("B", model="m\x00x")])
        checked = validate_triples(bad, np.array([2]), file="inline", text_checked=True)
        assert len(checked.frame) == 1  # not flagged: the check was skipped on purpose
        with pytest.raises(InputError, match="control character U\\+0000"):
            bulk_build(st, checked.frame, settings=settings)
        assert not st.exists()
    finally:
        st.clear()
        st.close()


def test_neo4j_import_csvs_refuse_control_characters(tmp_path: Path) -> None:
    run = {"id": "run-x", "seq": 1, "status": "done"}
    for field, value in (("model", "m\x00x"), ("target_title", "t\x1fu"), ("tail", "a\x01b")):
        bad = pd.DataFrame([_row("B", model="m"), _row("C", **{field: value})])
        checked = validate_triples(bad, np.array([2, 3]), file="inline", text_checked=True)
        with pytest.raises(InputError, match="control character"):
            write_import_csvs(plan_writes(checked.frame), tmp_path / field, run, "now")
    good = validate_triples(pd.DataFrame([_row("B", model="m")]), np.array([2]), file="inline")
    args, counts = write_import_csvs(plan_writes(good.frame), tmp_path / "ok", run, "now")
    assert counts.relationships_created > 0 and args


def _cli(settings: Any, *args: str) -> Any:
    from typer.testing import CliRunner

    from cosmo.cli import app
    from tests.conftest import settings_env

    return CliRunner().invoke(app, list(args), env=settings_env(settings))


def test_stats_of_an_empty_graph_are_zeros(graph_settings) -> None:  # type: ignore[no-untyped-def]
    from cosmo.kg.factory import open_store

    st = open_store(graph_settings)  # no setup, nothing loaded: the graph may not exist
    try:
        stats = graph_stats(st)
        if st.backend == "falkordb":  # the scratch graph that answered is gone
            assert not [g for g in st.client.list_graphs() if "__empty_" in g]
    finally:
        st.close()
    assert set(stats["nodes"].values()) == {0} and set(stats["relationships"].values()) == {0}
    out = _cli(graph_settings, "kg", "stats")
    assert out.exit_code == 0, out.output
    assert "Product" in out.output and "error" not in out.output.lower()


def test_a_refused_file_lists_every_bad_row(graph_settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = [_row("B")] + [_row(f"C{i}", tail="") for i in range(3)]
    path = tmp_path / "bad.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    rejects = tmp_path / "rejects.jsonl"
    out = _cli(graph_settings, "kg", "load", str(path), "--rejects", str(rejects))
    assert out.exit_code == 1 and "3 of 4 rows are invalid" in str(out.exception)
    assert "3 rejected rows listed in" in out.output and str(rejects) in out.output.replace(
        "\n", ""
    )
    listed = [json.loads(x) for x in rejects.read_text().splitlines()]
    assert [(r["line"], r["field"]) for r in listed] == [(3, "tail"), (4, "tail"), (5, "tail")]


@pytest.mark.single_backend("GRAPH.BULK is FalkorDB's")
def test_the_bulk_path_records_its_load_run_before_the_edges(
    falkordb_settings, iqa_triples, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from cosmo.kg.falkordb_store import FalkorDBStore

    settings = falkordb_settings.model_copy(update={"graph": "t_bulk_run_first"})
    st = FalkorDBStore.from_settings(settings)
    sent: list[list[Any]] = []
    raw = st.raw_command

    def recording(*args: Any) -> Any:  # the real server answers; the order is recorded
        sent.append(list(args))
        return raw(*args)

    st.raw_command = recording  # type: ignore[method-assign]
    try:
        path = tmp_path / "t.parquet"
        iqa_triples.head(200).to_parquet(path)
        report = bulk_load_if_empty(st, path, settings=settings)
        bulk = [a for a in sent if a[0] == "GRAPH.BULK"]  # CONFIG around the build aside
        assert report is not None and bulk and bulk[0][2] == "BEGIN"
        first_labels = bulk[0][7 : 7 + int(bulk[0][5])]
        assert first_labels[0].startswith(b"LoadRun\x00")  # before any node or edge
        runs = st.query("MATCH (r:LoadRun) RETURN r.id AS id, r.status AS s, r.seq AS seq")
        assert runs == [{"id": report.run_id, "s": "done", "seq": 1}]
        orphans = st.query(
            "MATCH ()-[e]->() OPTIONAL MATCH (r:LoadRun {id: e.created_run}) "
            "WITH e, r WHERE r IS NULL RETURN count(e) AS n"
        )
        assert orphans == [{"n": 0}]
        assert graph_stats(st)["nodes"]["LoadRun"] == 1
    finally:
        st.clear()
        st.close()


def test_an_export_that_fails_leaves_the_previous_export_whole(tmp_path: Path) -> None:
    from cosmo.kg.export import KGTables

    out = tmp_path / "export"
    products = pd.DataFrame({"id": ["P1", "P2"], "title": ["a", "b"]})
    KGTables.from_frames(products=products).write_parquet(out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad = KGTables.from_frames(
        products=products, intentions=pd.DataFrame({"id": ["i"], "text": ["t"]})
    )
    bad.knowledge = pd.DataFrame({c: [object()] for c in bad.knowledge.columns})  # Arrow refuses
    with pytest.raises(Exception, match="object"):
        bad.write_parquet(out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_behaviour_frames_with_a_control_character_write_nothing(store) -> None:  # type: ignore[no-untyped-def]
    from cosmo.kg.loader import load_behaviour

    products = pd.DataFrame({"product_id": ["P1", "P2"], "title": ["ok", "bad\x1b[0m"]})
    co_buy = pd.DataFrame({"product_a": ["P1"], "product_b": ["P2"], "count": [1]})
    with pytest.raises(InputError, match=r"products, field 'title': row 2: .*U\+001B"):
        load_behaviour(store, products=products, co_buy=co_buy)
    assert graph_stats(store)["nodes"]["Product"] == 0
