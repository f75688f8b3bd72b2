"""Passkey protocol (spec §8 test 16) and the streaming backend."""

import pytest
import torch

from lc_core.tokenizers import ByteTokenizer
from stuffed_mamba.methods import MethodSpec, build_hooks
from stuffed_mamba.passkey import (
    TEMPLATES,
    StreamingBackend,
    build_prompt,
    depth_bin,
    heatmap,
    make_examples,
    prompt_tokens,
    score,
)

TOK = ByteTokenizer(extra_ids=0)


def test_exact_strings_of_the_original():
    t = TEMPLATES["stuffed"]
    assert t.prefix == "There is an important info hidden inside a lot of irrelevant text. Find it and memorize it.\n\n"
    assert t.block == "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.\n"
    assert t.needle.format(passkey="01234") == "The passkey is 01234. Remember it. 01234 is the passkey.\n"
    assert t.suffix == "\nWhat is the pass key? The passkey is"


def test_examples_keys_and_depths():
    ex = make_examples([1024, 2048], 4, seed=3)
    assert len(ex) == 8 and len({e["id"] for e in ex}) == 8
    assert [e["depth"] for e in ex[:4]] == [0.125, 0.375, 0.625, 0.875]
    assert all(len(e["answer"]) == 5 and e["answer"].isdigit() for e in ex)
    assert make_examples([1024], 4, seed=3) == ex[:4]  # seeded


def test_depth_range_spreads_needles_inside_it():
    ex = make_examples([4096], 4, seed=3, depth_range=(0.9, 1.0))
    assert [round(e["depth"], 4) for e in ex] == [0.9125, 0.9375, 0.9625, 0.9875]
    assert [e["answer"] for e in ex] == [e["answer"] for e in make_examples([4096], 4, seed=3)]  # same keys
    with pytest.raises(ValueError, match="depth_range"):
        make_examples([4096], 4, depth_range=(0.5, 0.2))


def test_needle_block_index():
    ex = {"length": 4096, "depth": 0.6, "answer": "00042", "template": "stuffed"}
    t = TEMPLATES["stuffed"]
    text = build_prompt(ex, TOK.encode)
    body = text[len(t.prefix) : -len(t.suffix)]
    blocks = body.splitlines(keepends=True)
    context = 4096 - len(TOK.encode(t.prefix)) - len(TOK.encode(t.suffix))
    num_blocks = context // len(TOK.encode(t.block))
    assert len(blocks) == num_blocks
    assert blocks.index(t.needle.format(passkey="00042")) == int(0.6 * (num_blocks - 1))


@pytest.mark.parametrize("length", [1024, 4096, 65536, 1 << 20])
def test_prompt_length_within_one_block(length):
    ex = make_examples([length], 1)[0]
    n = sum(1 for _ in prompt_tokens(ex, TOK.encode))
    t = TEMPLATES["stuffed"]
    block = len(TOK.encode(t.block))
    shorter = block - len(TOK.encode(t.needle.format(passkey=ex["answer"])))  # the needle replaces one block
    assert length - block - shorter < n <= length
    if length <= 65536:
        assert list(prompt_tokens(ex, TOK.encode)) == TOK.encode(build_prompt(ex, TOK.encode))


def test_score_and_heatmap_bins():
    assert score(" 01234. Remem", "01234") == 1.0 and score(" 0123", "01234") == 0.0
    assert [depth_bin(d) for d in (0.0, 0.05, 0.15, 0.95, 0.999)] == [0, 0, 1, 9, 9]
    rows = [
        {"length": 1024, "depth": 0.05, "score": 1.0},
        {"length": 1024, "depth": 0.07, "score": 0.0},
        {"length": 2048, "depth": 0.95, "score": 1.0},
    ]
    lengths, m = heatmap(rows)
    assert lengths == [1024, 2048] and m[0] == [0.5, None] and m[9] == [None, 1.0] and len(m) == 10


def test_streaming_backend_greedy_matches_full_forward(make):
    model = make(seed=2)
    ids = torch.randint(3, 97, (137,), generator=torch.Generator().manual_seed(0)).tolist()
    backend = StreamingBackend(model, lambda s: [], lambda x: "", chunk_tokens=50)
    got = backend.complete_tokens(ids, 5)
    seq = list(ids)
    with torch.no_grad():
        for _ in range(5):
            seq.append(int(model(torch.tensor([seq]), use_cache=False).logits[0, -1].argmax()))
    assert got == seq[len(ids) :]


def test_streaming_backend_hooks_are_fresh_per_prompt(make):
    model = make(seed=2)
    spec = MethodSpec(method="m3", window=64, segment_tokens=16)
    backend = StreamingBackend(model, lambda s: [], lambda x: "", hooks_factory=lambda: build_hooks(spec), chunk_tokens=40)
    ids = torch.randint(3, 97, (300,), generator=torch.Generator().manual_seed(1)).tolist()
    assert backend.complete_tokens(ids, 4) == backend.complete_tokens(ids, 4)
