import json
import textwrap

import pytest

from lc_core.eval import EvalConfig
from lc_core.inference.base import Backend
from readin.cli import main
from readin.data import load_benchmark
from readin.evaluate import build_prompt, parse_answer, run_benchmark, score_predictions
from readin.sample import AFQMC, WMT
from readin.tasks import get_task


class Oracle(Backend):
    """Answers from a lookup on the last question of the prompt; counts calls."""

    def __init__(self, answer):
        self.answer, self.calls = answer, 0

    def generate(self, prompts, config):
        self.calls += len(prompts)
        return [self.answer(p.rsplit("\n\n", 1)[-1]) for p in prompts]

    def encode(self, text):
        return [ord(c) for c in text]

    def decode(self, ids):
        return "".join(map(chr, ids))


def test_prompts_and_parsing():
    task = get_task("afqmc")
    p = build_prompt(task, AFQMC[2], shots=AFQMC[:2])
    assert p.count("答案：") == 3 and p.endswith("答案：") and "答案：是" in p
    assert parse_answer(task, "是的，相同") == 1 and parse_answer(task, " 否") == 0 and parse_answer(task, "maybe") == -1
    assert parse_answer(get_task("cmrc"), "“北京”。\n多余") == "北京"
    assert parse_answer(get_task("wmt"), "\nHello there.\nmore") == "Hello there."


def test_run_score_and_resume(task_dir, tmp_path):
    bench = load_benchmark(task_dir("afqmc"), "afqmc")
    # "equivalent" only when the sentence is exactly a clean one: noisy copies (marked with a suffix) turn into "no"
    clean_s1 = {r["sentence1"] for r in AFQMC}
    backend = Oracle(lambda q: "是" if q.split("\n")[0][4:] in clean_s1 else "否")
    rows = run_benchmark(bench, backend, tmp_path / "run", config=EvalConfig(progress=False))
    assert set(rows) == set(bench.splits) and backend.calls == 7 * 4
    assert rows["asr_1"][0]["prediction"] == "否" and rows["asr_1"][0]["parsed"] == 0
    preds = {k: {r["clean_index"]: r["parsed"] for r in v} for k, v in rows.items()}
    s = score_predictions(bench, preds)
    assert s["keyboard"]["pos_clean"] == 1.0 and s["keyboard"]["pos_avg"] == 0.0 and s["asr"]["neg_worst"] == 1.0
    run_benchmark(bench, backend, tmp_path / "run", config=EvalConfig(progress=False))
    assert backend.calls == 7 * 4  # resumed: nothing generated again


def test_limit_scores_the_prefix(task_dir, tmp_path):
    bench = load_benchmark(task_dir("wmt"), "wmt")
    refs = {r["zh"]: r["en"] for r in WMT}
    backend = Oracle(lambda q: refs.get(q.split("\n")[0][3:], "no idea"))
    rows = run_benchmark(bench, backend, tmp_path / "r", config=EvalConfig(limit=2, progress=False))
    preds = {k: {r["clean_index"]: r["parsed"] for r in v} for k, v in rows.items()}
    s = score_predictions(bench, preds)
    assert s["n"] == 2 and abs(s["keyboard"]["bleu_clean"] - 100.0) < 1e-6 and s["keyboard"]["bleu_avg"] < 5


def test_eval_cli_with_a_registered_backend(task_dir, tmp_path, monkeypatch, capsys):
    mod = tmp_path / "mods" / "readin_test_backend.py"
    mod.parent.mkdir()
    mod.write_text(
        textwrap.dedent(
            """
            from lc_core.inference.base import Backend

            PROMPTS = []

            class Always(Backend):
                def __init__(self, model, answer="是"):
                    self.answer = answer

                def generate(self, prompts, config):
                    PROMPTS.extend(prompts)
                    return [self.answer for _ in prompts]

                def encode(self, text):
                    return list(text.encode())

                def decode(self, ids):
                    return bytes(ids).decode()
            """
        )
    )
    monkeypatch.syspath_prepend(str(mod.parent))
    from lc_core.inference.base import BACKENDS

    monkeypatch.setitem(BACKENDS, "always", "readin_test_backend:Always")
    root = task_dir("afqmc")
    out = tmp_path / "res"
    assert main(["eval", str(root), "--task", "afqmc", "--backend", "always", "--model", "m", "--out", str(out)]) == 0
    table = capsys.readouterr().out
    assert "| Keyboard | m | 100.00 | 100.00 | 100.00 | 0.00 | 0.00 | 0.00 |" in table
    record = json.loads(next((out / "m").glob("results_*.json")).read_text())
    assert record["scores"]["n"] == 4 and (out / "m" / "preds_asr_3.jsonl").is_file()
    import readin_test_backend

    assert readin_test_backend.PROMPTS and all(p.count("答案：") == 1 for p in readin_test_backend.PROMPTS)  # zero-shot
    readin_test_backend.PROMPTS.clear()
    shots = root / "test_clean" / "test.json"  # any rows in the task's schema
    argv = ["eval", str(root), "--task", "afqmc", "--backend", "always", "--model", "m", "--out", str(tmp_path / "fs")]
    assert main([*argv, "--shots", str(shots), "--k", "2"]) == 0
    assert len(readin_test_backend.PROMPTS) == 7 * 4 and all(p.count("答案：") == 3 for p in readin_test_backend.PROMPTS)


def test_shards_then_one_unsharded_run_merges_and_scores(task_dir, tmp_path):
    bench = load_benchmark(task_dir("afqmc"), "afqmc")
    backend = Oracle(lambda q: "是")
    run = tmp_path / "run"
    run_benchmark(bench, backend, run, config=EvalConfig(shard=(0, 2), progress=False))
    with pytest.raises(FileNotFoundError, match=r"shard-1-of-2.jsonl: shard missing"):
        run_benchmark(bench, backend, run, config=EvalConfig(progress=False))
    run_benchmark(bench, backend, run, config=EvalConfig(shard=(1, 2), progress=False))
    assert backend.calls == 7 * 4
    rows = run_benchmark(bench, backend, run, config=EvalConfig(progress=False))
    assert backend.calls == 7 * 4  # joined, nothing generated again
    assert [r["clean_index"] for r in rows["asr_2"]] == [0, 1, 2, 3] and rows["clean"][1]["parsed"] == 1
    s = score_predictions(bench, {k: {r["clean_index"]: r["parsed"] for r in v} for k, v in rows.items()})
    assert s["keyboard"]["pos_worst"] == 1.0 and s["asr"]["neg_clean"] == 0.0
    with pytest.raises(ValueError, match="different run"):  # the shards' signature travels with the merged rows
        run_benchmark(bench, backend, run, config=EvalConfig(progress=False), signature={"model": "other"})
