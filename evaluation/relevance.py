"""ESCI query-product relevance with frozen text encoders, with and without KG features.

The COSMO experiment (SIGMOD 2024, search relevance): classify each (query, product) pair
as Exact, Substitute, Complement or Irrelevant from *frozen* MiniLM vectors of the query
and the product title, then add knowledge-graph features (the intentions the KG links to
the query and to the product, and their overlap) and compare macro- and micro-F1.

:func:`load_esci` reads the public Shopping Queries Dataset files
(``shopping_queries_dataset_examples.parquet`` and ``..._products.parquet``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cosmo.core.errors import InputError
from cosmo.core.schema import query_key

if TYPE_CHECKING:
    from cosmo.core.embeddings import TextVectors
    from cosmo.kg.export import KGTables

__all__ = [
    "ESCI_LABELS",
    "QueryProductKG",
    "RelevanceResult",
    "compare",
    "load_esci",
    "relevance_features",
    "train_eval",
]

ESCI_LABELS: tuple[str, ...] = ("E", "S", "C", "I")
_EXAMPLE_COLS = ("query", "product_id", "esci_label")
_PRODUCT_COLS = ("product_id", "product_title")


def _read(path: Path, needed: tuple[str, ...]) -> pd.DataFrame:
    try:
        df = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except FileNotFoundError as e:
        raise InputError("file not found", file=str(path)) from e
    except Exception as e:
        raise InputError(f"not readable as a table ({e})", file=str(path)) from e
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}", file=str(path), field=missing[0]
        )
    return df


def load_esci(
    examples: Path,
    products: Path,
    *,
    locale: str | None = "us",
    small_version: bool = True,
    split: str | None = None,
) -> pd.DataFrame:
    """Join ESCI examples with product titles: columns ``query, product_id, title, label, split``.

    Args:
        examples: ``shopping_queries_dataset_examples.parquet`` (or CSV with the same columns).
        products: ``shopping_queries_dataset_products.parquet``.
        locale: keep this ``product_locale`` (``None``: all).
        small_version: keep the "reduced" task-1 set (``small_version == 1``) when the column exists.
        split: ``"train"`` or ``"test"`` to keep one split (``None``: both).

    Raises:
        InputError: a file is missing or lacks a column, or a label is not one of E/S/C/I.
    """
    ex = _read(Path(examples), _EXAMPLE_COLS)
    pr = _read(Path(products), _PRODUCT_COLS)
    if locale is not None and "product_locale" in ex.columns:
        ex = ex[ex["product_locale"] == locale]
        if "product_locale" in pr.columns:
            pr = pr[pr["product_locale"] == locale]
    if small_version and "small_version" in ex.columns:
        ex = ex[ex["small_version"] == 1]
    if split is not None and "split" in ex.columns:
        ex = ex[ex["split"] == split]
    bad = ~ex["esci_label"].isin(ESCI_LABELS)
    if bad.any():
        row = int(np.nonzero(bad.to_numpy())[0][0])
        raise InputError(
            f"label {ex['esci_label'].iloc[row]!r} is not one of E, S, C, I",
            file=str(examples),
            line=int(ex.index[row]) + 2,
            field="esci_label",
        )
    titles = pr.drop_duplicates("product_id").set_index("product_id")["product_title"]
    out = pd.DataFrame(
        {
            "query": ex["query"].astype(str).to_numpy(),
            "product_id": ex["product_id"].astype(str).to_numpy(),
            "title": ex["product_id"].map(titles).fillna("").astype(str).to_numpy(),
            "label": ex["esci_label"].to_numpy(),
            "split": ex["split"].to_numpy() if "split" in ex.columns else "all",
        }
    )
    return out.reset_index(drop=True)


@dataclass
class QueryProductKG:
    """Intention texts linked to each query key and each product id in the KG."""

    query: dict[str, list[str]] = field(default_factory=dict)
    product: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_tables(cls, tables: KGTables) -> QueryProductKG:
        text = dict(zip(tables.intentions["id"], tables.intentions["text"], strict=True))
        q: dict[str, list[str]] = defaultdict(list)
        p: dict[str, list[str]] = defaultdict(list)
        kn = tables.knowledge
        for label, head, iid in zip(
            kn["head_label"], kn["head_id"], kn["intention_id"], strict=True
        ):
            if iid in text:
                (q if label == "Query" else p)[head].append(text[iid])
        return cls(dict(q), dict(p))


N_KG_FEATURES = 7


def _kg_row(
    qi: list[str], pi: list[str], qv: np.ndarray, pv: np.ndarray, vectors: TextVectors
) -> list[float]:
    if not qi or not pi:
        return [0.0, 0.0, 0.0, float(bool(qi)), float(bool(pi)), 0.0, 0.0]
    shared = set(qi) & set(pi)
    qe, pe = vectors(qi), vectors(pi)
    qm, pm = qe.mean(0), pe.mean(0)
    return [
        float(len(shared)),
        len(shared) / len(set(qi) | set(pi)),
        float((qe @ pe.T).max()),
        1.0,
        1.0,
        float(qv @ pm),
        float(pv @ qm),
    ]


def relevance_features(
    df: pd.DataFrame, vectors: TextVectors, kg: QueryProductKG | None
) -> np.ndarray:
    """``[len(df), 4 * dim + 1 (+ N_KG_FEATURES)]``: ``q, p, q⊙p, |q−p|, q·p`` (+ KG)."""
    q = vectors(df["query"].astype(str).tolist())
    p = vectors(df["title"].astype(str).tolist())
    parts = [q, p, q * p, np.abs(q - p), (q * p).sum(1, keepdims=True)]
    if kg is not None:
        rows = [
            _kg_row(kg.query.get(query_key(qt), []), kg.product.get(pid, []), qv, pv, vectors)
            for qt, pid, qv, pv in zip(df["query"], df["product_id"], q, p, strict=True)
        ]
        parts.append(np.asarray(rows, dtype=np.float32).reshape(len(df), N_KG_FEATURES))
    return np.concatenate(parts, 1).astype(np.float32)


@dataclass(frozen=True)
class RelevanceResult:
    use_kg: bool
    macro_f1: float
    micro_f1: float
    n_train: int
    n_test: int


def train_eval(
    train: pd.DataFrame,
    test: pd.DataFrame,
    vectors: TextVectors,
    kg: QueryProductKG | None = None,
    *,
    seed: int = 0,
) -> RelevanceResult:
    """Fit a multinomial logistic regression on frozen features; F1 on ``test``.

    Raises:
        InputError: the training set holds fewer than two classes.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.preprocessing import StandardScaler

    if train["label"].nunique() < 2:
        raise InputError(
            "the training set needs at least two relevance classes", field="esci_label"
        )
    xtr, xte = relevance_features(train, vectors, kg), relevance_features(test, vectors, kg)
    scaler = StandardScaler().fit(xtr)
    clf = LogisticRegression(max_iter=2000, C=0.5, class_weight="balanced", random_state=seed)
    clf.fit(scaler.transform(xtr), train["label"].to_numpy())
    pred = clf.predict(scaler.transform(xte))
    y = test["label"].to_numpy()
    labels = [lbl for lbl in ESCI_LABELS if lbl in set(y) | set(pred)]
    return RelevanceResult(
        use_kg=kg is not None,
        macro_f1=float(f1_score(y, pred, labels=labels, average="macro", zero_division=0)),
        micro_f1=float(f1_score(y, pred, labels=labels, average="micro", zero_division=0)),
        n_train=len(train),
        n_test=len(test),
    )


def compare(
    train: pd.DataFrame, test: pd.DataFrame, vectors: TextVectors, kg_tables: KGTables
) -> dict[str, RelevanceResult]:
    """The COSMO comparison: the same classifier without and with the KG features."""
    kg = QueryProductKG.from_tables(kg_tables)
    return {
        "text": train_eval(train, test, vectors),
        "text+kg": train_eval(train, test, vectors, kg),
    }
