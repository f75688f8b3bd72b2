"""Tests for lc_core.cli: lazy verbs, kebab flags, config_from_args, legacy aliases, the error policy."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import subprocess
import sys
import textwrap
from typing import Literal

import pytest

from lc_core.cli import (
    App,
    Command,
    UserError,
    add_config_arguments,
    add_legacy_aliases,
    config_from_args,
    is_user_error,
    parse_key_values,
)
from lc_core.inference.openai_api import APIRequestError
from lc_core.io import DataError


@pytest.fixture
def verbs(tmp_path, monkeypatch):
    """A throw-away module with verbs, importable by name, that records whether it was imported."""
    mod = tmp_path / "lc_test_verbs.py"
    mod.write_text(
        textwrap.dedent(
            """
            import sys
            from lc_core.io import DataError
            IMPORTED = True

            def add(p):
                p.add_argument("--data-dir", default="data", help="where the data is")
                p.add_argument("--max-new-tokens", type=int, default=4, help="budget")

            def run(args):
                print(f"data_dir={args.data_dir} max_new_tokens={args.max_new_tokens}")
                return 0

            def bad_data(args):
                raise DataError("expected int, got str", path="rows.jsonl", line=3, field="id")

            def missing(args):
                open("/definitely/not/here.json")

            def bug(args):
                return 1 / 0
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("lc_test_verbs", None)
    yield "lc_test_verbs"
    sys.modules.pop("lc_test_verbs", None)


def _app(verbs: str, **kw) -> App:
    return App(
        "demo",
        "a demo",
        {
            "run": Command(f"{verbs}:run", f"{verbs}:add", "run it", aliases=("go",)),
            "bad": Command(f"{verbs}:bad_data", None, "bad data"),
            "missing": Command(f"{verbs}:missing", None, "missing file"),
            "bug": Command(f"{verbs}:bug", None, "a bug"),
        },
        epilog="quick start:\n  demo run",
        **kw,
    )


def test_help_imports_no_verb_module(verbs, capsys):
    with pytest.raises(SystemExit) as e:
        _app(verbs).main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "run it" in out and "quick start" in out
    assert verbs not in sys.modules


def test_verb_runs_with_kebab_flags_and_alias(verbs, capsys):
    assert _app(verbs).main(["go", "--data-dir", "x", "--max-new-tokens", "7"]) == 0
    assert "data_dir=x max_new_tokens=7" in capsys.readouterr().out


@pytest.mark.parametrize(
    "verb,needle",
    [("bad", "rows.jsonl:3: field 'id': expected int"), ("missing", "/definitely/not/here.json: No such file")],
    ids=["data-error", "missing-file"],
)
def test_user_error_is_one_line_and_rc2(verbs, capsys, verb, needle):
    assert _app(verbs).main([verb]) == 2
    err = capsys.readouterr().err
    assert needle in err
    assert "Traceback" not in err


def test_debug_shows_the_traceback(verbs):
    with pytest.raises(DataError):
        _app(verbs).main(["--debug", "bad"])
    with pytest.raises(DataError):
        _app(verbs).main(["bad", "--debug"])


def test_a_bug_keeps_its_traceback(verbs):
    with pytest.raises(ZeroDivisionError):
        _app(verbs).main(["bug"])


def test_bad_flag_exits_2(verbs, capsys):
    with pytest.raises(SystemExit) as e:
        _app(verbs).main(["run", "--no-such-flag"])
    assert e.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_legacy_snake_flags_work_hidden_and_warn(verbs, capsys, caplog):
    app = _app(verbs, legacy_snake_flags=True)
    with caplog.at_level(logging.WARNING):
        assert app.main(["run", "--data_dir", "old"]) == 0
    assert "data_dir=old" in capsys.readouterr().out
    assert any("--data_dir is deprecated" in r.getMessage() for r in caplog.records)
    with pytest.raises(SystemExit):
        app.main(["run", "--help"])
    help_text = capsys.readouterr().out
    assert "--data-dir" in help_text and "--data_dir" not in help_text


