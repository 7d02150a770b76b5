"""Scale-out on Ray: pipeline throughput and Ray Train samples/s at 1 and 2 workers, one run.

Run by hand (minutes on a small CPU box)::

    python bench/ray_scale.py                      # 8 IntentionQA pairs x 2 relations, Gemma 3 270M
    python bench/ray_scale.py --pairs 16 --train-sessions 2000

Starts one local Ray cluster (``--cpus``, default 2, no dashboard, a 200 MB object store).
The pipeline rows run the whole job (ingest → sample → generation blocks → refine) into a
fresh folder each, greedy, without the perplexity filter; ``gen s`` is the time from the
first block handed out to the last one written. The training rows run the session trainer
under ``TorchTrainer`` (gloo) on the last ``--train-sessions`` Diginetica sessions; samples/s
counts training cases x epochs over the wall time of ``fit`` (Ray Train's start-up included).
The GraphSAGE rows train the link-prediction encoder under ``TorchTrainer`` on the KG of the
first ``--sage-questions`` IntentionQA task-1 questions (full-batch; epochs/s over ``fit``).
The load average is printed: on a shared machine the figures are noisy.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from cosmo.core.embeddings import SentenceTransformerEmbedder
from cosmo.core.models import gemma_model_dir, minilm_model_dir
from cosmo.core.settings import Settings
from cosmo.generation.runner import GenerateConfig
from cosmo.generation.settings import GenerationSettings
from cosmo.gnn.embed import TrainConfig
from cosmo.gnn.sage_ddp import train_link_prediction_ddp
from cosmo.gnn.session.data import expand_prefixes, load_sessions
from cosmo.gnn.session.ddp import train_session_ddp
from cosmo.gnn.session.train import SessionTrainConfig
from cosmo.ingest.sampling import SampleConfig
from cosmo.pipeline.engines import RayEngine
from cosmo.pipeline.ray_support import connect
from cosmo.pipeline.run import PipelineSpec, run_pipeline
from cosmo.pipeline.settings import PipelineSettings

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _pipeline_row(workers: int, args: argparse.Namespace, out: Path, embedder, model: Path) -> str:  # type: ignore[no-untyped-def]
    gs = GenerationSettings(
        model=str(model), max_new_tokens=16, temperature=0.0, repetition_penalty=1.0
    )
    spec = PipelineSpec(
        out_dir=out,
        generation=gs.model_dump(),
        config=GenerateConfig(
            relations=("USED_FOR_FUNC", "xWANT"), params=gs.params(), batch_size=8
        ),
        intentionqa=args.data / "intentionqa" / "task1.jsonl",
        sample=SampleConfig(n_search_buy=0, n_co_buy=args.pairs, seed=0),
        block_size=args.block_size,
        use_perplexity=False,
    )
    engine = RayEngine(PipelineSettings(engine="ray", workers=workers, block_size=args.block_size))
    t0 = time.perf_counter()
    report = run_pipeline(spec, engine, embedder=embedder)
    wall = time.perf_counter() - t0
    c = report.counts
    return f"| pipeline | {workers} | {c['pairs']} pairs, {c['blocks']} blocks | {wall:.1f} | {c['pairs'] / wall:.3f} pairs/s | {c['candidates']} candidates, {c['triples']} triples |"


def _train_row(workers: int, args: argparse.Namespace, ckpt: Path) -> str:
    train = expand_prefixes(
        load_sessions(args.data / "diginetica" / "train_sessions.txt")[-args.train_sessions :]
    )
    cfg = SessionTrainConfig(
        hidden=32, epochs=args.epochs, batch_size=128, dropout=0.0, num_negatives=1024
    )
    t0 = time.perf_counter()
    history = train_session_ddp(train, 43097, cfg, workers=workers, checkpoint=ckpt)
    wall = time.perf_counter() - t0
    rate = len(train) * args.epochs / wall
    return f"| train-session | {workers} | {len(train)} cases x {args.epochs} epochs | {wall:.1f} | {rate:.0f} samples/s | loss {history[0]['loss']:.3f} → {history[-1]['loss']:.3f} |"


def _sage_row(workers: int, args: argparse.Namespace, data, ckpt: Path) -> str:  # type: ignore[no-untyped-def]
    cfg = TrainConfig(epochs=args.sage_epochs, hidden=64, out=32)
    t0 = time.perf_counter()
    report = train_link_prediction_ddp(data, cfg, workers=workers, checkpoint=ckpt)
    wall = time.perf_counter() - t0
    edges = sum(report.supervised_edges.values())
    return f"| train-sage | {workers} | {edges} edges x {args.sage_epochs} epochs | {wall:.1f} | {args.sage_epochs / wall:.2f} epochs/s | loss {report.losses[0]:.3f} → {report.losses[-1]:.3f}, AUC {report.val_auc:.3f} |"


def _iqa_graph(args: argparse.Namespace, embedder):  # type: ignore[no-untyped-def]
    from cosmo.evaluation.intentionqa import kg_from_questions
    from cosmo.gnn.data import build_hetero
    from cosmo.ingest.intentionqa import load_questions

    qs = load_questions(args.data / "intentionqa" / "task1.jsonl", limit=args.sage_questions)
    return build_hetero(kg_from_questions(qs), embedder)[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("COSMO_SHARED_DATA", SHARED)))
    ap.add_argument("--pairs", type=int, default=8)
    ap.add_argument("--block-size", type=int, default=2)
    ap.add_argument("--train-sessions", type=int, default=1000)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--sage-questions", type=int, default=400)
    ap.add_argument("--sage-epochs", type=int, default=10)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ray-bench-"))
    try:
        connect(None, num_cpus=args.cpus, temp_dir=str(tmp / "ray"))
        embedder = SentenceTransformerEmbedder(str(minilm_model_dir()))
        model = gemma_model_dir(Settings().cache_dir)
        print(
            f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs"
        )
        print("| what | workers | input | wall s | throughput | result |")
        print("|---|---|---|---|---|---|")
        for w in (1, 2):
            print(_pipeline_row(w, args, tmp / f"pipeline-{w}", embedder, model), flush=True)
        for w in (1, 2):
            print(_train_row(w, args, tmp / f"train-{w}.pt"), flush=True)
        graph = _iqa_graph(args, embedder)
        for w in (1, 2):
            print(_sage_row(w, args, graph, tmp / f"sage-{w}.pt"), flush=True)
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        import ray

        ray.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
