"""``cosmo annotate``: sample, export, import (refusing a bad file), agreement, adjudicate, audit."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from cosmo.refine.annotation import QUESTIONS, AnnotationStore, Label
from cosmo.refine.annotation.cli import register


def make_app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """test root"""

    register(app)
    return app


def test_cli_round(shared_data: Path, tmp_path: Path):
    app, run = make_app(), CliRunner()
    db = str(tmp_path / "a.sqlite")
    iqa = shared_data / "intentionqa" / "task1.jsonl"
    r = run.invoke(app, ["annotate", "sample", "--intentionqa", str(iqa), "-n", "8", "--db", db])
    assert r.exit_code == 0, r.output
    assert "added 8 items" in r.output
    store = AnnotationStore(Path(db))
    ids = [it["item_id"] for it in store.items()]
    for i, item_id in enumerate(ids[:4]):
        for who in ("a", "b", "c"):
            store.save_label(
                Label(item_id, who, {q: not (who == "c" and i == 0) for q in QUESTIONS})
            )

    out = tmp_path / "labels.csv"
    r = run.invoke(app, ["annotate", "export", str(out), "--db", db])
    assert r.exit_code == 0 and "wrote 12 labels" in r.output
    assert len(out.read_text().splitlines()) == 13

    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        json.dumps({"item_id": "zzz", "annotator": "d", **dict.fromkeys(QUESTIONS, True)}) + "\n"
    )
    r = run.invoke(app, ["annotate", "import", str(bad), "--db", db])
    assert r.exit_code == 1
    flat = " ".join(r.output.split())
    assert "refused" in flat and "line 1, field 'item_id': unknown item id 'zzz'" in flat
    r = run.invoke(app, ["annotate", "import", str(out), "--db", db])
    assert r.exit_code == 0 and "0 new labels, 12 already stored" in " ".join(r.output.split())

    r = run.invoke(app, ["annotate", "agreement", "--json", "--db", db])
    assert r.exit_code == 0, r.output
    res = json.loads(r.output)
    assert res["method"] == "fleiss" and res["items"] == 4

    r = run.invoke(app, ["annotate", "adjudicate", "--db", db])
    assert "5 disagreements: 5 resolved by majority" in " ".join(r.output.split())
    r = run.invoke(
        app, ["annotate", "audit", "--reviewer", "lead", "--fraction", "0.5", "--db", db]
    )
    assert r.exit_code == 0 and "queued 2 items for lead" in r.output
    assert store.next_item("lead")["audit"] is True
