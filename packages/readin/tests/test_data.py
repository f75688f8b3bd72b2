import json
import random

import pytest

from lc_core.io import DataError
from readin.data import load_benchmark, load_split
from readin.sample import AFQMC, WMT, write_jsonl
from readin.tasks import canonical_noise, get_task, split_names


@pytest.mark.parametrize("task", ["afqmc", "cmrc", "cspider", "wmt"])
@pytest.mark.parametrize("flat", [False, True])
def test_seven_aligned_splits(task_dir, task, flat):
    bench = load_benchmark(task_dir(task, flat=flat), task)
    assert list(bench.splits) == split_names()
    n = len(bench.clean)
    for s in bench.splits.values():
        assert len(s) == n and s.index == list(range(n))
    assert [s.name for s in bench.versions("speech")] == ["asr_1", "asr_2", "asr_3"]


def test_speech_spelling_in_file_names(task_dir):
    bench = load_benchmark(task_dir("afqmc", speech="speech"), "afqmc", noises=["speech"])
    assert list(bench.splits) == ["clean", "asr_1", "asr_2", "asr_3"]


def test_parent_folder_and_alias(tmp_path, task_dir):
    task_dir("wmt")
    bench = load_benchmark(tmp_path, "nmt")
    assert bench.task.name == "wmt" and len(bench.splits) == 7


def test_afqmc_labels_int_or_str(task_dir):
    bench = load_benchmark(task_dir("afqmc"), "afqmc")
    assert [r["label"] for r in bench.clean.rows] == [1, 1, 0, 0]


def test_misaligned_length_is_clear(task_dir):
    root = task_dir("afqmc")
    write_jsonl(root / "test_noisy_keyboard_2" / "test.json", AFQMC[:3])
    with pytest.raises(DataError, match=r"test_noisy_keyboard_2/test.json: .*3 rows but the clean split"):
        load_benchmark(root, "afqmc")


def test_unknown_id_names_file_line_field(task_dir):
    root = task_dir("cmrc")
    path = root / "test_noisy_asr_3" / "test.json"
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    rows[1]["id"] = "nope"
    write_jsonl(path, rows)
    with pytest.raises(DataError) as e:
        load_benchmark(root, "cmrc")
    assert e.value.line == 2 and e.value.field == "id" and str(path) in str(e.value)


def test_changed_label_is_misalignment(task_dir):
    root = task_dir("afqmc")
    rows = [dict(r) for r in AFQMC]
    rows[0], rows[2] = rows[2], rows[0]
    write_jsonl(root / "test_noisy_asr_1" / "test.json", rows)
    with pytest.raises(DataError, match="field 'label'"):
        load_benchmark(root, "afqmc")


def test_wmt_noisy_subset_reindexed_by_id(task_dir):
    root = task_dir("wmt")
    rows = [{"id": r["id"], "zh": r["zh"] + "噪", "en": r["en"]} for r in WMT[1:]]
    random.Random(0).shuffle(rows)
    write_jsonl(root / "test_noisy_keyboard_1" / "test.json", rows)
    bench = load_benchmark(root, "wmt")
    s = bench.splits["keyboard_1"]
    assert sorted(s.index) == [1, 2, 3, 4]
    for row, i in zip(s.rows, s.index):
        assert row["en"] == WMT[i]["en"]


@pytest.mark.parametrize(
    "row,field",
    [
        ({"sentence1": "a", "sentence2": "b"}, "label"),
        ({"sentence1": "a", "sentence2": "b", "label": 2}, "label"),
        ({"sentence1": 3, "sentence2": "b", "label": 1}, "sentence1"),
    ],
)
def test_bad_rows_name_line_and_field(tmp_path, row, field):
    path = write_jsonl(tmp_path / "t.json", [AFQMC[0], row])
    with pytest.raises(DataError) as e:
        load_split(path, "afqmc")
    assert (e.value.line, e.value.field) == (2, field)


def test_bad_json_line(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(AFQMC[0], ensure_ascii=False) + "\n{oops\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"t.json:2: invalid JSON"):
        load_split(path, "afqmc")


def test_json_array_file(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(AFQMC, ensure_ascii=False), encoding="utf-8")
    assert len(load_split(path, "afqmc")) == 4


def test_missing_clean_split(tmp_path):
    with pytest.raises(FileNotFoundError, match="no clean split"):
        load_benchmark(tmp_path, "afqmc")


def test_names():
    assert canonical_noise("speech") == "asr" and get_task("cmrc2018").name == "cmrc"
    with pytest.raises(KeyError, match="unknown task"):
        get_task("ner")


def test_datasets_view(task_dir):
    pytest.importorskip("datasets")
    dd = load_benchmark(task_dir("cmrc"), "cmrc").to_datasets()
    assert set(dd) == set(split_names()) and dd["asr_2"][0]["clean_index"] == 0
