from readin.data import load_benchmark
from readin.sample import CMRC, CSPIDER, SAMPLES
from readin.simulate import NoiseSettings, make_benchmark, noise_rows


def test_cmrc_only_question_changes_and_offsets_stay_valid():
    rows, log = noise_rows(CMRC, "cmrc", "keyboard", 1, NoiseSettings(keyboard_rate=1.0))
    assert log and {x["field"] for x in log} == {"question"}
    for old, new in zip(CMRC, rows):
        assert new["context"] == old["context"] and new["answers"] == old["answers"] and new["id"] == old["id"]
        for a in new["answers"]:
            assert new["context"][a["answer_start"] : a["answer_start"] + len(a["text"])] == a["text"]
    assert any(new["question"] != old["question"] for old, new in zip(CMRC, rows))


def test_cspider_sql_values_protected():
    row = {"question": "名字是'北京歌手'的歌手多大？", "db_id": "d", "query": "SELECT age FROM singer WHERE name = '北京歌手'"}
    for v in (1, 2, 3):
        for ch in ("keyboard", "asr"):
            out, _ = noise_rows([row, *CSPIDER], "cspider", ch, v, NoiseSettings(keyboard_rate=1.0, speech_rate=1.0))
            assert "'北京歌手'" in out[0]["question"] and out[0]["query"] == row["query"]


def test_make_benchmark_loads_back(tmp_path):
    rows = SAMPLES["afqmc"][0] * 30
    stats = make_benchmark(rows, "afqmc", tmp_path / "afqmc", NoiseSettings(seed=1), progress=False)
    bench = load_benchmark(tmp_path / "afqmc", "afqmc", require_all=True)
    assert len(bench.splits) == 7 and stats["sentences"] == 6 * 2 * len(rows) and stats["sentences_per_s"] > 0
    versions = [tuple(r["sentence1"] for r in s.rows) for s in bench.versions("asr")]
    assert len(set(versions)) == 3 and (tmp_path / "afqmc" / "edits_asr_2.jsonl").is_file()


def test_processes_do_not_change_results():
    rows = SAMPLES["wmt"][0] * 20
    one, _ = noise_rows(rows, "wmt", "asr", 2, NoiseSettings(processes=1))
    two, _ = noise_rows(rows, "wmt", "asr", 2, NoiseSettings(processes=2))
    assert one == two
