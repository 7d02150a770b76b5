"""The labelled intention pairs behind the load-time matching threshold (kg/intentions.py).

    python bench/intention_pairs.py draw --out DIR     # candidates, written without scores
    python bench/intention_pairs.py threshold          # precision/recall per threshold
    python bench/intention_pairs.py match [--port N]   # what matching adds to a load

``draw`` takes the intention phrases of IntentionQA (task 1's gold and distractor assertions,
through ``parse_assertion``) and the generated tails of ``refine/sample/validity_labels.jsonl``
(the demo's outputs), embeds them with the packaged MiniLM and pairs each phrase with its
near neighbours of the same tail type, which is what the loader compares. The pairs are
drawn evenly over cosine bands from 0.5 to 1 (seed 19), shuffled, and written twice:
``unlabelled.csv`` (pair, relation, a, b: no score, for labelling blind) and
``scores.csv`` (pair, cosine), to join after labelling. The labelled set is committed as
``kg/sample/intention_pairs.csv`` (label 1: the same intention; labeller recorded).

``threshold`` recomputes each pair's cosine with MiniLM and prints precision, recall and F1
of "cosine >= t means the same intention" for t from 0.70 to 0.97, and the threshold with
the best F1 among those with precision >= 0.9 (a wrong merge loses an intention for good, a
missed one only leaves a duplicate node); standard errors are binomial, sqrt(p(1-p)/n).
``match`` measures what matching adds to a load, on its own FalkorDB, with the packaged MiniLM
(loaded before the timers): the same phrases, shuffled (seed 3), are split in two halves.
Load 1 writes the first half, load 2 the second, one co-buy triple per phrase on its own
product pair (``load_triples_file``, incremental path); each pair of loads runs on a fresh
graph without matching and on another with it. Matched loads print their phases
(``LoadReport.phases``): vectors for Intentions that have none yet, matching (embedding the
new tails, the batched vector queries).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
PAIRS = REPO / "kg" / "sample" / "intention_pairs.csv"
BANDS = [0.5, 0.65, 0.75, 0.8, 0.85, 0.88, 0.91, 0.94, 0.97, 1.0001]
PER_BAND = 16


def _phrases() -> pd.DataFrame:
    from cosmo.core.demo import find_shared_data
    from cosmo.core.schema import RELATION_TAIL_TYPES, normalise_text
    from cosmo.ingest.intentionqa import assertions_of, parse_assertion, read_rows

    data = find_shared_data()
    if data is None:
        sys.exit("the shared IntentionQA data was not found (set COSMO_SHARED_DATA)")
    rows = []
    for _, row in read_rows(data / "intentionqa" / "task1.jsonl", ("assertion", "options")):
        for text, _gold in assertions_of(row):
            rel, tail = parse_assertion(text)
            rows.append(("intentionqa", rel, tail))
    with open(REPO / "refine" / "sample" / "validity_labels.jsonl", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            if d.get("well_formed"):
                rows.append(("demo", d["relation"], d["tail"]))
    df = pd.DataFrame(rows, columns=["origin", "relation", "tail"])
    df["tail_type"] = df["relation"].map(RELATION_TAIL_TYPES)
    df["norm"] = df["tail"].map(normalise_text)
    return df.drop_duplicates(["tail_type", "norm"]).reset_index(drop=True)


def draw(out: Path, seed: int = 19) -> None:
    from cosmo.core.embeddings import SentenceTransformerEmbedder

    df = _phrases()
    vecs = SentenceTransformerEmbedder().embed(df["tail"].tolist(), batch_size=128)
    cands = []
    for _tt, grp in df.groupby("tail_type"):
        idx = grp.index.to_numpy()
        sims = vecs[idx] @ vecs[idx].T
        for n, i in enumerate(idx):
            order = np.argsort(-sims[n])[1:6]  # its five nearest of the same tail type
            cands += [(min(i, idx[m]), max(i, idx[m]), float(sims[n, m])) for m in order]
    c = pd.DataFrame(cands, columns=["i", "j", "cosine"]).drop_duplicates(["i", "j"])
    c["band"] = pd.cut(c["cosine"], BANDS, right=False)
    rng = np.random.default_rng(seed)
    picked = pd.concat(
        g.iloc[rng.permutation(len(g))[:PER_BAND]] for _, g in c.groupby("band", observed=True)
    )
    picked = picked.iloc[rng.permutation(len(picked))].reset_index(drop=True)
    picked["pair"] = [f"p{n:03d}" for n in range(len(picked))]
    picked["relation"] = df.loc[picked["i"], "relation"].to_numpy()
    picked["a"] = df.loc[picked["i"], "tail"].to_numpy()
    picked["b"] = df.loc[picked["j"], "tail"].to_numpy()
    out.mkdir(parents=True, exist_ok=True)
    picked[["pair", "relation", "a", "b"]].to_csv(out / "unlabelled.csv", index=False)
    picked[["pair", "cosine"]].to_csv(out / "scores.csv", index=False)
    print(f"{len(picked)} pairs from {len(df)} phrases -> {out}")


def threshold(path: Path = PAIRS) -> None:
    from cosmo.core.embeddings import SentenceTransformerEmbedder

    pairs = pd.read_csv(path)
    emb = SentenceTransformerEmbedder()
    va, vb = emb.embed(pairs["a"].tolist()), emb.embed(pairs["b"].tolist())
    cos = (va * vb).sum(axis=1)
    gold = pairs["label"].to_numpy() == 1
    print(f"{len(pairs)} pairs, {int(gold.sum())} paraphrases, labeller {set(pairs['labeller'])}")
    print("| threshold | merged | precision (se) | recall (se) | F1 |")
    print("|---:|---:|---:|---:|---:|")
    best = None
    for t in np.round(np.arange(0.70, 0.975, 0.01), 2):
        pred = cos >= t
        tp = int((pred & gold).sum())
        p = tp / pred.sum() if pred.sum() else float("nan")
        r = tp / gold.sum()
        f1 = 2 * p * r / (p + r) if tp else 0.0
        sp = (p * (1 - p) / pred.sum()) ** 0.5 if pred.sum() else float("nan")
        sr = (r * (1 - r) / gold.sum()) ** 0.5
        print(
            f"| {t:.2f} | {int(pred.sum())} | {p:.3f} ({sp:.3f}) | {r:.3f} ({sr:.3f}) | {f1:.3f} |"
        )
        if p >= 0.9 and (best is None or f1 > best[1]):
            best = (t, f1, p, r)
    if best:
        t, f1, p, r = best
        print(f"chosen: {t:.2f} (precision {p:.3f}, recall {r:.3f}, F1 {f1:.3f})")


def _write(ph: pd.DataFrame, start: int, path: Path) -> Path:
    n = np.arange(start, start + len(ph))
    pd.DataFrame(
        {
            "behaviour": "co_buy",
            "source": [f"A{i}" for i in n],
            "target": [f"B{i}" for i in n],
            "relation": ph["relation"].to_numpy(),
            "tail": ph["tail"].to_numpy(),
            "plausibility": 0.9,
        }
    ).to_parquet(path)
    return path


def match(port: int) -> None:
    from cosmo.core.embeddings import SentenceTransformerEmbedder
    from cosmo.core.settings import Settings
    from cosmo.kg.factory import open_store
    from cosmo.kg.intentions import IntentionMatcher
    from cosmo.kg.loader import load_triples_file
    from cosmo.kg.server import EmbeddedServer

    ph = _phrases()
    ph = ph.iloc[np.random.default_rng(3).permutation(len(ph))].reset_index(drop=True)
    half = len(ph) // 2
    embedder = SentenceTransformerEmbedder()
    embedder.embed(["warm up"])
    rows = []
    with tempfile.TemporaryDirectory(prefix="cosmo-bench-") as tmpd:
        tmp = Path(tmpd)
        files = [
            _write(ph[:half], 0, tmp / "1.parquet"),
            _write(ph[half:], half, tmp / "2.parquet"),
        ]
        settings = Settings(state_dir=tmp / "state", falkordb_port=port)
        server = EmbeddedServer(settings)
        server.start()
        try:
            for mode in ("off", "on"):
                store = open_store(settings.model_copy(update={"graph": f"g_{mode}"}))
                store.setup(embedding_dim=384)
                matcher = IntentionMatcher(embedder) if mode == "on" else None
                for n, path in enumerate(files, 1):
                    rep = load_triples_file(store, path, matcher=matcher)
                    phases = ", ".join(f"{k} {v:.2f} s" for k, v in rep.phases.items())
                    rows.append((n, rep.loaded_rows, mode, rep, phases))
                store.close()
        finally:
            server.stop()
    print("| load | tails | matching | Intention nodes + | aliases + | s | phases |")
    print("|---:|---:|---|---:|---:|---:|---|")
    for n, tails, mode, rep, phases in rows:
        nodes = rep.written.nodes_created - 2 * tails  # less the two products of each triple
        print(
            f"| {n} | {tails} | {mode} | {nodes} | {rep.aliases_added} | {rep.seconds:.2f} | {phases} |"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("draw")
    d.add_argument("--out", type=Path, required=True)
    t = sub.add_parser("threshold")
    t.add_argument("--pairs", type=Path, default=PAIRS)
    m = sub.add_parser("match")
    m.add_argument("--port", type=int, default=17201)
    args = ap.parse_args()
    if args.cmd == "draw":
        draw(args.out)
    elif args.cmd == "match":
        match(args.port)
    else:
        threshold(args.pairs)


if __name__ == "__main__":
    main()
