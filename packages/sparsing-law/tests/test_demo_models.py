"""The shipped demo models: offline resolution by name, same shape, card numbers reproducible, ``--data demo``."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from lc_core.models.builtin import builtin_models, resolve_model_path  # noqa: E402
from sparsing_law.assets import DEMO_MODELS, DEMO_TEXT, DEMO_TEXT_NOTICE  # noqa: E402

NAMES = sorted(DEMO_MODELS)


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


def _config(name):
    return json.loads((DEMO_MODELS[name] / "config.json").read_text())


def test_registered_and_same_shape():
    assert set(NAMES) <= set(builtin_models())
    for name in NAMES:
        folder = resolve_model_path(name)
        assert folder == str(DEMO_MODELS[name])
        for f in ("model.safetensors", "README.md", "eval.json", "sparsity.jsonl", "train_recipe.json"):
            assert (DEMO_MODELS[name] / f).is_file(), (name, f)
        assert (DEMO_MODELS[name] / "model.safetensors").stat().st_size < 8 * 2**20
    relu, silu = (_config(n) for n in ("sparsing-law/demo-relu", "sparsing-law/demo-silu"))
    assert relu["activation"] == "relu" and silu["activation"] == "silu"
    skip = {"activation", "transformers_version"}
    assert {k: v for k, v in relu.items() if k not in skip} == {k: v for k, v in silu.items() if k not in skip}
    assert "Python Software Foundation" in DEMO_TEXT_NOTICE.read_text() and len(DEMO_TEXT.read_bytes()) > 8000


@pytest.mark.parametrize("name", NAMES)
def test_card_ppl1_result_reproduces(name):
    from transformers import AutoModelForCausalLM

    from lc_core.models import register_all
    from lc_core.tokenizers import ByteTokenizer
    from sparsing_law.search import evaluate_thresholds

    register_all()
    record = json.loads((DEMO_MODELS[name] / "eval.json").read_text())
    model = AutoModelForCausalLM.from_pretrained(resolve_model_path(name)).eval()
    ids = ByteTokenizer().encode(DEMO_TEXT.read_text(encoding="utf-8"))
    seqs = [ids[i : i + 256] for i in range(0, len(ids) - 256, 256)][:16]
    batches = []
    for i in range(0, 16, 4):
        x = torch.tensor(seqs[i : i + 4])
        batches.append({"input_ids": x, "attention_mask": torch.ones_like(x)})
    p = record["ppl1"]
    with torch.no_grad():
        ev = evaluate_thresholds(model, batches, p["thresholds"][0])
    assert ev.ppl_ratio == pytest.approx(p["ppl_ratio"], rel=1e-6) and ev.ppl_ratio <= 1.01
    assert ev.activation == pytest.approx(p["activation"], rel=1e-6)
    card = (DEMO_MODELS[name] / "README.md").read_text()
    assert f"activation ratio **{100 * p['activation']:.2f} %**" in card
    assert p["forwards"] < p["original_forwards"]


def test_measure_demo_data_offline(capsys):
    from sparsing_law.cli import main

    args = ["measure", "--model", "sparsing-law/demo-relu", "--data", "demo", "--device", "cpu", "--max-sequences", "4"]
    assert main([*args, "--metric", "cett", "--arg", "0.2"]) == 0
    out = capsys.readouterr().out
    assert "Average activation:" in out and "thresholds=" in out


def test_shipped_curves_show_the_readme_trends(capsys):
    """The cards' measured curves: ReLU's ratio falls with data, SiLU's rises; the README quotes these values."""
    from pathlib import Path

    from sparsing_law.cli import main

    assert main(["curve", *NAMES, "--cett", "0.1", "--drop", "2"]) == 0
    out = capsys.readouterr().out
    relu = "demo-relu (relu, CETT 0.1): activation falls with data, 14.20% -> 8.75%"
    silu = "demo-silu (silu, CETT 0.1): activation rises with data, 32.68% -> 32.84%"
    assert relu in out and silu in out, out
    readme = Path(__file__).parents[1] / "README.md"
    if readme.is_file():  # source checkout: the README's table row carries the same numbers
        text = readme.read_text(encoding="utf-8")
        assert "| ReLU, CETT 0.1 | 14.20 % | 8.75 % |" in text and "| SiLU, CETT 0.1 | 32.68 % | 32.84 % |" in text
