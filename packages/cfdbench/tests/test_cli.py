"""``cfdbench`` console script (spec §9.11): lc_core.cli verbs, kebab flags with hidden snake aliases, results layout."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from cfdbench.cli import build_parser, main


def _newest(folder: Path) -> dict:
    found = sorted(folder.glob("results_*.json"))
    assert found, f"no results in {folder}"
    assert found[-1].with_suffix(".md").is_file()
    return json.loads(found[-1].read_text())


def test_help_has_every_verb(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for verb in ("generate", "train", "test", "rollout", "plot", "overfit", "info"):
        assert verb in out
    assert "--data-dir" in out and "--data_dir" not in out


def test_help_imports_neither_torch_nor_numpy():
    code = (
        "import sys\nfrom cfdbench.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('torch', 'numpy', 'scipy', 'matplotlib', 'cfdbench.commands')\n"
        "print('HEAVY', sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True).stdout
    assert "HEAVY []" in out


def test_verb_help_is_torch_free_and_kebab(capsys):
    code = (
        "import sys\nfrom cfdbench.cli import main\n"
        "try:\n    main(['train', '--help'])\nexcept SystemExit:\n    pass\n"
        "print('TORCH', 'torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True).stdout
    assert "TORCH False" in out
    assert "--num-epochs" in out and "--num_epochs" not in out and "--model-kwargs" in out


def test_data_alias_legacy_snake_flags_and_abbreviation_rejected():
    p = build_parser(["train"])
    assert p.parse_args(["train", "--data", "cavity_bc"]).data_name == "cavity_bc"
    assert p.parse_args(["train", "--data-name", "cavity_bc"]).data_name == "cavity_bc"
    # the first release's snake_case flags still parse (hidden)
    old = p.parse_args(["train", "--data_name", "cavity_bc", "--num_epochs", "3", "--no_norm", "--model_kwargs", "{}"])
    assert (old.data_name, old.num_epochs, old.normalize, old.model_kwargs) == ("cavity_bc", 3, False, "{}")
    with pytest.raises(SystemExit):
        p.parse_args(["train", "--num_ep", "3"])
    with pytest.raises(SystemExit):
        p.parse_args(["train", "--num-ep", "3"])
    gen = build_parser(["generate"])
    assert gen.parse_args(["generate", "--problem", "tube", "--out", "d", "--tube_phases", "1", "--max_re", "50"]).max_re == 50


def test_snake_flag_warns(make_dataset, tmp_path, caplog):
    root = make_dataset("cavity", ("bc",), n=2, t=3)
    with caplog.at_level(logging.WARNING):
        assert main(["info", str(root)]) == 0
        main(["overfit", "--data_dir", str(root), "--models", "identity", "--steps", "1", "--out", str(tmp_path)])
    assert any("--data_dir is deprecated" in r.getMessage() for r in caplog.records)


def test_train_test_rollout_plot_info(make_dataset, tmp_path, capsys):
    root = make_dataset("cavity", ("prop",), n=4, t=4)
    run = tmp_path / "run"
    kw = json.dumps({"hidden": 8, "modes_x": 4, "modes_y": 4, "projection": 16})
    args = ["train", "--model", "fno", "--data-name", "cavity_prop", "--data-dir", str(root), "--num-epochs", "2"]
    args += ["--eval-interval", "1", "--batch-size", "8", "--run-dir", str(run), "--model-kwargs", kw, "--mode", "train"]
    assert main(args) == 0
    assert (
        (run / "args.json").is_file()
        and (run / "ckpt-1" / "model.pt").is_file()
        and (run / "ckpt-2" / "dev_scores.json").is_file()
    )
    d = json.loads((run / "ckpt-1" / "dev_scores.json").read_text())
    d["all"]["batch_mean"]["nmse"] = -1.0
    (run / "ckpt-1" / "dev_scores.json").write_text(json.dumps(d))
    capsys.readouterr()
    test_args = ["train", "--model", "fno", "--data", "cavity_prop", "--data-dir", str(root), "--run-dir", str(run)]
    assert main([*test_args, "--mode", "test", "--model-kwargs", kw]) == 0
    assert json.loads(capsys.readouterr().out)["ckpt"].endswith("ckpt-1")
    test_record = _newest(run / "test")
    assert test_record["ckpt"].endswith("ckpt-1") and test_record["manifest"]["config"]["model"] == "fno"
    assert main(["test", "--run-dir", str(run), "--out", str(tmp_path / "scores"), "--run-name", "fno-cavity"]) == 0
    assert _newest(tmp_path / "scores" / "fno-cavity")["scores"]["all"]["batch_mean"]["nmse"] >= 0
    assert main(["rollout", "--run-dir", str(run), "--steps", "3"]) == 0
    assert len(_newest(run / "rollout")["steps"]) == 3
    assert main(["plot", "--run-dir", str(run)]) == 0
    assert list((run / "plots").glob("fields_*.png")) and (run / "plots" / "rollout_nmse.png").is_file()
    capsys.readouterr()
    assert main(["info", str(root)]) == 0
    assert "| cavity | prop |" in capsys.readouterr().out


def test_task_mismatch_is_one_line(make_dataset, capsys):
    root = make_dataset("cavity", ("bc",), n=2, t=3)
    assert main(["train", "--model", "fno", "--task", "nonauto", "--data", "cavity_bc", "--data-dir", str(root)]) == 2
    assert "--task nonauto does not match model 'fno'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["test", "--run-dir", "no/such/run"], "no/such/run: no such run folder"),
        (["info", "no/such/data"], "no/such/data: no such dataset folder"),
        (["train", "--data", "pipe_bc", "--data-dir", "."], "unknown problem 'pipe'"),
        (["train", "--data", "cavity_bc", "--delta-time", "0.1", "--model-kwargs", "{x"], "--model-kwargs is not JSON"),
    ],
    ids=["missing-run", "missing-data", "bad-data-name", "bad-model-kwargs"],
)
def test_user_errors_exit_2_with_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 2


def test_generate_verb(tmp_path, capsys):
    assert (
        main(
            [
                "generate",
                "--problem",
                "cylinder",
                "--subset",
                "bc",
                "--cases",
                "1",
                "--frames",
                "2",
                "--resolution",
                "16",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["written"] == 1
    assert (tmp_path / "cylinder" / "bc" / "case0000" / "u.npy").is_file()


@pytest.mark.parametrize("verb", ["train", "overfit"])
def test_missing_data_dir_is_one_line_rc2(tmp_path, capsys, verb):
    # `train` on a missing folder used to end in a traceback
    assert main([verb, "--data", "cavity_bc", "--data-dir", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'nowhere'}: no such dataset folder" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 2


def test_string_npy_is_one_line_rc2(make_dataset, capsys):
    import numpy as np

    root = make_dataset("cavity", ("bc",), n=1, t=2)
    np.save(root / "cavity" / "bc" / "case0000" / "u.npy", np.full((2, 64, 64), "1.0"))
    assert main(["info", str(root)]) == 2
    err = capsys.readouterr().err
    assert "u.npy" in err and "dtype" in err and "Traceback" not in err
