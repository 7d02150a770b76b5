"""Relation-aware question-answer prompts (COSMO, SIGMOD 2024, Figure 3).

Templates are versioned data (``templates/<version>.json``): a task line per behaviour,
a question per relation × behaviour, and a pool of worked examples (three per relation,
each from a different domain). A prompt reads::

    Task: A customer searched for the query below and then bought the product. ...

    Search Query: keep coffee hot                 ← few-shot example(s), rotated
    Product: Stainless Steel Thermal Carafe, 68 oz
    Question: What function is the product used for?
    Answer:
    1. keeping drinks warm for hours
    2. serving coffee to guests

    Search Query: camping gear                    ← the pair to explain
    Product: Coleman Sundome 4-Person Dome Tent
    Question: What function is the product used for?
    Answer:
    1.

so a base model completes a numbered list. ``shots=0`` gives the zero-shot variant (for
instruction-tuned models). Small models copy their examples (Gemma 3 270M, given one
example about diapers, answered "parents of newborn babies" for USB cables), so the
examples rotate with the pair (``rotation``), come from different domains, skip the
pair's own domain when they can, and each :class:`Prompt` carries the example tails so
:func:`cosmo.generation.parsing.drop_copied` can remove copies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from cosmo.core.errors import ConfigError
from cosmo.core.records import BehaviourPair
from cosmo.core.schema import RELATIONS, Behaviour, pair_key, relation_type

__all__ = [
    "DEFAULT_TEMPLATE_VERSION",
    "TEMPLATE_DIR",
    "Example",
    "Prompt",
    "PromptTemplates",
    "load_templates",
]

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
DEFAULT_TEMPLATE_VERSION = "v1"


@dataclass(frozen=True)
class Example:
    """A worked example: usable for both behaviours (query + product, or product + product_b)."""

    relation: str
    domain: str
    query: str
    product: str
    product_b: str
    answers: tuple[str, ...]


@dataclass(frozen=True)
class Prompt:
    """A rendered prompt with what generation needs to keep for provenance and filtering."""

    text: str
    version: str
    behaviour: Behaviour
    relation: str
    pair_key: str
    example_tails: tuple[str, ...]


def _block(behaviour: Behaviour, query_or_a: str, product: str, question: str) -> str:
    if behaviour is Behaviour.SEARCH_BUY:
        head = f"Search Query: {query_or_a}\nProduct: {product}"
    else:
        head = f"Product 1: {query_or_a}\nProduct 2: {product}"
    return f"{head}\nQuestion: {question}\nAnswer:\n"


class PromptTemplates:
    """One version of the templates. Build with :func:`load_templates`."""

    def __init__(self, data: dict[str, Any], source: str = "<dict>") -> None:
        try:
            self.version: str = data["version"]
            self.task: dict[str, str] = dict(data["task"])
            self.questions: dict[str, dict[str, str]] = {
                relation_type(r): dict(q) for r, q in data["questions"].items()
            }
            self.examples: dict[str, list[Example]] = {r: [] for r in RELATIONS}
            for e in data["examples"]:
                ex = Example(
                    relation=relation_type(e["relation"]),
                    domain=e["domain"],
                    query=e["query"],
                    product=e["product"],
                    product_b=e["product_b"],
                    answers=tuple(e["answers"]),
                )
                self.examples[ex.relation].append(ex)
        except (KeyError, TypeError, ValueError) as err:
            raise ConfigError(f"prompt templates {source} are malformed: {err}") from err
        missing = [
            f"{r}/{b.value}"
            for r in RELATIONS
            for b in Behaviour
            if b.value not in self.questions.get(r, {})
        ]
        if missing or set(self.task) != {b.value for b in Behaviour}:
            raise ConfigError(f"prompt templates {source} miss questions for: {', '.join(missing)}")

    def question(self, relation: str, behaviour: Behaviour | str) -> str:
        return self.questions[relation_type(relation)][Behaviour(behaviour).value]

    def pick_examples(
        self, relation: str, shots: int, rotation: int, avoid_domain: str | None = None
    ) -> list[Example]:
        """``shots`` examples for ``relation``, rotated by ``rotation``, other domains first."""
        pool = self.examples[relation_type(relation)]
        if not pool or shots <= 0:
            return []
        start = rotation % len(pool)
        ordered = pool[start:] + pool[:start]
        if avoid_domain:
            ordered = [e for e in ordered if e.domain != avoid_domain] + [
                e for e in ordered if e.domain == avoid_domain
            ]
        return ordered[: min(shots, len(ordered))]

    def render(
        self,
        pair: BehaviourPair,
        relation: str,
        *,
        shots: int = 2,
        rotation: int | None = None,
    ) -> Prompt:
        """The prompt asking ``relation`` about ``pair``.

        ``rotation`` picks which examples appear (default: derived from the pair, so
        neighbouring pairs see different examples and a rerun sees the same ones).
        """
        rel = relation_type(relation)
        behaviour = Behaviour(pair.behaviour)
        key = pair_key(behaviour, pair.source, pair.target)
        if rotation is None:
            rotation = sum(key.encode()) + RELATIONS.index(rel)
        examples = self.pick_examples(rel, shots, rotation, pair.target_domain)
        question = self.question(rel, behaviour)
        parts = [self.task[behaviour.value], ""]
        for ex in examples:
            first = ex.query if behaviour is Behaviour.SEARCH_BUY else ex.product
            second = ex.product if behaviour is Behaviour.SEARCH_BUY else ex.product_b
            answers = "\n".join(f"{i}. {a}" for i, a in enumerate(ex.answers, start=1))
            parts.append(_block(behaviour, first, second, question) + answers + "\n")
        if behaviour is Behaviour.SEARCH_BUY:
            first = pair.source
        else:
            first = pair.source_title or pair.source
        parts.append(_block(behaviour, first, pair.target_title, question) + "1.")
        tails = tuple(a for ex in examples for a in ex.answers)
        return Prompt(
            text="\n".join(parts),
            version=self.version,
            behaviour=behaviour,
            relation=rel,
            pair_key=key,
            example_tails=tails,
        )


@lru_cache(maxsize=8)
def _load(path: str) -> PromptTemplates:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise ConfigError(f"cannot read prompt templates {path}: {e}") from e
    return PromptTemplates(data, source=path)


def load_templates(version: str = DEFAULT_TEMPLATE_VERSION) -> PromptTemplates:
    """Templates by version name (``v1``) or by path to a JSON file of the same shape."""
    path = Path(version)
    if path.suffix != ".json":
        path = TEMPLATE_DIR / f"{version}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in TEMPLATE_DIR.glob("*.json")))
        raise ConfigError(f"no prompt templates {version!r}; known versions: {known}")
    return _load(str(path.resolve()))
