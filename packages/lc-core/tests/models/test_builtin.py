"""Every model lc-core ships loads through its own loader and through the hf backend, with the same weights.

A new entry in ``lc_core.models.builtin.BUILTIN_MODELS`` whose ``model_type`` has no loader below fails here, so a
shipped model can never be unloadable (``lc-core/demo-mamba2`` once crashed on ``{"__float__": "Infinity"}``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from lc_core.models.builtin import BUILTIN_MODELS, builtin_models, resolve_model_path  # noqa: E402
from lc_core.models.mamba2.checkpoint import decode_special_floats, load_checkpoint  # noqa: E402


def _loaders() -> dict[str, Callable[[str], Any]]:
    return {"lc-mamba2": lambda name: load_checkpoint(name)}


def test_lc_core_models_are_listed():
    assert set(BUILTIN_MODELS) <= set(builtin_models())
    assert "lc-core/demo-mamba2" in BUILTIN_MODELS


@pytest.mark.parametrize("name", sorted(BUILTIN_MODELS))
def test_builtin_model_loads_through_its_loader_and_the_hf_backend(name: str):
    from lc_core.inference.hf import HFBackend

    folder = Path(resolve_model_path(name))
    raw = decode_special_floats(json.loads((folder / "config.json").read_text(encoding="utf-8")))
    loaders = _loaders()
    assert raw["model_type"] in loaders, f"{name}: no loader for model_type {raw['model_type']!r}"
    own = loaders[raw["model_type"]](name)
    backend = HFBackend(name, device="cpu", dtype="float32", disable_tqdm=True)
    assert type(backend.model) is type(own)
    # every config field survives the round trip (inf in dt_limit included)
    for key, value in raw.items():
        if key in ("transformers_version", "architectures", "dtype", "torch_dtype"):
            continue
        for model in (own, backend.model):
            got = getattr(model.config, key)
            assert list(got) == list(value) if isinstance(value, list) else got == value, (name, key, got, value)
    own_sd, hf_sd = own.state_dict(), backend.model.state_dict()
    assert own_sd.keys() == hf_sd.keys()
    for key in own_sd:
        assert torch.equal(own_sd[key], hf_sd[key]), key
        assert torch.isfinite(own_sd[key]).all(), key
    ids = torch.tensor([[5, 17, 99, 3, 42, 7]])
    with torch.no_grad():
        a, b = own(ids).logits, backend.model(ids).logits
    assert torch.isfinite(a).all()
    torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_decode_special_floats():
    tagged = {"a": [0.0, {"__float__": "Infinity"}], "b": {"__float__": "-Infinity"}, "c": {"__float__": "NaN"}}
    out = decode_special_floats(tagged)
    assert out["a"] == [0.0, math.inf] and out["b"] == -math.inf and math.isnan(out["c"])
    # an ordinary one-key dict is left alone
    assert decode_special_floats({"__float__": "1.5"}) == {"__float__": "1.5"}


def test_mamba2_config_saved_by_transformers_loads_back(tmp_path: Path):
    """``save_pretrained`` writes ``inf`` as a tag; :func:`load_checkpoint` must read it (round trip)."""
    from lc_core.models.mamba2 import Mamba2Config, Mamba2ForCausalLM

    torch.manual_seed(0)
    cfg = Mamba2Config(d_model=32, n_layers=1, vocab_size=64, d_state=16, headdim=16, chunk_size=16, dt_limit=(0.0, math.inf))
    model = Mamba2ForCausalLM(cfg).eval()
    model.save_pretrained(tmp_path)
    assert "__float__" in (tmp_path / "config.json").read_text(encoding="utf-8")
    back = load_checkpoint(tmp_path)
    assert back.config.dt_limit == (0.0, math.inf)
    for key, value in model.state_dict().items():
        assert torch.equal(back.state_dict()[key], value), key
