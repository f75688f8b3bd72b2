"""``lc_core.models.export``: a trainer run becomes a ``from_pretrained`` folder with the same weights."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from lc_core.models.export import (  # noqa: E402
    export_model,
    export_run,
    load_run_weights,
    previous_phases,
    record_phase,
    write_card,
)
from lc_core.tokenizers import ByteTokenizer  # noqa: E402


def _build(tied: bool = True):
    from lc_core.models.gqa import GQAForCausalLM
    from lc_core.models.gqa.presets import tiny_config

    return GQAForCausalLM(tiny_config(vocab_size=259, tie_word_embeddings=tied))


def _train_tiny(run: Path, steps: int = 2):
    from lc_core.train import PackedDataset, TrainConfig, train

    ids = torch.randint(3, 259, (4000,), generator=torch.Generator().manual_seed(0)).numpy()
    cfg = TrainConfig(
        seq_len=32,
        micro_batch_size=2,
        global_batch_size=2,
        max_steps=steps,
        save_every=steps,
        out_dir=str(run),
        progress=False,
        log_every=1,
    )
    return train(_build, cfg, PackedDataset(ids, 32), device="cpu")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_export_run_round_trip(tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    from lc_core.models import register_all

    run, dest = tmp_path / "run", tmp_path / "dest"
    result = _train_tiny(run)
    record_phase(run, {"steps": result.step, "note": "phase 1"})
    record_phase(run, {"steps": result.step, "note": "phase 2"})
    ckpt = export_run(run, _build, dest, generation={"eos_token_id": 1, "pad_token_id": 0, "do_sample": False})
    assert ckpt.name == f"step_{result.step:08d}"

    register_all()
    back = AutoModelForCausalLM.from_pretrained(dest)
    trained = load_run_weights(ckpt)
    # the tied head was stored once by the trainer and is restored as a copy of the embedding
    assert torch.equal(trained["lm_head.weight"], trained["model.embed_tokens.weight"])
    for key, value in back.state_dict().items():
        assert torch.equal(value, trained[key]), key
    tok = AutoTokenizer.from_pretrained(dest)
    assert tok.encode("Hé!", add_special_tokens=False) == ByteTokenizer().encode("Hé!")
    assert GenerationConfig.from_pretrained(dest).eos_token_id == 1
    recipe = json.loads((dest / "train_recipe.json").read_text(encoding="utf-8"))
    assert recipe["checkpoint"] == ckpt.name
    assert [p["note"] for p in recipe["phases"]] == ["phase 1", "phase 2"] and recipe["note"] == "phase 2"
    for path in dest.iterdir():
        assert _mode(path) == 0o644, path


def test_export_run_without_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        export_run(tmp_path, _build, tmp_path / "dest")


def test_export_model_is_deterministic(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = _build(tied=False)
    a = export_model(model, tmp_path / "a", byte_tokenizer=False, extra_json={"x.json": {"k": 1}})
    b = export_model(model, tmp_path / "b", byte_tokenizer=False, extra_json={"x.json": {"k": 1}})
    names = sorted(p.name for p in a.iterdir())
    assert {"config.json", "model.safetensors", "x.json"} <= set(names) and "tokenizer_config.json" not in names
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_phases_and_card(tmp_path: Path) -> None:
    assert previous_phases(tmp_path) == []
    # a recipe written before phases existed counts as one phase
    (tmp_path / "recipe.json").write_text(json.dumps({"steps": 3}), encoding="utf-8")
    assert previous_phases(tmp_path) == [{"steps": 3}]
    rec = record_phase(tmp_path, {"steps": 5})
    assert rec == {"steps": 5, "phases": [{"steps": 3}, {"steps": 5}]}
    card = write_card(tmp_path, "# card\n")
    assert card.read_text(encoding="utf-8") == "# card\n" and _mode(card) == 0o644
