"""Spec §13 tests 12 (the pos/neg bias effect, model-free) and 13 (everything runs with sockets disabled)."""

import subprocess
import sys
import textwrap
from pathlib import Path

from readin.metrics import afqmc_scores
from readin.sample import AFQMC
from readin.simulate import NoiseSettings, noise_rows


def test_noise_biases_a_toy_classifier_towards_negative():
    rows = [dict(r, label=int(r["label"])) for r in AFQMC] * 5
    vocab = {ch for r in rows for ch in r["sentence1"] + r["sentence2"]}
    # "equivalent" unless a sentence holds a character the model never saw (READIN's bias effect in miniature)
    predict = lambda r: int(all(ch in vocab for ch in r["sentence1"] + r["sentence2"]))
    labels = [r["label"] for r in rows]
    clean = [predict(r) for r in rows]
    for channel in ("keyboard", "asr"):
        versions = [[predict(r) for r in noise_rows(rows, "afqmc", channel, v, NoiseSettings(seed=3))[0]] for v in (1, 2, 3)]
        s = afqmc_scores(labels, clean, versions)
        assert s["pos_avg"] < s["pos_clean"] and s["neg_avg"] > s["neg_clean"]
        assert s["pos_worst"] <= s["pos_avg"]


def test_everything_runs_with_sockets_disabled(tmp_path):
    code = textwrap.dedent(
        f"""
        import socket

        def refuse(*a, **k):
            raise RuntimeError("network access attempted")

        class NoSocket(socket.socket):  # a class, so modules that subclass socket.socket still import
            def __init__(self, *a, **k):
                refuse()

        socket.socket = NoSocket
        socket.create_connection = refuse
        socket.getaddrinfo = refuse

        from readin.cli import main
        from readin.sample import write_task
        from readin.data import load_benchmark
        from readin.augment import ada_augment
        from readin.metrics import wmt_scores
        root = write_task(r"{tmp_path}/wmt", "wmt")
        bench = load_benchmark(root, "wmt")
        refs = [r["en"] for r in bench.clean.rows]
        assert abs(wmt_scores(refs, refs, [refs] * 3)["bleu_worst"] - 100.0) < 1e-6
        assert len(ada_augment(bench.clean.rows, "wmt")) == 3 * len(refs)
        assert main(["noise", "--sample", "--out", r"{tmp_path}/bench", "--show", "1"]) == 0
        assert main(["check", r"{tmp_path}/bench/cmrc", "--task", "cmrc"]) == 0
        print("OFFLINE-OK")
        """
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and "OFFLINE-OK" in res.stdout, res.stderr[-2000:]


NO_SOCKETS = """
import socket, sys

def refuse(*a, **k):
    raise RuntimeError("network access attempted")

class NoSocket(socket.socket):
    def __init__(self, *a, **k):
        refuse()

socket.socket = NoSocket
socket.create_connection = refuse
socket.getaddrinfo = refuse
import pytest
sys.exit(pytest.main(sys.argv[1:]))
"""

#: the test modules of spec §13 tests 1-12 (the table in the README maps each test to its ids)
SPEC_MODULES = ("test_data", "test_metrics", "test_augment", "test_noise", "test_simulate", "test_report", "test_offline")


def test_spec_tests_1_to_12_pass_with_sockets_disabled():
    here = Path(__file__).parent
    files = [str(here / f"{m}.py") for m in SPEC_MODULES]
    argv = [*files, "-q", "-p", "no:cacheprovider", "-m", "not slow", "-k", "not sockets_disabled", "-W", "ignore"]
    res = subprocess.run([sys.executable, "-c", NO_SOCKETS, *argv], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0 and " passed" in res.stdout and "failed" not in res.stdout, res.stdout[-3000:]
