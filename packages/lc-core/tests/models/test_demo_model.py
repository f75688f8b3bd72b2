"""The embedded demo model ``lc-core/demo-mamba2``: offline loading and the card's numbers.

The card's passkey table comes from ``eval.json`` (written by ``tools/train_demo_mamba2.py eval``); the
last test re-decodes the first held-out rows at the shortest length (their prompts are stored there, so
lc-core's tests need not import infbench) through the real ``hf`` backend exactly as the recipe did (same
batch) and compares with the stored per-example predictions and scores.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from lc_core.models.builtin import resolve_model_path  # noqa: E402
from lc_core.tokenizers import ByteTokenizer  # noqa: E402

NAME = "lc-core/demo-mamba2"
# ∞Bench's generation budget for passkey (infbench.tasks.MAX_NEW_TOKENS["passkey"])
MAX_NEW_TOKENS_PASSKEY = 6
# the recipe decodes in batches of 4 equal-length prompts; re-decoding the same first batch is bit-identical
N_CHECK = 4
BATCH = 4


@pytest.fixture(scope="module")
def folder() -> Path:
    return Path(resolve_model_path(NAME))


@pytest.fixture(scope="module")
def eval_record(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "eval.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def backend() -> Any:
    from lc_core.inference import get_backend

    return get_backend("hf", model=NAME, device="cpu", dtype="fp32", batch_size=BATCH, disable_tqdm=True)


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


def test_folder_is_complete(folder: Path) -> None:
    for name in ("config.json", "model.safetensors", "tokenizer_config.json", "generation_config.json", "README.md"):
        assert (folder / name).is_file(), f"{name} missing from {folder}"
    # "a few MB" at most: the wheel ships it
    assert (folder / "model.safetensors").stat().st_size < 8 * 2**20


def test_auto_classes_load_offline(folder: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from lc_core.models import register_all

    register_all()
    model = AutoModelForCausalLM.from_pretrained(folder)
    assert model.config.model_type == "lc-mamba2"
    assert all(torch.isfinite(p).all() for p in model.parameters())
    tok = AutoTokenizer.from_pretrained(folder)
    text = "The pass key is 71432."
    assert tok.encode(text, add_special_tokens=False) == ByteTokenizer().encode(text)
    assert tok.eos_token_id == model.generation_config.eos_token_id == 1
    assert model.config.vocab_size >= len(tok)


def test_card_table_matches_eval_json(folder: Path, eval_record: dict[str, Any]) -> None:
    card = (folder / "README.md").read_text(encoding="utf-8")
    for res in eval_record["results"]:
        row = re.search(rf"^\|\s*{res['length']}\s*\|\s*{res['n']}\s*\|\s*([0-9.]+)\s*\|", card, flags=re.M)
        assert row is not None, f"card has no table row for length {res['length']}"
        assert float(row.group(1)) == pytest.approx(res["accuracy"], abs=0.05)
        assert res["accuracy"] == pytest.approx(100.0 * sum(e["score"] for e in res["examples"]) / res["n"])


def test_card_numbers_reproduce_at_shortest_length(backend: Any, eval_record: dict[str, Any]) -> None:
    from lc_core.inference.base import GenerationConfig

    shortest = min(eval_record["results"], key=lambda r: r["length"])
    stored = shortest["examples"][:N_CHECK]
    assert all("prompt" in e for e in stored), "eval.json lacks the prompts of the first rows (rerun the recipe's eval)"
    prompts = [e["prompt"] for e in stored]
    for prompt, ref in zip(prompts, stored, strict=True):
        assert hashlib.sha256(prompt.encode("utf-8")).hexdigest() == ref["prompt_sha256"]
        assert prompt.endswith("What is the pass key?\n\nThe pass key is") and ref["answer"] in prompt
    preds = backend.generate(prompts, GenerationConfig(max_new_tokens=MAX_NEW_TOKENS_PASSKEY, temperature=0.0))
    assert preds == [e["pred"] for e in stored]
    # the card's scorer (infbench, legacy mode) counts a row when the first integer in the output is the key
    for pred, ref in zip(preds, stored, strict=True):
        found = re.search(r"[0-9]+", pred)
        assert ref["score"] == float(found is not None and found.group(0) == ref["answer"])


def test_packages_ship_models_through_entry_points(tmp_path, monkeypatch):
    """A package's model registered in the ``lc_core.models`` group resolves by name; a missing folder is an error."""
    from lc_core.models import builtin

    class _EP:
        def __init__(self, name, target):
            self.name, self._target = name, target

        def load(self):
            return self._target

    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "config.json").write_text("{}")
    entries = {"pkg/ok": _EP("pkg/ok", tmp_path / "ok"), "pkg/gone": _EP("pkg/gone", str(tmp_path / "gone"))}
    monkeypatch.setattr(builtin, "_plugin_entries", lambda: entries)
    assert builtin.is_builtin("pkg/ok") and "pkg/ok" in builtin.builtin_models()
    assert builtin.resolve_model_path("pkg/ok") == str(tmp_path / "ok")
    with pytest.raises(FileNotFoundError, match="pkg/gone"):
        builtin.resolve_model_path("pkg/gone")
    assert builtin.resolve_model_path("org/hub-id") == "org/hub-id"
