"""Choose which behaviour pairs to explain, the way COSMO does.

COSMO cannot ask an LLM about every search-buy and co-buy pair, so it samples:

1. **Frequency thresholds.** Pairs seen fewer than ``min_count`` times are noise
   (accidental clicks, one-off baskets) and are dropped.
2. **Stratification by domain and product type.** Every (domain, product type) of the
   purchased product (search-buy) or of product A (co-buy) is a stratum; each stratum gets
   an equal share of the budget, so a few huge categories cannot crowd out the rest.
3. **Query specificity: prefer broad queries.** Broad, ambiguous queries ("camping gear")
   carry intentions; specific ones ("coleman 4 person tent") mostly restate the product.
   The score, in ``[0, 1]`` (0 = broadest)::

       specificity(q) = 1 - H(q) / log2(max(2, T))

   where ``H(q)`` is the entropy (bits) of the product types purchased after ``q``,
   weighted by purchase counts, and ``T`` is the number of product types in the
   catalogue. A query whose purchases spread over many types scores near 0; a query that
   always leads to one type scores 1. Within a stratum, search-buy pairs are taken broad
   first (then by count, then at random); ``max_specificity`` drops queries above a cut.
   Co-buy pairs are taken by count, then at random.
4. **Random fill.** If the strata cannot fill the budget, the rest comes at random from
   the pairs not yet taken (with ``max_per_stratum`` set, strata stop at that cap and
   the fill spreads the rest of the budget across all strata at random).
5. **De-duplication** by :func:`cosmo.core.schema.pair_key`.

Everything random uses ``random.Random(seed)``, so a seed gives the same sample. Each
taken pair records ``reason`` (``stratum:<domain>/<type>`` or ``random_fill``) and its
``specificity``; :func:`write_sample` writes a manifest with per-stratum counts.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cosmo.core.artifacts import write_pairs
from cosmo.core.manifest import Manifest
from cosmo.core.records import BehaviourPair, CoBuy, Product, SearchBuy
from cosmo.core.schema import pair_key, query_key

__all__ = ["SampleConfig", "SampleResult", "query_specificity", "sample_pairs", "write_sample"]

UNKNOWN = "unknown"


@dataclass(frozen=True)
class SampleConfig:
    """How many pairs to take and how."""

    n_search_buy: int = 100
    n_co_buy: int = 100
    min_count: int = 1
    max_specificity: float | None = None
    max_per_stratum: int | None = None
    random_fill: bool = True
    seed: int = 0


@dataclass
class SampleResult:
    """The taken pairs and what the sampler did."""

    pairs: list[BehaviourPair]
    counts: dict[str, int] = field(default_factory=dict)
    strata: dict[str, dict[str, int]] = field(default_factory=dict)


def _entropy(counts: Iterable[int]) -> float:
    c = [x for x in counts if x > 0]
    total = sum(c)
    return -sum(x / total * math.log2(x / total) for x in c) if total else 0.0


def query_specificity(
    search_buy: Sequence[SearchBuy], catalogue: dict[str, Product]
) -> dict[str, float]:
    """Specificity in ``[0, 1]`` per query key (see the module docstring)."""
    n_types = len({p.product_type or UNKNOWN for p in catalogue.values()})
    norm = math.log2(max(2, n_types))
    per_query: dict[str, Counter[str]] = defaultdict(Counter)
    for sb in search_buy:
        p = catalogue.get(sb.product_id)
        per_query[query_key(sb.query)][(p.product_type if p else None) or UNKNOWN] += sb.count
    return {q: round(max(0.0, 1.0 - _entropy(c.values()) / norm), 4) for q, c in per_query.items()}


def _stratum(p: Product | None) -> str:
    if p is None:
        return f"{UNKNOWN}/{UNKNOWN}"
    return f"{p.domain or UNKNOWN}/{p.product_type or UNKNOWN}"


_Eligible = tuple[str, tuple[Any, ...], BehaviourPair]
"""A pair that may be taken: its stratum, its sort key within the stratum, the pair."""


def _take(
    candidates: list[_Eligible],
    budget: int,
    rng: random.Random,
    fill: bool,
    cap: int | None,
    strata_out: dict[str, dict[str, int]],
    taken_keys: set[str],
) -> tuple[list[BehaviourPair], int]:
    """Equal allocation over strata, then random fill. Returns pairs and the fill count."""
    by_stratum: dict[str, list[tuple[tuple[Any, ...], BehaviourPair]]] = defaultdict(list)
    for stratum, rank, pair in candidates:
        by_stratum[stratum].append((rank, pair))
    for items in by_stratum.values():
        items.sort(key=lambda t: t[0])
    out: list[BehaviourPair] = []
    remaining = budget
    # Equal allocation, re-spreading what small strata cannot use (water-filling).
    open_strata = sorted(by_stratum)
    rng.shuffle(open_strata)  # no stratum is favoured by its name when the budget is small
    cursor = {s: 0 for s in open_strata}
    while remaining > 0 and open_strata:
        share = max(1, remaining // len(open_strata))
        before = remaining
        for s in open_strata:
            items = by_stratum[s]
            got = 0
            quota = (
                share if cap is None else min(share, cap - strata_out.get(s, {}).get("taken", 0))
            )
            while got < quota and cursor[s] < len(items) and remaining > 0:
                _, pair = items[cursor[s]]
                cursor[s] += 1
                key = pair_key(pair.behaviour, pair.source, pair.target)
                if key in taken_keys:
                    continue
                taken_keys.add(key)
                out.append(pair.model_copy(update={"reason": f"stratum:{s}"}))
                got += 1
                remaining -= 1
                st = strata_out.setdefault(s, {"available": len(items), "taken": 0})
                st["taken"] += 1
        open_strata = [
            s
            for s in open_strata
            if cursor[s] < len(by_stratum[s])
            and (cap is None or strata_out.get(s, {}).get("taken", 0) < cap)
        ]
        if remaining == before:
            break
    for s, items in by_stratum.items():
        strata_out.setdefault(s, {"available": len(items), "taken": 0})
    filled = 0
    if fill and remaining > 0:
        rest = [
            p
            for _, _, p in candidates
            if pair_key(p.behaviour, p.source, p.target) not in taken_keys
        ]
        rng.shuffle(rest)
        for pair in rest[:remaining]:
            taken_keys.add(pair_key(pair.behaviour, pair.source, pair.target))
            out.append(pair.model_copy(update={"reason": "random_fill"}))
            filled += 1
    return out, filled


def _search_buy_candidates(
    search_buy: Sequence[SearchBuy],
    products: dict[str, Product],
    cfg: SampleConfig,
    rng: random.Random,
    counts: Counter[str],
) -> list[_Eligible]:
    """Eligible search-buy pairs, broad queries first within a stratum."""
    spec = query_specificity(search_buy, products)
    out: list[_Eligible] = []
    for sb in search_buy:
        p = products.get(sb.product_id)
        if p is None:
            counts["search_buy_no_product"] += 1
            continue
        if sb.count < cfg.min_count:
            counts["search_buy_below_min_count"] += 1
            continue
        s = spec[query_key(sb.query)]
        if cfg.max_specificity is not None and s > cfg.max_specificity:
            counts["search_buy_too_specific"] += 1
            continue
        pair = BehaviourPair(
            behaviour="search_buy",
            source=sb.query,
            target=sb.product_id,
            target_title=p.title,
            target_type=p.product_type,
            target_domain=p.domain,
            count=sb.count,
            specificity=s,
        )
        out.append((_stratum(p), (s, -sb.count, rng.random()), pair))
    counts["search_buy_eligible"] = len(out)
    return out


def _co_buy_candidates(
    co_buy: Sequence[CoBuy],
    products: dict[str, Product],
    cfg: SampleConfig,
    rng: random.Random,
    counts: Counter[str],
) -> list[_Eligible]:
    """Eligible co-buy pairs, the most frequent first within a stratum."""
    out: list[_Eligible] = []
    for cb in co_buy:
        a, b = products.get(cb.product_a), products.get(cb.product_b)
        if a is None or b is None:
            counts["co_buy_no_product"] += 1
            continue
        if cb.count < cfg.min_count:
            counts["co_buy_below_min_count"] += 1
            continue
        pair = BehaviourPair(
            behaviour="co_buy",
            source=a.product_id,
            target=b.product_id,
            source_title=a.title,
            target_title=b.title,
            source_type=a.product_type,
            target_type=b.product_type,
            target_domain=b.domain,
            count=cb.count,
        )
        out.append((_stratum(a), (-cb.count, rng.random()), pair))
    counts["co_buy_eligible"] = len(out)
    return out


def sample_pairs(
    catalogue: Sequence[Product],
    search_buy: Sequence[SearchBuy] = (),
    co_buy: Sequence[CoBuy] = (),
    config: SampleConfig | None = None,
) -> SampleResult:
    """Sample behaviour pairs (see the module docstring). Inputs are not modified."""
    cfg = config or SampleConfig()
    rng = random.Random(cfg.seed)
    products = {p.product_id: p for p in catalogue}
    counts: Counter[str] = Counter()
    taken: set[str] = set()
    sb_cands = _search_buy_candidates(search_buy, products, cfg, rng, counts)
    cb_cands = _co_buy_candidates(co_buy, products, cfg, rng, counts)
    sb_strata: dict[str, dict[str, int]] = {}
    cb_strata: dict[str, dict[str, int]] = {}
    sb_taken, sb_fill = _take(
        sb_cands, cfg.n_search_buy, rng, cfg.random_fill, cfg.max_per_stratum, sb_strata, taken
    )
    cb_taken, cb_fill = _take(
        cb_cands, cfg.n_co_buy, rng, cfg.random_fill, cfg.max_per_stratum, cb_strata, taken
    )
    counts.update(
        search_buy_taken=len(sb_taken),
        search_buy_random_fill=sb_fill,
        co_buy_taken=len(cb_taken),
        co_buy_random_fill=cb_fill,
    )
    strata = {f"search_buy:{k}": v for k, v in sorted(sb_strata.items())}
    strata.update({f"co_buy:{k}": v for k, v in sorted(cb_strata.items())})
    return SampleResult(pairs=sb_taken + cb_taken, counts=dict(counts), strata=strata)


def write_sample(
    result: SampleResult, out: Path, config: SampleConfig, inputs: dict[str, Path]
) -> Path:
    """Write ``pairs.parquet`` (or the given path) and its manifest; return the path."""
    m = Manifest.for_stage("sample", parameters=asdict(config), inputs=inputs, counts=result.counts)
    m.notes["strata"] = result.strata
    m.notes["specificity"] = "1 - H(product types purchased after the query) / log2(#types)"
    m.counts["pairs"] = len(result.pairs)
    return write_pairs(result.pairs, out, m)
