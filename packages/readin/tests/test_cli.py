import json

from readin.cli import main
from readin.sample import write_jsonl


def test_check_prints_splits(task_dir, capsys):
    root = task_dir("afqmc")
    assert main(["check", str(root), "--task", "afqmc"]) == 0
    out = capsys.readouterr().out
    assert "keyboard_3" in out and "asr_1" in out


def test_score_afqmc_end_to_end(task_dir, tmp_path, capsys):
    root = task_dir("afqmc")
    preds = tmp_path / "preds"
    write_jsonl(preds / "clean.jsonl", [{"prediction": p} for p in (1, 1, 0, 0)])
    for noise in ("keyboard", "asr"):
        for i, v in enumerate(([1, 0, 0, 0], [1, 1, 0, 1], [1, 1, 0, 0]), start=1):
            write_jsonl(preds / f"{noise}_{i}.jsonl", [{"clean_index": j, "prediction": p} for j, p in enumerate(v)])
    out_dir = tmp_path / "results"
    assert main(["score", str(root), "--task", "afqmc", "--preds", str(preds), "--model", "toy", "--out", str(out_dir)]) == 0
    table = capsys.readouterr().out
    assert "| Keyboard | toy | 100.00 | 83.33 | 50.00 |" in table
    record = json.loads(next((out_dir / "toy").glob("results_*.json")).read_text())
    assert record["scores"]["asr"]["neg_worst"] == 0.5


def test_bad_prediction_file_is_one_line(task_dir, tmp_path, capsys):
    root = task_dir("cmrc")
    preds = tmp_path / "p"
    write_jsonl(preds / "clean.jsonl", [{"id": "x", "prediction": "北京"}])
    rc = main(["score", str(root), "--task", "cmrc", "--preds", str(preds), "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    first = err.strip().splitlines()[0]
    assert rc == 2 and first.startswith("readin: error: ") and "clean.jsonl:1: field 'id'" in first


def test_noise_sample_prints_edits_and_writes_benchmark(tmp_path, capsys):
    assert main(["noise", "--sample", "--task", "cmrc", "--out", str(tmp_path / "b"), "--show", "2"]) == 0
    out = capsys.readouterr().out
    assert "[cmrc keyboard_1" in out and "[cmrc asr_3" in out and "→" in out
    from readin.data import load_benchmark

    assert len(load_benchmark(tmp_path / "b", "cmrc", require_all=True).splits) == 7


def test_noise_needs_input(capsys):
    assert main(["noise", "--task", "afqmc"]) == 2
    assert "--sample" in capsys.readouterr().err


def test_augment_writes_three_times_the_rows(tmp_path, capsys):
    from readin.sample import AFQMC

    src = write_jsonl(tmp_path / "train.json", AFQMC)
    assert main(["augment", str(src), "--task", "afqmc", "--out", str(tmp_path / "aug.json")]) == 0
    lines = (tmp_path / "aug.json").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3 * len(AFQMC)


def test_report_tables_and_plot(task_dir, tmp_path, capsys):
    import pytest

    pytest.importorskip("matplotlib")
    root = task_dir("afqmc")
    preds = tmp_path / "preds"
    for split in ("clean", "keyboard_1", "keyboard_2", "keyboard_3"):
        write_jsonl(preds / f"{split}.jsonl", [{"prediction": p} for p in (1, 0, 0, 0)])
    out = tmp_path / "results"
    assert main(["score", str(root), "--task", "afqmc", "--preds", str(preds), "--model", "toy", "--out", str(out)]) == 0
    capsys.readouterr()
    result = next((out / "toy").glob("results_*.json"))
    assert main(["report", str(result), "--plot", str(tmp_path / "curves.png")]) == 0
    text = capsys.readouterr().out
    assert "## afqmc" in text and "| Keyboard | toy | 50.00 | 50.00 | 50.00 |" in text
    assert (tmp_path / "curves.png").stat().st_size > 1000
    bad = write_jsonl(tmp_path / "bad.json", [])
    bad.write_text("{}", encoding="utf-8")
    assert main(["report", str(bad)]) == 2


def test_noise_stats_prints_the_realism_table(capsys):
    assert main(["noise", "--sample", "--task", "afqmc", "--stats", "--show", "0"]) == 0
    out = capsys.readouterr().out
    assert "realism, afqmc (8 fields, 63 characters, 3 versions)" in out and "same_toneless | in_profile" in out
    # seeded: the README's realism table is this output
    assert "| keyboard | 0.127 | 20 | 0.733 | — | 0.000 | 0.150 | 100.529 |" in out
    assert "| speech | 0.148 | 27 | 0.815 | 1.000 | 0.000 | 0.630 | 137.566 |" in out
    assert "| homophone baseline @ keyboard CER | 0.164 | 31 | 1.000 |" in out


def test_score_ignores_the_order_of_noisy_lines(task_dir, tmp_path, capsys):
    # spec §13.6: WMT noisy rows carry the clean id; shuffling (and subsetting) a noisy file changes no score
    import random

    root = task_dir("wmt")
    preds = tmp_path / "preds"
    hyps = ["The weather is good.", "I like books.", "He goes to Beijing.", "It is hard.", "Let us eat."]
    write_jsonl(preds / "clean.jsonl", [{"id": i, "prediction": h} for i, h in enumerate(hyps)])
    for noise in ("keyboard", "asr"):
        for v in (1, 2, 3):
            write_jsonl(preds / f"{noise}_{v}.jsonl", [{"id": i, "prediction": hyps[(i + v) % 5]} for i in range(5)])
    tables = []
    for shuffle in (False, True):
        if shuffle:
            for path in root.glob("test_noisy_*/test.json"):
                lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
                random.Random(path.parent.name).shuffle(lines)
                path.write_text("".join(lines), encoding="utf-8")
        assert main(["score", str(root), "--task", "wmt", "--preds", str(preds), "--out", str(tmp_path / "r")]) == 0
        tables.append(capsys.readouterr().out)
    assert tables[0] == tables[1] and "WMT" in tables[0]
