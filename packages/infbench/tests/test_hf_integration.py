"""The runner on lc-core's real ``hf`` backend with a tiny GPT-2 built from a config (offline, CPU; slow).

Run: ``.venv/bin/python -m pytest packages/infbench/tests/test_hf_integration.py -q -m slow``
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory, bpe_tokenizer_json):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from tokenizers import Tokenizer

    out = tmp_path_factory.mktemp("tiny-gpt2")
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_file(str(bpe_tokenizer_json)))
    fast.add_special_tokens({"eos_token": "<eos>", "pad_token": "<eos>"})
    fast.save_pretrained(out)
    torch.manual_seed(0)
    cfg = transformers.GPT2Config(
        n_layer=1,
        n_embd=32,
        n_head=2,
        vocab_size=len(fast),
        n_positions=2048,
        eos_token_id=fast.eos_token_id,
        bos_token_id=fast.eos_token_id,
    )
    transformers.GPT2LMHeadModel(cfg).save_pretrained(out)
    return out


def test_cli_run_with_hf_backend(tiny_model, tmp_path, capsys):
    from infbench.cli import main

    argv = ["run", "--model", str(tiny_model), "--tasks", "passkey,kv_retrieval", "--lengths", "512,2k", "--n-depths", "2"]
    assert (
        main(argv + ["--repeats", "1", "--n-rows", "2", "--output", str(tmp_path), "--truncate", "1000", "--no-progress"]) == 0
    )
    assert "Retrieve.PassKey" in capsys.readouterr().out
    folder = tmp_path / tiny_model.name
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["backend"] == "HFBackend" and manifest["tasks"]["passkey"]["completed"] == 4
    # prompts are sized in the model's tokens: the 2K rows exceed --truncate 1000 and are cut, the 512 ones are not
    assert manifest["tasks"]["passkey"]["truncated"] == 2
    rows = [json.loads(x) for x in (folder / "preds_passkey.jsonl").read_text().splitlines()]
    assert all(r["prompt_tokens"] <= 2048 + 300 for r in rows)
