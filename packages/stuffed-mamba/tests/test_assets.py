"""The shipped ``stuffed-mamba/demo-mamba2-long``: resolves offline by name, the demo's shape, card files present,
and the card's fixture predictions reproduce."""

import json

from lc_core.models.builtin import builtin_models, resolve_model_path
from stuffed_mamba.assets import DEMO_MAMBA2_LONG

NAME = "stuffed-mamba/demo-mamba2-long"


def test_registered_with_card_and_demo_shape():
    assert NAME in builtin_models()
    assert resolve_model_path(NAME) == str(DEMO_MAMBA2_LONG)
    for f in ("config.json", "model.safetensors", "tokenizer_config.json", "README.md", "eval.json", "train_recipe.json"):
        assert (DEMO_MAMBA2_LONG / f).is_file(), f
    assert (DEMO_MAMBA2_LONG / "model.safetensors").stat().st_size < 4 * 2**20
    from pathlib import Path

    demo = json.loads((Path(resolve_model_path("lc-core/demo-mamba2")) / "config.json").read_text())
    ours = json.loads((DEMO_MAMBA2_LONG / "config.json").read_text())
    for k in ("d_model", "n_layers", "d_state", "headdim", "vocab_size", "eos_token_id"):
        assert ours[k] == demo[k], k


def test_fixture_predictions_reproduce():
    from stuffed_mamba.models import load_model
    from stuffed_mamba.passkey import StreamingBackend, make_examples, prompt_tokens, score

    card = json.loads((DEMO_MAMBA2_LONG / "eval.json").read_text())["fixture_2048"]["predictions"]
    loaded = load_model(NAME, threads=1)
    be = StreamingBackend(loaded.model, loaded.encode, loaded.decode, eos_token_id=loaded.eos_token_id)
    for ex, want in zip(make_examples([2048], 4, seed=0, template="demo"), card, strict=True):
        assert ex["answer"] == want["answer"]
        pred = loaded.decode(be.complete_tokens(list(prompt_tokens(ex, loaded.encode)), 6))
        assert pred == want["prediction"] and score(pred, ex["answer"]) == 1.0
