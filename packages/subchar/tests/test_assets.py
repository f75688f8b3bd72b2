"""The shipped tokenizers: they load offline by name, round-trip, and refuse a different table."""

from __future__ import annotations

import json
import shutil

import pytest

from subchar.assets import SHIPPED, shipped_path
from subchar.tokenizer import SubCharTokenizer, load_tokenizer

TEXT = "他是我的朋友，Hello World 2023！\n第二行\t制表：Debian 系统"


@pytest.mark.parametrize("name", list(SHIPPED))
def test_shipped_tokenizer_loads_by_name_and_roundtrips(name):
    from lc_core.models.builtin import builtin_models, resolve_model_path

    assert name in builtin_models()
    assert resolve_model_path(name) == shipped_path(name)
    tok = load_tokenizer(name)
    _, encoding, index = SHIPPED[name]
    assert tok.encoder_config.encoding == encoding and tok.encoder_config.index == index
    ids = tok(TEXT, add_special_tokens=False)["input_ids"]
    assert tok.unk_token_id not in ids
    if index:
        assert tok.decode(ids) == TEXT
    assert len(ids) < len(TEXT)


def test_noindex_shipped_is_homophone_invariant():
    tok = load_tokenizer("subchar/pinyin-noindex")
    assert tok("他是我的朋友")["input_ids"] == tok("她是我的朋友")["input_ids"]


def test_a_different_table_is_refused(tmp_path):
    folder = tmp_path / "pinyin"
    shutil.copytree(shipped_path("pinyin"), folder)
    cfg_path = folder / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["table_sha256"] = "0" * 64
    cfg_path.write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="different pinyin table"):
        SubCharTokenizer.from_pretrained(folder)


def test_unknown_name():
    with pytest.raises(FileNotFoundError, match="not a shipped tokenizer"):
        load_tokenizer("subchar/klingon")
    with pytest.raises(KeyError, match="unknown shipped tokenizer"):
        shipped_path("klingon")
