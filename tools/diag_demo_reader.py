"""Diagnose a demo-reader checkpoint on held-out generated QA prompts: teacher-forced exact accuracy by number of notes
(k), by the rank of the matching note, and (unanswerable) by the kind of near miss present. Also what the first answer
byte says (abstain vs copy), so slips in copying are told apart from wrong answer/abstain decisions.

    OMP_NUM_THREADS=1 python tools/diag_demo_reader.py runs/dr6 --n 300
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_demo_reader as T  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--relations", default=None, help="as train --relations (the ablation's world)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.relations:
        T.restrict_relations(args.relations)
    # question template -> regex capturing the subject (named relations only; invented ones are skipped)
    q_res = [
        re.compile("^" + re.escape(q).replace(re.escape("{s}"), "(.+)") + "$") for _, qs, _ in T.RELATIONS.values() for q in qs
    ]
    model = T._load_latest(Path(args.run))
    world = T.World(random.Random("eren-demo-reader/diag"))
    exs = []
    while len(exs) < args.n:
        e = T.reader_example(world, fc=False)
        if e.kind.startswith("qa-"):
            exs.append(e)
    stats: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # exact, first-byte decision right, n
    with torch.no_grad():
        for e in exs:
            p, a = T.encode_pair(e.prompt, e.target)
            logits = model(input_ids=torch.tensor([p + a])).logits[0]
            got = logits[len(p) - 1 : len(p) - 1 + len(a)].argmax(-1).tolist()
            exact = got == a
            says_abstain = got[0] == a[0] if e.kind == "qa-abstain" else got[0] == T.TOK.encode("u")[0]
            decision = says_abstain if e.kind == "qa-abstain" else not says_abstain
            notes = e.prompt.split("\n\n")[1].split("\n")
            q = e.prompt.rsplit("\n\n", 1)[1]
            keys = [f"{e.kind}", f"{e.kind} k={len(notes)}"]
            subj = next((m.group(1) for r in q_res if (m := r.match(q))), None)
            if e.kind == "qa-abstain" and subj is not None:
                same = any(re.search(rf"(^|\W){re.escape(subj)}(\W|$)", n) for n in notes)
                keys.append(f"qa-abstain {'same-subject' if same else 'other-subjects'} notes")
            if e.kind == "qa-answer":
                rank = next(i for i, n in enumerate(notes) if e.target in n)
                keys.append(f"qa-answer rank={rank + 1}")
            for key in keys:
                s = stats[key]
                s[0] += exact
                s[1] += decision
                s[2] += 1
    print(f"{'class':28s} {'n':>4s} {'exact %':>8s} {'decision %':>10s}")
    for key in sorted(stats):
        ex, dec, n = stats[key]
        print(f"{key:28s} {n:4d} {100 * ex / n:8.1f} {100 * dec / n:10.1f}")


if __name__ == "__main__":
    main()
