"""GRAPH.BULK commands written by cosmo's own encoder, against a real FalkorDB."""

from __future__ import annotations

import pytest

from cosmo.errors import GraphStoreError
from cosmo.kg.bulk_binary import BulkWriter, encode_value
from cosmo.kg.falkordb_store import FalkorDBStore


def test_values_are_typed_as_given() -> None:
    assert encode_value(None) == b"\x00" and encode_value(float("nan")) == b"\x00"
    assert encode_value("12") == b"\x0312\x00"  # a numeric-looking string stays a string
    assert encode_value(True)[0] == 1 and encode_value(3)[0] == 4 and encode_value(0.5)[0] == 2
    assert encode_value(["a", 1])[0] == 5
    with pytest.raises(TypeError):
        encode_value({"a": 1})


def test_bulk_writer_builds_the_graph_over_several_commands(graph_settings) -> None:  # type: ignore[no-untyped-def]
    st = FalkorDBStore.from_settings(
        graph_settings.model_copy(update={"graph": graph_settings.graph + "_bin"})
    )
    st.clear()
    sent: list[int] = []

    def send(args: list) -> object:  # type: ignore[type-arg]
        sent.append(len(args))
        return st.raw_command("GRAPH.BULK", st.graph_name, *args)

    try:
        w = BulkWriter(send, max_bytes=600)  # tiny commands: tokens split across several
        n = w.add_nodes(
            "Product",
            ["id", "title", "n", "ok"],
            ([f"P{i}", None if i % 3 == 0 else f"tïtle {i}", i, i % 2 == 0] for i in range(40)),
        )
        w.add_nodes("Intention", ["id", "aliases"], [("I1", ["12", "x"]), ("I2", [])])
        e = w.add_edges(
            "USED_WITH",
            "Product",
            "Intention",
            ["sources", "plausibility", "typicality", "run"],
            ([f"P{i}", "I1" if i % 2 else "I2", [f"cb:{i}"], i / 10, None] for i in range(40)),
            constant=["r1"],
        )
        w.finish()
        assert (n, e) == (40, 40) and len(sent) > 2
        assert (w.nodes_created, w.edges_created) == (42, 40)
        rows = st.query(
            "MATCH (p:Product)-[r:USED_WITH]->(i:Intention) RETURN p.id AS p, p.title AS t, "
            "p.n AS n, p.ok AS ok, r.sources AS s, r.plausibility AS pl, r.typicality AS ty, "
            "r.run AS run, i.id AS i ORDER BY p.n"
        )
        assert rows[3] == {
            "p": "P3", "t": None, "n": 3, "ok": False, "s": ["cb:3"], "pl": 0.3, "ty": None,
            "run": "r1", "i": "I1",
        }  # fmt: skip
        assert rows[4]["t"] == "tïtle 4" and rows[4]["i"] == "I2"
        aliases = st.query("MATCH (i:Intention {id: 'I1'}) RETURN i.aliases AS a")
        assert aliases == [{"a": ["12", "x"]}]
        # GRAPH.BULK BEGIN refuses a graph that exists: a clear error, nothing changed
        again = BulkWriter(send)
        again.add_nodes("Product", ["id"], [("Z",)])
        with pytest.raises(GraphStoreError):
            again.finish()
        assert st.query("MATCH (n) RETURN count(n) AS n") == [{"n": 42}]
    finally:
        st.clear()
