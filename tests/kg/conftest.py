"""Triples built from IntentionQA's real co-buy pairs and their gold intentions."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import pandas as pd
import pytest

from cosmo.ingest.intentionqa import PAIR_FIELDS, parse_assertion, read_rows


def intentionqa_triples(shared_data: Path, limit: int | None = None) -> pd.DataFrame:
    """One co-buy triple per IntentionQA row: its gold assertion as relation and tail."""
    need = (*PAIR_FIELDS, "assertion", "typicality")
    rows = []
    for _, d in islice(read_rows(shared_data / "intentionqa" / "task1.jsonl", need), limit):
        relation, tail = parse_assertion(d["assertion"])
        rows.append(
            {
                "behaviour": "co_buy",
                "source": d["item_a_id"],
                "target": d["item_b_id"],
                "relation": relation,
                "tail": tail,
                "typicality": d["typicality"],
                "plausibility": 0.9,
                "source_title": d["item_a_name"],
                "target_title": d["item_b_name"],
                "model": "folkscope",
            }
        )
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def iqa_triples(shared_data: Path) -> pd.DataFrame:
    return intentionqa_triples(shared_data)
