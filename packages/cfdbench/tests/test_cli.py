"""``cfdbench`` console script smoke tests (spec §9.11)."""

from __future__ import annotations

import json

import pytest

from cfdbench.cli import build_parser, main


def test_help_has_every_verb(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for verb in ("generate", "train", "test", "rollout", "plot", "info"):
        assert verb in out


def test_data_alias_and_abbreviation_rejected():
    p = build_parser()
    assert p.parse_args(["train", "--data", "cavity_bc"]).data_name == "cavity_bc"
    assert p.parse_args(["train", "--data_name", "cavity_bc"]).data_name == "cavity_bc"
    with pytest.raises(SystemExit):
        p.parse_args(["train", "--num_ep", "3"])


def test_train_test_rollout_plot_info(make_dataset, tmp_path, capsys):
    root = make_dataset("cavity", ("prop",), n=4, t=4)
    run = tmp_path / "run"
    kw = json.dumps({"hidden": 8, "modes_x": 4, "modes_y": 4, "projection": 16})
    args = [
        "train",
        "--model",
        "fno",
        "--data_name",
        "cavity_prop",
        "--data_dir",
        str(root),
        "--num_epochs",
        "2",
        "--eval_interval",
        "1",
    ]
    args += ["--batch_size", "8", "--run_dir", str(run), "--model_kwargs", kw, "--mode", "train"]
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
    assert (
        main(
            [
                "train",
                "--model",
                "fno",
                "--data",
                "cavity_prop",
                "--data_dir",
                str(root),
                "--run_dir",
                str(run),
                "--mode",
                "test",
                "--model_kwargs",
                kw,
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["ckpt"].endswith("ckpt-1")
    assert main(["rollout", "--run_dir", str(run), "--steps", "3"]) == 0
    assert len(json.loads((run / "test" / "multistep.json").read_text())["steps"]) == 3
    assert main(["plot", "--run_dir", str(run)]) == 0
    assert list((run / "test").glob("fields_*.png")) and (run / "test" / "multistep_nmse.png").is_file()
    capsys.readouterr()
    assert main(["info", str(root)]) == 0
    assert "| cavity | prop |" in capsys.readouterr().out


def test_task_mismatch(make_dataset):
    root = make_dataset("cavity", ("bc",), n=2, t=3)
    with pytest.raises(SystemExit, match="task"):
        main(["train", "--model", "fno", "--task", "nonauto", "--data", "cavity_bc", "--data_dir", str(root)])


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