def test_add_legacy_aliases_rejects_unknown_target():
    p = argparse.ArgumentParser()
    p.add_argument("--data-dir")
    with pytest.raises(ValueError, match="unknown flag --nope"):
        add_legacy_aliases(p, {"--old": "--nope"})
    assert add_legacy_aliases(p) == {"--data_dir": "--data-dir"}
    assert p.parse_args(["--data_dir", "d"]).data_dir == "d"


def test_legacy_aliases_of_boolean_optional_flags():
    # BooleanOptionalAction acts only on its own spellings: a plain alias of --no-use-cache used to set nothing
    p = argparse.ArgumentParser()
    p.add_argument("--use-cache", action=argparse.BooleanOptionalAction, default=True)
    assert add_legacy_aliases(p) == {"--use_cache": "--use-cache", "--no_use_cache": "--no-use-cache"}
    assert p.parse_args(["--no_use_cache"]).use_cache is False
    assert p.parse_args(["--no_use_cache", "--use_cache"]).use_cache is True
    assert p.parse_args([]).use_cache is True
    assert "--no_use_cache" not in p.format_help()


@dataclasses.dataclass(kw_only=True)
class _Cfg:
    """A config.

    Args:
        data_dir: where the data is.
        steps: how many steps.
        lr: learning rate.
        mode: fixed or legacy.
        tasks: which tasks.
        plot: draw figures.
        note: free text.
    """

    data_dir: str
    steps: int = 10
    lr: float = 1e-3
    mode: Literal["fixed", "legacy"] = "fixed"
    tasks: list[str] = dataclasses.field(default_factory=lambda: ["a"])
    plot: bool = True
    note: str | None = None


def test_config_arguments_round_trip():
    p = argparse.ArgumentParser()
    add_config_arguments(p, _Cfg)
    args = p.parse_args(["--data-dir", "d", "--steps", "3", "--mode", "legacy", "--tasks", "x,y", "--no-plot"])
    cfg = config_from_args(_Cfg, args)
    assert cfg == _Cfg(data_dir="d", steps=3, mode="legacy", tasks=["x", "y"], plot=False)
    assert "where the data is" in p.format_help()
    with pytest.raises(SystemExit):
        p.parse_args(["--data-dir", "d", "--mode", "other"])


def test_config_from_args_ignores_other_flags_and_unset_optionals():
    ns = argparse.Namespace(data_dir="d", steps=None, unrelated=1, func=print)
    assert config_from_args(_Cfg, ns) == _Cfg(data_dir="d")
    assert config_from_args(_Cfg, ns, steps=5).steps == 5
    with pytest.raises(TypeError, match="no field"):
        config_from_args(_Cfg, ns, nope=1)


def test_parse_key_values():
    assert parse_key_values(["a=1", "b=x", "c=0.5", "d=true", "e=a=b"], flag="--x") == {
        "a": 1,
        "b": "x",
        "c": 0.5,
        "d": True,
        "e": "a=b",
    }
    with pytest.raises(UserError, match="--backend-arg must look like KEY=VALUE"):
        parse_key_values(["novalue"], flag="--backend-arg")


def test_user_error_classification():
    assert is_user_error(DataError("x"))
    assert is_user_error(FileNotFoundError("x"))
    assert is_user_error(ConnectionRefusedError())
    assert is_user_error(ImportError("plotting needs matplotlib: pip install 'x[plot]'"))
    assert is_user_error(KeyError("unknown task 'x'"))
    # an OpenAI-compatible server that stays unreachable after the retries (wrapped by the openai backend)
    assert is_user_error(APIRequestError("chat request for prompt 0 to model 'm' at http://127.0.0.1:9/v1 failed"))
    assert not is_user_error(ZeroDivisionError())
    assert not is_user_error(KeyError("x"))
    assert not is_user_error(AttributeError("x"))


def test_lc_core_script_help_is_fast_and_torch_free():
    code = "import sys, lc_core.cli as c; c.build_parser(['info']); assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_lc_core_info_runs(capsys):
    from lc_core.cli import main

    assert main(["info"]) == 0
    assert "lc-core" in json.loads(capsys.readouterr().out)["versions"]
