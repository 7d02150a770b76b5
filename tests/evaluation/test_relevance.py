"""ESCI relevance: the Parquet loader and the with/without-KG comparison on a built sample.

No ESCI data is available offline, so the sample is constructed here in the ESCI column
format; whether a product is relevant depends on the intentions the KG links to the query
and the product, which the titles do not reveal.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cosmo.core.embeddings import TextVectors
from cosmo.core.errors import InputError
from cosmo.evaluation.relevance import compare, load_esci, relevance_features
from cosmo.kg.export import KGTables

INTENTIONS = [
    "camping in cold weather",
    "feeding a baby",
    "working from home",
    "running a marathon",
    "grooming a dog",
    "hosting a party",
]


def _sample(
    n_queries: int = 40, n_products: int = 80, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame, KGTables]:
    rng = np.random.default_rng(seed)
    q_int = rng.integers(0, len(INTENTIONS), n_queries)
    p_int = rng.integers(0, len(INTENTIONS), n_products)
    examples = []
    for qn in range(n_queries):
        for pn in rng.choice(n_products, 12, replace=False):
            label = "E" if q_int[qn] == p_int[pn] else "I"
            for locale in ("us", "es"):
                examples.append(
                    {
                        "example_id": len(examples),
                        "query": f"query number {qn}",
                        "query_id": qn,
                        "product_id": f"P{pn}",
                        "product_locale": locale,
                        "esci_label": label,
                        "small_version": 1,
                        "large_version": 1,
                        "split": "train" if qn < n_queries * 3 // 4 else "test",
                    }
                )
    products = pd.DataFrame(
        [
            {
                "product_id": f"P{pn}",
                "product_locale": loc,
                "product_title": f"catalogue item {pn} model {pn % 7}",
                "product_description": None,
                "product_bullet_point": None,
                "product_brand": "acme",
                "product_color": None,
            }
            for pn in range(n_products)
            for loc in ("us", "es")
        ]
    )
    kg = KGTables.from_frames(
        intentions=pd.DataFrame(
            {"id": [f"i{k}" for k in range(len(INTENTIONS))], "text": INTENTIONS}
        ),
        knowledge=pd.DataFrame(
            [
                {
                    "head_label": "Query",
                    "head_id": f"query number {qn}",
                    "relation": "USED_FOR_EVE",
                    "intention_id": f"i{q_int[qn]}",
                }
                for qn in range(n_queries)
            ]
            + [
                {
                    "head_label": "Product",
                    "head_id": f"P{pn}",
                    "relation": "USED_FOR_EVE",
                    "intention_id": f"i{p_int[pn]}",
                }
                for pn in range(n_products)
            ]
        ),
    )
    return pd.DataFrame(examples), products, kg


def test_load_esci_filters_and_joins(tmp_path: Path) -> None:
    ex, pr, _ = _sample()
    ex.to_parquet(tmp_path / "shopping_queries_dataset_examples.parquet")
    pr.to_parquet(tmp_path / "shopping_queries_dataset_products.parquet")
    df = load_esci(
        tmp_path / "shopping_queries_dataset_examples.parquet",
        tmp_path / "shopping_queries_dataset_products.parquet",
        split="train",
    )
    assert list(df.columns) == ["query", "product_id", "title", "label", "split"]
    assert len(df) == (ex["split"] == "train").sum() // 2  # one locale
    assert df["title"].str.startswith("catalogue item").all()


def test_load_esci_names_bad_input(tmp_path: Path) -> None:
    ex, pr, _ = _sample(4, 20)
    pr.to_parquet(tmp_path / "p.parquet")
    ex.loc[3, "esci_label"] = "X"
    ex.to_parquet(tmp_path / "e.parquet")
    with pytest.raises(InputError) as e:
        load_esci(tmp_path / "e.parquet", tmp_path / "p.parquet", locale=None)
    assert e.value.field == "esci_label" and e.value.line == 5
    ex.drop(columns=["query"]).to_parquet(tmp_path / "e2.parquet")
    with pytest.raises(InputError, match="missing column"):
        load_esci(tmp_path / "e2.parquet", tmp_path / "p.parquet")
    with pytest.raises(InputError, match="not found"):
        load_esci(tmp_path / "nope.parquet", tmp_path / "p.parquet")


def test_kg_features_carry_what_the_titles_do_not(tmp_path: Path, hash_embedder) -> None:  # type: ignore[no-untyped-def]
    ex, pr, kg = _sample()
    ex.to_parquet(tmp_path / "e.parquet")
    pr.to_parquet(tmp_path / "p.parquet")
    train = load_esci(tmp_path / "e.parquet", tmp_path / "p.parquet", split="train")
    test = load_esci(tmp_path / "e.parquet", tmp_path / "p.parquet", split="test")
    vectors = TextVectors(hash_embedder)
    assert relevance_features(train[:5], vectors, None).shape == (5, 4 * 16 + 1)
    res = compare(train, test, vectors, kg)
    assert res["text+kg"].use_kg and not res["text"].use_kg
    assert res["text+kg"].n_test == len(test)
    assert res["text+kg"].macro_f1 > 0.9
    assert res["text+kg"].macro_f1 > res["text"].macro_f1 + 0.2
    assert 0.0 <= res["text"].micro_f1 <= 1.0
