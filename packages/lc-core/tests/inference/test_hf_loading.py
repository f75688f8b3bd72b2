"""The hf backend refuses broken checkpoints (``lc_core.inference.hf.check_loaded_weights``).

Each test saves a tiny model to ``tmp_path``, breaks its ``model.safetensors`` on purpose and loads it through
:class:`HFBackend`: a missing or unexpected tensor is a :class:`BrokenCheckpointError` naming the folder and the
key (``strict=False`` loads with a warning), a NaN or inf weight is always one.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from safetensors.torch import load_file, save_file  # noqa: E402

from lc_core.cli import is_user_error  # noqa: E402
from lc_core.inference import get_backend  # noqa: E402
from lc_core.inference.hf import BrokenCheckpointError, HFBackend  # noqa: E402

from .conftest import _tiny_llama  # noqa: E402

KEY = "model.layers.1.mlp.down_proj.weight"


@pytest.fixture()
def llama_copy(tmp_path: Path) -> Path:
    _tiny_llama().save_pretrained(tmp_path)
    transformers.ByT5Tokenizer().save_pretrained(tmp_path)
    return tmp_path


def _edit(folder: Path, fn) -> None:
    path = folder / "model.safetensors"
    sd = load_file(str(path))
    fn(sd)
    save_file(sd, str(path), metadata={"format": "pt"})


def _load(folder: Path, **kw) -> HFBackend:
    return HFBackend(str(folder), device="cpu", dtype="float32", disable_tqdm=True, **kw)


def test_intact_checkpoint_loads(llama_copy: Path):
    backend = _load(llama_copy)
    ref = load_file(str(llama_copy / "model.safetensors"))
    assert torch.equal(backend.model.state_dict()[KEY], ref[KEY])


def test_missing_key_is_an_error_naming_path_and_key(llama_copy: Path):
    _edit(llama_copy, lambda sd: sd.pop(KEY))
    with pytest.raises(BrokenCheckpointError) as info:
        _load(llama_copy)
    msg = str(info.value)
    assert str(llama_copy) in msg and KEY in msg and "missing" in msg and "strict=false" in msg
    assert is_user_error(info.value)


def test_unexpected_key_is_an_error(llama_copy: Path):
    _edit(llama_copy, lambda sd: sd.__setitem__("model.layers.7.extra.weight", torch.zeros(3)))
    with pytest.raises(BrokenCheckpointError, match=r"unexpected key: model\.layers\.7\.extra\.weight"):
        _load(llama_copy)


def test_strict_false_loads_with_a_warning(llama_copy: Path, caplog: pytest.LogCaptureFixture):
    _edit(llama_copy, lambda sd: sd.pop(KEY))
    with caplog.at_level(logging.WARNING, logger="lc_core.inference.hf"):
        backend = get_backend("hf", model=str(llama_copy), device="cpu", dtype="float32", disable_tqdm=True, strict=False)
    assert KEY in caplog.text and "strict=false" in caplog.text
    assert backend.model.state_dict()[KEY].shape == (32, 64)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")], ids=["nan", "inf"])
def test_non_finite_weights_are_an_error_even_when_not_strict(llama_copy: Path, bad: float):
    def poison(sd):
        sd[KEY] = sd[KEY].clone()
        sd[KEY][0, 0] = bad

    _edit(llama_copy, poison)
    for strict in (True, False):
        with pytest.raises(BrokenCheckpointError, match=r"non-finite .*model\.layers\.1\.mlp\.down_proj\.weight"):
            _load(llama_copy, strict=strict)


def test_lc_mamba2_missing_key_is_an_error(tmp_path: Path):
    from lc_core.models.mamba2 import Mamba2Config, Mamba2ForCausalLM

    torch.manual_seed(0)
    cfg = Mamba2Config(d_model=32, n_layers=2, vocab_size=384, d_state=16, headdim=16, chunk_size=16)
    Mamba2ForCausalLM(cfg).save_pretrained(tmp_path)
    transformers.ByT5Tokenizer().save_pretrained(tmp_path)
    _load(tmp_path)  # intact: loads
    _edit(tmp_path, lambda sd: sd.pop("backbone.layers.1.mixer.A_log"))
    with pytest.raises(BrokenCheckpointError, match=r"missing key: backbone\.layers\.1\.mixer\.A_log"):
        _load(tmp_path)
