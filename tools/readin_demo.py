"""End-to-end READIN demo, offline, about five minutes on 2 CPU cores: sample -> noisy benchmark -> tiny model -> table.

1. Writes the shipped licence-clean AFQMC sample (written for this package) with 3 keyboard + 3 speech versions.
2. Trains a random tiny BERT (2 layers, hidden 32, character vocabulary) on the clean pairs, and another on READIN's
   ADA augmentation of them (clean + 2 same-syllable-same-tone copies), with transformers' Trainer.
3. Predicts every split and prints READIN's Table-1 layout (AFQMC pos/neg, clean / average / worst).

Model card: the models are toys (a handful of training pairs, seconds of CPU training, seed 0); their numbers only
show the pipeline and are not comparable with the paper's. Nothing is downloaded.

    uv run python tools/readin_demo.py --out /tmp/readin_demo
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from readin.augment import ada_augment
from readin.data import load_benchmark
from readin.metrics import afqmc_scores
from readin.report import table1
from readin.sample import AFQMC
from readin.simulate import NoiseSettings, make_benchmark
from readin.train import TrainConfig, predict_afqmc, tiny_bert, train_afqmc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="readin_demo", help="work folder")
    ap.add_argument("--epochs", type=float, default=20.0, help="training epochs")
    args = ap.parse_args()
    start = time.perf_counter()
    out = Path(args.out)
    rows = [dict(r, label=int(r["label"])) for r in AFQMC]
    make_benchmark(rows, "afqmc", out / "afqmc", NoiseSettings(seed=0, keyboard_rate=0.3, speech_rate=0.3), progress=False)
    bench = load_benchmark(out / "afqmc", "afqmc", require_all=True)
    labels = [r["label"] for r in bench.clean.rows]
    results = []
    for name, train in (("tiny-BERT", rows * 8), ("+ ADA", ada_augment(rows * 8, "afqmc", seed=0))):
        texts = [r["sentence1"] + r["sentence2"] for s in bench.splits.values() for r in s.rows] + [
            r["sentence1"] + r["sentence2"] for r in train
        ]
        base = tiny_bert(texts, out / "tiny")
        ft = out / f"ft_{len(results)}"
        train_afqmc(base, train, rows, TrainConfig(out=str(ft), epochs=args.epochs, batch_size=8, max_length=48, lr=1e-3))
        clean = predict_afqmc(ft, bench.clean.rows)
        for noise in ("keyboard", "asr"):
            versions = [predict_afqmc(ft, s.rows) for s in bench.versions(noise)]
            results.append({"noise": noise, "model": name, **afqmc_scores(labels, clean, versions)})
    print(table1(results), end="")
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
