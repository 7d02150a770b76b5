"""GRAPH.BULK commands written by cosmo's own encoder, against a real FalkorDB."""

from __future__ import annotations

import numpy as np
import pytest

from cosmo.core.errors import GraphStoreError, InputError
from cosmo.kg.bulk_binary import (
    BulkWriter,
    Ragged,
    col_arrays,
    col_const,
    col_doubles,
    col_ints,
    col_values,
    concat_rows,
    encode_value,
)
from cosmo.kg.falkordb_store import FalkorDBStore


def test_values_are_typed_as_given() -> None:
    assert encode_value(None) == b"\x00" and encode_value(float("nan")) == b"\x00"
    assert encode_value("12") == b"\x0312\x00"  # a numeric-looking string stays a string
    assert encode_value(True)[0] == 1 and encode_value(3)[0] == 4 and encode_value(0.5)[0] == 2
    assert encode_value(["a", 1])[0] == 5
    with pytest.raises(TypeError):
        encode_value({"a": 1})


def test_the_encoder_refuses_control_characters_whatever_its_caller_did() -> None:
    for bad in ("model\x00x", "esc\x1b", "us\x1f"):
        with pytest.raises(InputError, match="control character"):
            encode_value(bad)
        with pytest.raises(InputError):
            col_values(["ok", ["x", bad]])
        with pytest.raises(InputError):
            col_const(bad, 2)
    assert encode_value("tab\tnl\ncr\r") == b"\x03tab\tnl\ncr\r\x00"
    writer = BulkWriter(lambda args: None)
    with pytest.raises(InputError, match="bulk header"):
        writer.add_nodes("Pro\x00duct", ["a"], {})


def test_columns_concatenate_row_by_row() -> None:
    a = Ragged.of([b"a", b"", b"ccc"])
    b = col_values(["x", None, "x"])
    rows = concat_rows([a, b])
    assert [rows.row(k) for k in range(3)] == [b"a\x03x\x00", b"\x00", b"ccc\x03x\x00"]
    assert [a.take(np.array([2, 0, 2])).row(k) for k in range(3)] == [b"ccc", b"a", b"ccc"]
    d = col_doubles([1.5, float("nan")])
    assert d.row(0) == encode_value(1.5) and d.row(1) == b"\x00"
    assert col_ints([7]).row(0) == encode_value(7) and col_const("r", 2).row(1) == encode_value("r")
    arr = col_arrays(col_values(["p", "q", "r"]), np.array([0, 2, 3]))
    assert arr.row(0) == encode_value(["p", "q"]) and arr.row(1) == encode_value(["r"])
    assert col_values([["a"], None]).row(0) == encode_value(["a"])
    mixed = col_values([1, True, 1.0, None])
    assert [mixed.row(k) for k in range(4)] == [encode_value(v) for v in (1, True, 1.0, None)]


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
        ids = [f"P{i}" for i in range(40)]
        n = w.add_nodes(
            "Product",
            ids,
            {
                "id": col_values(ids),
                "title": col_values([None if i % 3 == 0 else f"tïtle {i}" for i in range(40)]),
                "n": col_ints(range(40)),
                "ok": col_values([i % 2 == 0 for i in range(40)]),
            },
        )
        w.add_nodes(
            "Intention",
            ["I1", "I2"],
            {"id": col_values(["I1", "I2"]), "aliases": col_values([["12", "x"], []])},
        )
        elements = col_values([f"cb:{i}" for i in range(40)])
        e = w.add_edges(
            "USED_WITH",
            ("Product", ids),
            ("Intention", ["I1" if i % 2 else "I2" for i in range(40)]),
            {
                "sources": col_arrays(elements, np.arange(41)),
                "plausibility": col_doubles([i / 10 for i in range(40)]),
                "typicality": col_doubles([None if i % 2 else 0.5 for i in range(40)]),
                "run": col_const("r1", 40),
            },
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
        assert rows[4]["t"] == "tïtle 4" and rows[4]["i"] == "I2" and rows[4]["ty"] == 0.5
        aliases = st.query("MATCH (i:Intention {id: 'I1'}) RETURN i.aliases AS a")
        assert aliases == [{"a": ["12", "x"]}]
        # GRAPH.BULK BEGIN refuses a graph that exists: a clear error, nothing changed
        again = BulkWriter(send)
        again.add_nodes("Product", ["Z"], {"id": col_values(["Z"])})
        with pytest.raises(GraphStoreError):
            again.finish()
        assert st.query("MATCH (n) RETURN count(n) AS n") == [{"n": 42}]
    finally:
        st.clear()
