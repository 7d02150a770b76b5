"""Demo stage: ingest the bundled sample (and IntentionQA pairs when the data is there)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from cosmo.core.artifacts import write_parquet
from cosmo.core.manifest import Manifest
from cosmo.ingest import SAMPLE_DIR
from cosmo.ingest.adapters import read_intentionqa
from cosmo.ingest.pipeline import ingest_files, read_artifacts
from cosmo.ingest.sampling import SampleConfig, sample_pairs, write_sample

if TYPE_CHECKING:
    from cosmo.core.demo import DemoContext

__all__ = ["run"]

N_INTENTIONQA_PAIRS = 150
"""IntentionQA co-buy pairs added to the demo (the first ones in file order)."""


def run(ctx: DemoContext[Any]) -> None:
    """Write ``catalogue``, ``search_buy``, ``co_buy`` and ``pairs`` into ``ctx.artifacts``."""
    out = ctx.workdir / "ingest"
    res = ingest_files(
        SAMPLE_DIR / "catalogue.csv", out, SAMPLE_DIR / "search_buy.csv", SAMPLE_DIR / "co_buy.csv"
    )
    products, search_buy, co_buy = read_artifacts(
        res.paths["catalogue"], res.paths["search_buy"], res.paths["co_buy"]
    )
    sources = {"catalogue.csv": SAMPLE_DIR / "catalogue.csv"}

    if ctx.shared_data is not None:
        iqa_path = ctx.shared_data / "intentionqa" / "task1.jsonl"
        iqa = read_intentionqa(iqa_path)
        assert iqa.co_buy is not None
        pairs = iqa.co_buy.records[:N_INTENTIONQA_PAIRS]
        keep = {p for c in pairs for p in (c.product_a, c.product_b)}
        known = {p.product_id for p in products}
        products += [
            p for p in iqa.catalogue.records if p.product_id in keep and p.product_id not in known
        ]
        co_buy += pairs
        sources["intentionqa"] = iqa_path
        # Rewrite the merged catalogue and co-buy artifacts so later stages see one set.
        for name, recs in (("catalogue", products), ("co_buy", co_buy)):
            write_parquet(pd.DataFrame([r.model_dump() for r in recs]), res.paths[name])
            m = Manifest(stage=f"ingest.{name}", parameters={"demo": True})
            for k, path in sources.items():
                m.add_input(k, path)
            m.write(res.paths[name], rows=len(recs))

    cfg = SampleConfig(n_search_buy=30, n_co_buy=30, seed=0)
    result = sample_pairs(products, search_buy, co_buy, cfg)
    pairs_path = write_sample(
        result, out / "pairs.parquet", cfg, {"catalogue": res.paths["catalogue"]}
    )
    ctx.artifacts.update(
        catalogue=res.paths["catalogue"],
        search_buy=res.paths["search_buy"],
        co_buy=res.paths["co_buy"],
        pairs=pairs_path,
    )
    ctx.count(
        "ingest",
        products=len(products),
        search_buy=len(search_buy),
        co_buy=len(co_buy),
        rejected=len(res.rejects),
        pairs=len(result.pairs),
    )
    ctx.console.print(
        f"ingested {len(products)} products, {len(search_buy)} search-buy and {len(co_buy)} co-buy pairs "
        f"({len(res.rejects)} rejected rows); sampled {len(result.pairs)} pairs → {pairs_path}"
    )
