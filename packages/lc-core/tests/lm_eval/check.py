"""lm-evaluation-harness as a real client of ``lc-core serve``: its scores must equal a direct run of the hf backend.

Run by ``uv run nox -s lm-eval`` (which installs ``lm-eval[api]`` in its own venv); by hand, from the repository
root, in an environment with lc-core[torch] and lm-eval[api]::

    HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1 python packages/lc-core/tests/lm_eval/check.py

It starts ``lc-core serve`` on 127.0.0.1 (the offline demo Mamba-2, chunked prefill of 64 tokens so the
~400-token prompts take several chunks), then runs the task folder next to this file:

- ``lc_passkey`` (generate_until) and ``lc_mc`` (multiple_choice) through ``local-completions`` with lm-eval's
  default settings: token-id requests, the tokenizer found through ``/tokenizer_info`` + ``/tokenize``;
- ``lc_passkey_chat`` through ``local-chat-completions`` (``--apply_chat_template``).

Every logged sample is recomputed with :class:`~lc_core.inference.hf.HFBackend` in this process (the same
token ids lm-eval built): log-likelihoods to 1e-4, greedy continuations exactly, and each task's metric.
Exit status 0 when everything agrees.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODEL = "lc-core/demo-mamba2"
CHUNK = 64


def _start_server() -> tuple[subprocess.Popen[str], str]:
    cmd = [sys.executable, "-m", "lc_core", "serve", "--model", MODEL, "--port", "0", "--device", "cpu"]
    cmd += ["--dtype", "float32", "--prefill-chunk-size", str(CHUNK)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "serving" not in line:
        proc.kill()
        raise SystemExit(f"lc-core serve did not start: {line!r}")
    return proc, line.split(" at ")[1].split()[0]


def _lm_eval(model: str, base_url: str, tasks: str, out: Path, *extra: str) -> None:
    cmd = [sys.executable, "-m", "lm_eval", "--model", model]
    cmd += ["--model_args", f"model={MODEL},base_url={base_url},num_concurrent=2,max_retries=1"]
    cmd += ["--tasks", tasks, "--include_path", str(HERE / "tasks"), "--log_samples", "--output_path", str(out)]
    t0 = time.monotonic()
    subprocess.run([*cmd, *extra], check=True)
    print(f"lm_eval {model} {tasks}: {time.monotonic() - t0:.1f} s", flush=True)


def _samples(out: Path, task: str) -> list[dict]:
    # (samples_lc_passkey_<date> but not samples_lc_passkey_chat_<date>)
    files = sorted(f for f in out.rglob(f"samples_{task}_*.jsonl") if f.name[len(task) + 9 : len(task) + 10].isdigit())
    assert files, f"no samples for {task} under {out}"
    return [json.loads(line) for line in files[-1].read_text().splitlines() if line.strip()]


def _metric(out: Path, task: str, metric: str) -> float:
    files = sorted(out.rglob("results_*.json"))
    for f in reversed(files):
        results = json.loads(f.read_text())["results"]
        if task in results:
            return float(results[task][f"{metric},none"])
    raise AssertionError(f"no result for {task}")


def main() -> int:
    from lc_core.inference.base import GenerationConfig, cut_at_stop
    from lc_core.inference.hf import HFBackend

    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    proc, url = _start_server()
    failures: list[str] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            _lm_eval("local-completions", f"{url}/completions", "lc_passkey,lc_mc", out)
            _lm_eval("local-chat-completions", f"{url}/chat/completions", "lc_passkey_chat", out, "--apply_chat_template")
            backend = HFBackend(MODEL, device="cpu", dtype="float32", prefill_chunk_size=CHUNK, disable_tqdm=True)

            # multiple choice: lm-eval's token ids (context, then the rest of context + continuation)
            hits = []
            for s in _samples(out, "lc_mc"):
                args = [(a["arg_0"], a["arg_1"]) for a in s["arguments"].values()]
                got = [float(r[0][0]) for r in s["resps"]]
                want = []
                for context, continuation in args:
                    ctx = backend.encode(context)
                    whole = backend.encode(context + continuation)
                    want.append(backend.loglikelihood(ctx, whole[len(ctx) :])[0])
                if any(abs(g - w) > 1e-4 for g, w in zip(got, want, strict=True)):
                    failures.append(f"lc_mc doc {s['doc_id']}: lm-eval {got} vs direct {want}")
                hits.append(float(max(range(len(want)), key=want.__getitem__) == int(s["target"])))
            direct, via = sum(hits) / len(hits), _metric(out, "lc_mc", "acc")
            print(f"lc_mc acc: lm-eval {via:.4f}, direct {direct:.4f}")
            if direct != via:
                failures.append(f"lc_mc acc {via} != direct {direct}")

            # generation, completions (token ids) and chat (messages through the server's chat formatting)
            for task, chat in (("lc_passkey", False), ("lc_passkey_chat", True)):
                hits = []
                for s in _samples(out, task):
                    doc = s["doc"]
                    until = ["."]
                    cfg = GenerationConfig(max_new_tokens=8, stop=until, chat=chat)
                    if chat:
                        text = backend.generate([[{"role": "user", "content": doc["prompt"]}]], cfg)[0]
                    else:
                        new = backend.generate_tokens([backend.encode(doc["prompt"])], cfg)[0]
                        text = cut_at_stop(backend.decode(new), until)
                    got = s["resps"][0][0]
                    if got != text:
                        failures.append(f"{task} doc {s['doc_id']}: lm-eval {got!r} vs direct {text!r}")
                    hits.append(float(text == s["target"]))
                direct, via = sum(hits) / len(hits), _metric(out, task, "exact_match")
                print(f"{task} exact_match: lm-eval {via:.4f}, direct {direct:.4f}")
                if direct != via:
                    failures.append(f"{task} exact_match {via} != direct {direct}")
    finally:
        proc.terminate()
        rc = proc.wait(timeout=60)
        if rc != 0:
            failures.append(f"lc-core serve exited with {rc} on SIGTERM")
    for f in failures:
        print("MISMATCH", f)
    print("OK: lm-eval through lc-core serve equals the direct hf backend" if not failures else "FAILED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
