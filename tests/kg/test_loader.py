"""The KG loader against a real FalkorDB: validation, idempotency, versions, export, bulk."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cosmo.core.errors import InputError, SchemaError
from cosmo.kg.bulk import bulk_load_if_empty
from cosmo.kg.export import export_graph
from cosmo.kg.loader import load_behaviour, load_triples_file
from cosmo.kg.queries import knowledge_query
from cosmo.kg.versions import diff_runs, graph_stats, list_runs, rollback_run
from tests.kg.conftest import graph_dump


def _write(df: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".parquet":
        df.to_parquet(path)
    elif path.suffix == ".jsonl":
        df.to_json(path, orient="records", lines=True)
    else:
        df.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_load_is_idempotent(store, iqa_triples, tmp_path, suffix) -> None:  # type: ignore[no-untyped-def]
    path = _write(iqa_triples.head(300), tmp_path / f"t{suffix}")
    first = load_triples_file(store, path, batch_size=128)
    before = graph_stats(store)
    assert first.written.relationships_created > 0
    second = load_triples_file(store, path, batch_size=128)
    after = graph_stats(store)
    assert second.written.relationships_created == 0 and second.written.nodes_created == 0
    before["nodes"].pop("LoadRun")
    after["nodes"].pop("LoadRun")
    assert before == after
    # every knowledge edge keeps its provenance, counted once per pair
    rows = store.query(
        "MATCH (p:Product)-[r:USED_FOR_FUNC]->(i:Intention) RETURN r.sources AS s, r.frequency AS f"
    )
    assert rows and all(len(r["s"]) == r["f"] for r in rows)


def test_both_members_of_a_pair_reach_the_intention(store, iqa_triples, tmp_path) -> None:  # type: ignore[no-untyped-def]
    row = iqa_triples.iloc[0]
    load_triples_file(store, _write(iqa_triples.head(20), tmp_path / "t.csv"))
    out = store.query(
        "MATCH (a:Product {id: $a})-[r]->(i:Intention)<-[r2]-(b:Product) WHERE b <> a "
        "RETURN DISTINCT b.id AS b, i.text AS tail, r.sources AS sources",
        {"a": row["source"]},
    )
    assert {
        "b": row["target"],
        "tail": row["tail"],
        "sources": [f"cb:{min(row['source'], row['target'])}|{max(row['source'], row['target'])}"],
    } in out


def test_search_buy_traversal(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    df = pd.DataFrame(
        [
            {
                "behaviour": "search_buy",
                "source": "Winter  Tent",
                "target": "P1",
                "relation": "used_for_eve",
                "tail": "winter camping",
                "target_title": "4-season tent",
            },
            {
                "behaviour": "search_buy",
                "source": "winter tent",
                "target": "P2",
                "relation": "USED_FOR_EVE",
                "tail": "Winter camping",
                "target_title": "sleeping bag",
            },
        ]
    )
    load_triples_file(store, _write(df, tmp_path / "sb.csv"))
    rows = store.query(
        "MATCH (q:Query {key: 'winter tent'})-[:USED_FOR_EVE]->(i:Intention)<-[:USED_FOR_EVE]-(p:Product) "
        "RETURN DISTINCT p.title AS title ORDER BY title"
    )
    assert [r["title"] for r in rows] == ["4-season tent", "sleeping bag"]
    assert graph_stats(store)["relationships"]["SEARCH_BUY"] == 2


def test_bad_rows_are_reported_and_good_rows_loaded(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    df = pd.DataFrame(
        [
            {
                "behaviour": "co_buy",
                "source": "A",
                "target": "B",
                "relation": "USED_WITH",
                "tail": "a tent",
                "plausibility": "0.8",
            },
            {
                "behaviour": "co_buy",
                "source": "A",
                "target": "C",
                "relation": "NOT_A_RELATION",
                "tail": "x",
                "plausibility": "0.8",
            },
            {
                "behaviour": "bought",
                "source": "A",
                "target": "C",
                "relation": "USED_WITH",
                "tail": "x",
                "plausibility": "0.8",
            },
            {
                "behaviour": "co_buy",
                "source": "A",
                "target": "C",
                "relation": "USED_WITH",
                "tail": "",
                "plausibility": "0.8",
            },
            {
                "behaviour": "co_buy",
                "source": "A",
                "target": "C",
                "relation": "USED_WITH",
                "tail": "ok",
                "plausibility": "1.7",
            },
            {
                "behaviour": "co_buy",
                "source": "A",
                "target": "A",
                "relation": "USED_WITH",
                "tail": "ok",
                "plausibility": "0.5",
            },
        ]
    )
    report = load_triples_file(store, _write(df, tmp_path / "bad.csv"))
    assert report.loaded_rows == 1
    where = {(e.line, e.field) for e in report.errors}
    assert where == {
        (3, "relation"),
        (4, "behaviour"),
        (5, "tail"),
        (6, "plausibility"),
        (7, "target"),
    }
    assert all(str(tmp_path / "bad.csv") in str(e) for e in report.errors)
    assert graph_stats(store)["relationships"]["USED_WITH"] == 2


@pytest.mark.parametrize(
    "evil",
    [
        "USED_WITH]->() DETACH DELETE (n) //",
        "USED_WITH`]->(x) MATCH (n) DETACH DELETE n //",
        "Product) DETACH DELETE (x",
    ],
)
def test_injection_through_relation_names_is_refused(store, tmp_path, evil) -> None:  # type: ignore[no-untyped-def]
    store.execute("CREATE (:Product {id: 'keep'})")
    df = pd.DataFrame(
        [{"behaviour": "co_buy", "source": "A", "target": "B", "relation": evil, "tail": "x"}]
    )
    with pytest.raises(InputError, match="relation"):
        load_triples_file(store, _write(df, tmp_path / "evil.csv"))
    with pytest.raises(SchemaError):
        knowledge_query("Product", evil)
    with pytest.raises(SchemaError):
        knowledge_query(evil, "USED_WITH")
    assert store.query("MATCH (n) RETURN count(n) AS n")[0]["n"] >= 1
    assert store.query("MATCH (p:Product {id: 'keep'}) RETURN p.id AS id") == [{"id": "keep"}]


def test_injection_in_values_is_just_data(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    evil = "x'}) MATCH (n) DETACH DELETE n //"
    df = pd.DataFrame(
        [
            {
                "behaviour": "co_buy",
                "source": evil,
                "target": "B",
                "relation": "USED_WITH",
                "tail": evil,
            }
        ]
    )
    load_triples_file(store, _write(df, tmp_path / "v.csv"))
    assert store.query("MATCH (p:Product {id: $id}) RETURN p.id AS id", {"id": evil}) == [
        {"id": evil}
    ]


def test_wrong_encoding_names_the_line_and_writes_nothing(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "latin1.csv"
    p.write_bytes(
        "behaviour,source,target,relation,tail\nco_buy,A,B,USED_WITH,tent\nco_buy,A,C,USED_WITH,caf\xe9\n".encode(
            "latin-1"
        )
    )
    with pytest.raises(InputError, match=r"line 3.*UTF-8"):
        load_triples_file(store, p)
    assert store.query("MATCH (n) RETURN count(n) AS n")[0]["n"] == 0


@pytest.mark.parametrize("content", [b"", b"   \n", b"behaviour,source,target,relation,tail\n"])
def test_empty_files_are_clear_errors(store, tmp_path, content) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "empty.csv"
    p.write_bytes(content)
    with pytest.raises(InputError, match=r"empty|no rows"):
        load_triples_file(store, p)


def test_missing_column_and_malformed_json(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "cols.csv"
    p.write_text("behaviour,source,target,tail\nco_buy,A,B,x\n")
    with pytest.raises(InputError, match="relation"):
        load_triples_file(store, p)
    j = tmp_path / "bad.jsonl"
    j.write_text(
        '{"behaviour": "co_buy", "source": "A", "target": "B", "relation": "USED_WITH", "tail": "x"}\n{"behaviour": \n'
    )
    with pytest.raises(InputError, match="line 2"):
        load_triples_file(store, j)
    assert store.query("MATCH (n:Product) RETURN count(n) AS n")[0]["n"] == 0


def test_mostly_bad_file_is_refused_whole(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    df = pd.DataFrame(
        [{"behaviour": "co_buy", "source": "A", "target": "B", "relation": "NOPE", "tail": "x"}] * 3
        + [
            {
                "behaviour": "co_buy",
                "source": "A",
                "target": "B",
                "relation": "USED_WITH",
                "tail": "x",
            }
        ]
    )
    with pytest.raises(InputError, match="3 of 4 rows are invalid"):
        load_triples_file(store, _write(df, tmp_path / "m.csv"), max_rejected=0.5)
    assert store.query("MATCH (n:Product) RETURN count(n) AS n")[0]["n"] == 0


def test_versions_diff_and_rollback(store, iqa_triples, tmp_path) -> None:  # type: ignore[no-untyped-def]
    a = load_triples_file(store, _write(iqa_triples.iloc[:100], tmp_path / "a.parquet"))
    stats_a = graph_stats(store)
    b = load_triples_file(store, _write(iqa_triples.iloc[80:200], tmp_path / "b.parquet"))
    runs = list_runs(store)
    assert [r.seq for r in runs] == [1, 2] and all(r.status == "done" for r in runs)
    d = diff_runs(store, a.run_id, b.run_id)
    assert (
        d["total_added"]
        == b.written.relationships_created
        - graph_stats(store)["relationships"]["CO_BUY"]
        + stats_a["relationships"]["CO_BUY"]
    )
    rollback_run(store, str(b.seq))
    after = graph_stats(store)
    assert after["relationships"] == stats_a["relationships"]
    assert {k: v for k, v in after["nodes"].items() if k != "LoadRun"} == {
        k: v for k, v in stats_a["nodes"].items() if k != "LoadRun"
    }
    assert list_runs(store)[1].status == "rolled_back"
    with pytest.raises(InputError, match="no load run"):
        rollback_run(store, "run-nope")


def test_behaviour_counts_are_set_not_added(store) -> None:  # type: ignore[no-untyped-def]
    products = pd.DataFrame(
        {
            "product_id": ["P1", "P2"],
            "title": ["tent", "stove"],
            "product_type": ["tent", "stove"],
            "domain": ["outdoor"] * 2,
        }
    )
    sb = pd.DataFrame(
        {"query": ["camping gear", "Camping  Gear"], "product_id": ["P1", "P1"], "count": [3, 2]}
    )
    cb = pd.DataFrame({"product_a": ["P2"], "product_b": ["P1"], "count": [4]})
    for _ in range(2):
        load_behaviour(store, products=products, search_buy=sb, co_buy=cb)
    assert store.query(
        "MATCH (:Query {key: 'camping gear'})-[r:SEARCH_BUY]->(:Product {id: 'P1'}) RETURN r.count AS c"
    ) == [{"c": 5}]
    assert store.query(
        "MATCH (a:Product)-[r:CO_BUY]->(b:Product) RETURN a.id AS a, b.id AS b, r.count AS c"
    ) == [{"a": "P1", "b": "P2", "c": 4}]


def test_export_round_trip(store, iqa_triples, tmp_path) -> None:  # type: ignore[no-untyped-def]
    load_triples_file(store, _write(iqa_triples.head(150), tmp_path / "t.parquet"))
    paths = export_graph(store, tmp_path / "export", page=37)
    stats = graph_stats(store)
    assert len(pd.read_parquet(paths["products"])) == stats["nodes"]["Product"]
    assert len(pd.read_parquet(paths["intentions"])) == stats["nodes"]["Intention"]
    kn = pd.read_parquet(paths["knowledge"])
    assert len(kn) == sum(
        v for k, v in stats["relationships"].items() if k not in ("SEARCH_BUY", "CO_BUY")
    )
    assert len(pd.read_parquet(paths["co_buy"])) == stats["relationships"]["CO_BUY"]
    assert (tmp_path / "export" / "knowledge.parquet.manifest.json").exists()


def test_bulk_build_matches_incremental(graph_settings, store, iqa_triples, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from cosmo.kg.falkordb_store import FalkorDBStore

    path = _write(iqa_triples.head(400), tmp_path / "t.parquet")
    load_triples_file(store, path)
    inc = graph_stats(store)
    bulk_store = FalkorDBStore.from_settings(
        graph_settings.model_copy(update={"graph": graph_settings.graph + "_bulk"})
    )
    try:
        report = bulk_load_if_empty(bulk_store, path, settings=graph_settings)
        assert report is not None and report.written.relationships_created > 0
        assert {"read+validate", "plan", "encode+GRAPH.BULK", "indexes"} <= set(report.phases)
        assert graph_stats(bulk_store) == inc
        dump = graph_dump(store)
        assert any(d[0] == "edge" and dict(d[4]).get("sources") for d in dump)
        assert graph_dump(bulk_store) == dump  # same properties, not just counts
        assert (
            bulk_load_if_empty(bulk_store, path, settings=graph_settings) is None
        )  # not empty any more
        again = load_triples_file(bulk_store, path)  # incremental on top of bulk: nothing new
        assert again.written.relationships_created == 0
    finally:
        bulk_store.clear()


def test_nul_bytes_are_row_errors(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    df = pd.DataFrame(
        [
            {
                "behaviour": "co_buy",
                "source": "A",
                "target": "B",
                "relation": "USED_WITH",
                "tail": "a tent",
            },
            {
                "behaviour": "co_buy",
                "source": "A",
                "target": "C",
                "relation": "USED_WITH",
                "tail": "cut\x00here",
            },
        ]
    )
    report = load_triples_file(store, _write(df, tmp_path / "nul.jsonl"))
    assert report.loaded_rows == 1 and [(e.line, e.field) for e in report.errors] == [(2, "tail")]
