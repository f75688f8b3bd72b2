"""Packed token streams: EOS packing, windows, sources, deterministic sharded order and its resume state.

Run: ``pytest packages/lc-core/tests/train/test_data.py -q``
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from lc_core.io import DataError
from lc_core.train import ByteTokenizer, PackedDataset, PackedLoader, eval_batches, iter_documents, pack_documents


def test_pack_appends_eos_after_every_document() -> None:
    tokens = pack_documents(["ab", "c"], ByteTokenizer())
    # ByT5 byte ids (byte + 3), EOS = 1
    assert tokens.tolist() == [100, 101, 1, 102, 1]


def test_pack_with_plain_callable_needs_eos() -> None:
    with pytest.raises(ValueError, match="eos"):
        pack_documents(["ab"], lambda s: [1, 2])
    assert pack_documents(["ab"], lambda s: [1, 2], eos_id=0).tolist() == [1, 2, 0]


def test_windows_are_non_overlapping_and_drop_the_tail() -> None:
    ds = PackedDataset(np.arange(23), seq_len=4)
    assert len(ds) == 4  # 23 // 5, the last 3 tokens dropped
    assert ds[1].tolist() == [5, 6, 7, 8, 9]
    assert ds[1].dtype == torch.int64
    with pytest.raises(IndexError):
        ds[4]


def test_jsonl_source_and_located_errors(tmp_path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"body": "x"}) + "\n" + json.dumps({"body": "yz"}) + "\n")
    assert list(iter_documents(good, field="body")) == ["x", "yz"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"body": "x"}) + "\n" + json.dumps({"body": 3}) + "\n")
    with pytest.raises(DataError) as err:
        list(iter_documents(bad, field="body"))
    assert (err.value.line, err.value.field) == (2, "body")
    with pytest.raises(DataError, match="missing") as err:
        list(iter_documents(good, field="text"))
    assert err.value.line == 1


def test_text_file_is_one_document(tmp_path) -> None:
    p = tmp_path / "book.txt"
    p.write_text("line one\nline two\n")
    assert list(iter_documents(p)) == ["line one\nline two\n"]


def test_unsupported_and_missing_sources(tmp_path) -> None:
    p = tmp_path / "x.bin"
    p.write_bytes(b"\0")
    with pytest.raises(DataError, match="unsupported"):
        list(iter_documents(p))
    with pytest.raises(FileNotFoundError):
        list(iter_documents(tmp_path / "nope.jsonl"))
    # a str is always a path, never a document
    with pytest.raises(FileNotFoundError, match="just some text"):
        list(iter_documents("just some text"))


def test_hf_dataset_in_memory_and_on_disk(tmp_path) -> None:
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_dict({"content": ["ab", "c"], "n": [1, 2]})
    assert list(iter_documents(ds, field="content")) == ["ab", "c"]
    ds.save_to_disk(str(tmp_path / "saved"))
    packed = PackedDataset.from_source(tmp_path / "saved", ByteTokenizer(), seq_len=1, field="content")
    assert packed.tokens.tolist() == [100, 101, 1, 102, 1]
    with pytest.raises(DataError, match="no such column"):
        list(iter_documents(ds, field="text"))


def test_npy_round_trip(tmp_path, packed) -> None:
    packed.save_npy(tmp_path / "tok.npy")
    again = PackedDataset.from_npy(tmp_path / "tok.npy", seq_len=packed.seq_len)
    assert len(again) == len(packed)
    assert torch.equal(again[3], packed[3])


def _loader(ds: PackedDataset, **kw) -> PackedLoader:
    return PackedLoader(ds, **{"micro_batch_size": 2, "global_batch_size": 8, "seed": 0, **kw})


def test_loader_is_deterministic_and_seeded() -> None:
    ds = PackedDataset(np.arange(50 * 5), seq_len=4)
    a, b, c = _loader(ds), _loader(ds), _loader(ds, seed=1)
    assert a.sample_indices(3) == b.sample_indices(3)
    assert a.sample_indices(0) != c.sample_indices(0)
    assert [t.shape for t in a.batch(0)] == [torch.Size([2, 5])] * 4


@pytest.mark.parametrize("world", [2, 4], ids=lambda w: f"world{w}")
def test_ranks_partition_the_single_process_batch(world: int) -> None:
    ds = PackedDataset(np.arange(40 * 5), seq_len=4)
    single = _loader(ds).sample_indices(5)
    shards = [_loader(ds, rank=r, world_size=world).sample_indices(5) for r in range(world)]
    assert sorted(i for s in shards for i in s) == sorted(single)
    assert len({i for s in shards for i in s}) == 8


def test_every_window_once_per_epoch_then_a_new_order() -> None:
    ds = PackedDataset(np.arange(16 * 5), seq_len=4)
    loader = _loader(ds)
    epoch0 = [i for s in range(2) for i in loader.sample_indices(s)]
    epoch1 = [i for s in range(2, 4) for i in loader.sample_indices(s)]
    assert sorted(epoch0) == sorted(epoch1) == list(range(16))
    assert epoch0 != epoch1
    assert loader.epoch_of(3) == 1.5


def test_resume_state_continues_with_the_next_batch() -> None:
    ds = PackedDataset(np.arange(30 * 5), seq_len=4)
    straight = _loader(ds)
    it = iter(straight)
    batches = [next(it) for _ in range(6)]
    first = _loader(ds)
    it1 = iter(first)
    for _ in range(4):
        next(it1)
    state = json.loads(json.dumps(first.state_dict()))
    resumed = _loader(ds)
    resumed.load_state_dict(state)
    assert all(torch.equal(x, y) for x, y in zip(next(iter(resumed)), batches[4]))


def test_resume_refuses_changed_data() -> None:
    state = _loader(PackedDataset(np.arange(30 * 5), seq_len=4)).state_dict()
    with pytest.raises(ValueError, match="num_windows"):
        _loader(PackedDataset(np.arange(31 * 5), seq_len=4)).load_state_dict(state)


def test_loader_needs_one_global_batch() -> None:
    with pytest.raises(ValueError, match="fewer than one global batch"):
        _loader(PackedDataset(np.arange(7 * 5), seq_len=4))


def test_eval_batches_shard_in_order() -> None:
    ds = PackedDataset(np.arange(9 * 3), seq_len=2)
    r0 = eval_batches(ds, micro_batch_size=2, rank=0, world_size=2)
    r1 = eval_batches(ds, micro_batch_size=2, rank=1, world_size=2)
    assert len(r0) == len(r1) == 2  # 9 windows: 2 rounds of 4, the 9th dropped
    assert r0[0][:, 0].tolist() == [0, 3] and r1[0][:, 0].tolist() == [6, 9]
    assert len(eval_batches(ds, micro_batch_size=2, max_batches=1)) == 1
