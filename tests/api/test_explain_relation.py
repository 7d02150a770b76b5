"""``explain(relation: …)``: the relation asked, from the graph or generated, cached per
relation; and a tuned COSMO-LM adapter (``COSMO_GEN_ADAPTER``) serving the misses."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from cosmo.generation.base import Generation, GenerationParams
from tests.api.test_explain import FakeGenerator

EXPLAIN = """query($q: String!, $p: ID!, $r: String) {
  explain(query: $q, productId: $p, relation: $r) {
  status text source tier model intents { relation tail } } }"""


class RecordingGenerator(FakeGenerator):
    """The fake generator that also keeps the prompts and answers with an audience."""

    prompts: list[str]

    def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[Generation]:
        self.prompts = [*getattr(self, "prompts", []), *prompts]
        return [Generation(" parents of young children. More", len(p), 6) for p in prompts]


def test_graph_answers_only_with_the_relation_asked(make_client: Any, gql: Any) -> None:
    client, _ = make_client()
    v = {"q": "winter camping", "p": "P1"}
    both = gql(client, EXPLAIN, v)["data"]["explain"]["intents"]
    assert {i["relation"] for i in both} == {"USED_FOR_EVE", "CAPABLE_OF"}
    eve = gql(client, EXPLAIN, {**v, "r": "used_for_eve"})["data"]["explain"]
    assert eve["status"] == "READY" and eve["source"] == "graph"
    assert eve["intents"] == [{"relation": "USED_FOR_EVE", "tail": "camping in cold weather"}]
    cap = gql(client, EXPLAIN, {**v, "r": "CAPABLE_OF"})["data"]["explain"]
    assert cap["intents"] == [{"relation": "CAPABLE_OF", "tail": "keeping warm at night"}]
    # each relation has its own cache slot: the default answer is unchanged
    assert gql(client, EXPLAIN, v)["data"]["explain"]["intents"] == both


def test_an_unknown_relation_is_refused(make_client: Any, gql: Any) -> None:
    client, _ = make_client()
    r = gql(client, EXPLAIN, {"q": "winter camping", "p": "P1", "r": "LIKES"})
    assert r["data"] is None or r["data"]["explain"] is None
    err = r["errors"][0]
    assert err["extensions"]["code"] == "BAD_INPUT" and "unknown relation 'LIKES'" in err["message"]


def test_a_miss_is_generated_for_the_relation_asked(make_client: Any, gql: Any) -> None:
    from cosmo.api.services.explain import ExplainWorker

    client, _ = make_client()
    s = client.app.state.services
    v = {"q": "gift for a child", "p": "P4"}
    for r in ("USED_FOR_AUD", None, "used_for_aud"):
        assert gql(client, EXPLAIN, {**v, "r": r})["data"]["explain"]["status"] == "PENDING"
    assert client.portal.call(s.cache.queue_length) == 2  # one job per relation
    gen = RecordingGenerator()
    assert client.portal.call(ExplainWorker(s.cache, s.features, gen, batch=4).run_once) == 2
    aud = gql(client, EXPLAIN, {**v, "r": "USED_FOR_AUD"})["data"]["explain"]
    assert aud["intents"] == [{"relation": "USED_FOR_AUD", "tail": "parents of young children"}]
    assert aud["text"] == "USED_FOR_AUD: parents of young children."
    plain = gql(client, EXPLAIN, v)["data"]["explain"]
    assert plain["intents"] == [{"relation": "xWANT", "tail": "parents of young children"}]
    assert sum("Question:" in p for p in gen.prompts) == 1  # the relation's own question


@pytest.fixture(scope="module")
def adapter_dir(gemma_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real peft LoRA adapter of Gemma 3 270M, freshly initialised with small nonzero
    B matrices (so merging it changes the weights), recorded against the cosmo alias."""
    import torch
    from peft import LoraConfig, get_peft_model

    from cosmo.refine.instruct.tune import ADAPTER_INFO, load_base

    _, model = load_base(str(gemma_dir), "cpu")
    lora = LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
    model = get_peft_model(model, lora)
    torch.manual_seed(0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0.0, 1e-3)
    out = tmp_path_factory.mktemp("cosmo-lm")
    model.save_pretrained(str(out))
    (out / ADAPTER_INFO).write_text(json.dumps({"base_model": "gemma3-270m", "steps": 0}))
    return out


@pytest.fixture(scope="module")
def adapter_gen(adapter_dir: Path, model_cache: Path) -> Any:
    """What ``open_generator`` builds when ``COSMO_GEN_ADAPTER`` names the adapter."""
    from cosmo.api import ApiSettings
    from cosmo.api.http.serve import open_generator
    from cosmo.core.settings import Settings
    from cosmo.generation.settings import GenerationSettings
    from cosmo.refine.instruct import LoRATransformersGenerator

    core = Settings(state_dir=model_cache.parent)
    gen = open_generator(ApiSettings(), core, GenerationSettings(adapter=adapter_dir))
    assert isinstance(gen, LoRATransformersGenerator)
    return gen.load()


@pytest.mark.slow
def test_a_configured_adapter_explains_with_the_relation_asked(
    adapter_gen: Any, gemma_dir: Path, make_client: Any, gql: Any
) -> None:
    from safetensors import safe_open

    from cosmo.api.services.explain import ExplainWorker

    # the adapter is merged into the base: its q_proj weights are not the base model's
    name = "model.layers.0.self_attn.q_proj.weight"
    files = sorted(gemma_dir.glob("*.safetensors"))
    with safe_open(str(files[0]), "pt") as f:
        base_w = f.get_tensor(name)
    merged = dict(adapter_gen._model.named_parameters())[name].detach()
    assert merged.shape == base_w.shape and not bool((merged == base_w.float()).all())

    client, _ = make_client()
    s = client.app.state.services
    v = {"q": "gift for a child", "p": "P4", "r": "USED_FOR_AUD"}
    assert gql(client, EXPLAIN, v)["data"]["explain"]["status"] == "PENDING"
    assert client.portal.call(ExplainWorker(s.cache, s.features, adapter_gen).run_once) == 1
    e = gql(client, EXPLAIN, v)["data"]["explain"]
    assert e["status"] == "READY" and e["source"] == "generated"
    assert e["model"] == f"cosmo-lm:{adapter_gen.adapter_dir.name}"
    assert e["intents"] and {i["relation"] for i in e["intents"]} == {"USED_FOR_AUD"}


def test_an_adapter_setting_that_is_no_adapter_is_a_clear_error(tmp_path: Path) -> None:
    from cosmo.api import ApiSettings
    from cosmo.api.http.serve import open_generator
    from cosmo.core.errors import ConfigError
    from cosmo.core.settings import Settings
    from cosmo.generation.settings import GenerationSettings

    core = Settings(state_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"COSMO_GEN_ADAPTER=.*not a LoRA adapter folder"):
        open_generator(ApiSettings(), core, GenerationSettings(adapter=tmp_path))
    with pytest.raises(ConfigError, match="serve it as a LoRA module"):
        open_generator(ApiSettings(), core, GenerationSettings(adapter=tmp_path, backend="openai"))
