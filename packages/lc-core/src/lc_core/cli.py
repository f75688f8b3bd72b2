"""One shape for every console script of the workspace: a lazy verb map, kebab flags, one error policy.

A package's ``cli.py`` is a table and a ``main``::

    from lc_core.cli import App, Command

    app = App(
        "infbench",
        "∞Bench: generate, run, score and report.",
        {
            "run": Command("infbench.commands.run:run", "infbench.commands.run:add_arguments", "run a model on tasks"),
            "score": Command("infbench.commands.score:score", "infbench.commands.score:add_arguments", "score predictions"),
        },
        epilog="quick start:\\n  infbench run --model lc-core/demo-mamba2 --tasks passkey",
    )

    def main(argv=None) -> int:
        return app.main(argv)

Nothing is registered by import side effect: ``--help`` imports no command module, and a verb imports only its
own module, so ``<prog> --help`` stays fast however heavy a verb's dependencies are.

The error policy (:meth:`App.main`): a user error -- bad data (:class:`~lc_core.io.DataError`), a config that fails
validation (``ValueError``), a missing file, an unreachable server, a missing extra, a bad flag -- prints one line
``<prog>: error: <message>`` and exits 2; ``--debug`` (or ``LC_LOG_LEVEL=DEBUG``) shows the traceback instead.
Anything else is a bug and keeps its traceback (exit 1).

Flags are kebab-case. :func:`config_from_args` builds a dataclass config from the parsed namespace (argparse turns
``--data-dir`` into ``data_dir``), and :func:`add_legacy_aliases` keeps old snake_case spellings working for a
release without showing them in ``--help``.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import logging
import sys
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = [
    "App",
    "Command",
    "UserError",
    "config_from_args",
    "add_config_arguments",
    "add_legacy_aliases",
    "parse_key_values",
    "coerce_scalar",
    "is_user_error",
    "run_single",
    "build_parser",
    "app",
    "main",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

USER_ERROR_EXIT = 2


class UserError(Exception):
    """A problem the user can fix (a bad flag combination, a missing prerequisite): one line, exit 2."""


@dataclass(frozen=True)
class Command:
    """One verb: where its function and its argument builder live, as lazy ``"module:function"`` strings.

    Args:
        run: ``"module:function"``; ``function(args: argparse.Namespace) -> int | None``.
        arguments: ``"module:function"``; ``function(parser: argparse.ArgumentParser) -> None`` (None: no flags).
        help: one line for the verb list.
        description: longer text for ``<prog> <verb> --help`` (default: ``help``).
        aliases: other names for the verb.
    """

    run: str
    arguments: str | None = None
    help: str = ""
    description: str | None = None
    aliases: tuple[str, ...] = ()


def _resolve(target: str) -> Any:
    module, _, name = target.partition(":")
    if not name:
        raise ValueError(f"expected 'module:function', got {target!r}")
    obj: Any = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps epilogs as written and shows defaults where a flag has one."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "%(default)" in text or action.default in (None, False, argparse.SUPPRESS) or not action.option_strings:
            return text
        if isinstance(action.default, list | tuple) and not action.default:
            return text
        return text + " (default: %(default)s)"


class _StoreBool(argparse.Action):
    """A hidden alias of one spelling of a ``BooleanOptionalAction`` flag."""

    def __init__(self, option_strings: list[str], dest: str, *, value: bool):
        super().__init__(option_strings, dest, nargs=0, help=argparse.SUPPRESS)
        self.value = value

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option_string: Any = None):
        setattr(namespace, self.dest, self.value)


def add_legacy_aliases(parser: argparse.ArgumentParser, aliases: Mapping[str, str] | None = None) -> dict[str, str]:
    """Accept old spellings of flags without listing them in ``--help``.

    Args:
        parser: a parser whose flags are already added.
        aliases: old -> current option string. Default: the snake_case spelling of every kebab flag
            (``--data_dir`` for ``--data-dir``), the usual case when a package moves to kebab flags.

    Returns:
        The aliases registered. :meth:`App.main` logs a deprecation warning when one is used.
    """
    table = parser._option_string_actions
    if aliases is None:
        aliases = {}
        for opt in list(table):
            if opt.startswith("--") and "-" in opt[2:]:
                aliases["--" + opt[2:].replace("-", "_")] = opt
    registered: dict[str, str] = {}
    for old, new in aliases.items():
        if new not in table:
            raise ValueError(f"{parser.prog}: cannot alias {old} to unknown flag {new}")
        if old in table:
            continue
        action = table[new]
        if isinstance(action, argparse.BooleanOptionalAction):
            # it acts only on its own option strings (an alias would set nothing): give the alias a twin that
            # stores what the aliased spelling means
            action = _StoreBool([old], action.dest, value=not new.startswith("--no-"))
        # argparse matches option strings through this table; the action's own option_strings (what --help
        # prints) stay as they are, so the old spelling works but is never advertised
        table[old] = action
        registered[old] = new
    legacy = getattr(parser, "_lc_legacy_aliases", {})
    legacy.update(registered)
    parser._lc_legacy_aliases = legacy  # type: ignore[attr-defined]
    return registered


def _warn_legacy(parser: argparse.ArgumentParser, argv: Sequence[str]) -> None:
    legacy: dict[str, str] = getattr(parser, "_lc_legacy_aliases", {})
    for token in argv:
        if token == "--":
            break
        flag = token.split("=", 1)[0]
        if flag in legacy:
            logger.warning("%s is deprecated and will be removed in the next release; use %s", flag, legacy[flag])


def is_user_error(exc: BaseException) -> bool:
    """Whether ``exc`` is something the user can fix (printed as one line) rather than a bug (traceback).

    User errors: :class:`UserError`, :class:`~lc_core.io.DataError` and other ``ValueError`` (config
    validation), missing/unreadable files, ``UnicodeDecodeError`` (named by loaders), connection and timeout
    errors (also the ``openai`` / ``httpx`` / ``requests`` ones, and lc-core's ``APIRequestError`` that reports a
    request still failing after retries), ``ImportError`` naming an extra to install,
    and ``KeyError`` raised for an unknown name (a task, a preset).
    """
    if isinstance(exc, UserError | ValueError | FileNotFoundError | IsADirectoryError | NotADirectoryError):
        return True
    if isinstance(exc, PermissionError | FileExistsError | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, ImportError) and ("pip install" in str(exc) or "extra" in str(exc)):
        return True
    if isinstance(exc, KeyError) and "unknown" in str(exc):
        return True
    # client libraries' connection/API errors, matched by name so importing this module imports none of them
    for cls in type(exc).__mro__:
        mod = cls.__module__.split(".")[0]
        if mod in {"openai", "httpx", "httpcore", "requests", "urllib3"} and (
            "Connection" in cls.__name__ or "Timeout" in cls.__name__ or cls.__name__ in {"APIError", "APIStatusError"}
        ):
            return True
        if mod == "lc_core" and cls.__name__ == "APIRequestError":
            return True
    return False


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, KeyError) and exc.args:
        text = str(exc.args[0])
    elif isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        text = f"{exc.filename}: {exc.strerror}"
    else:
        text = str(exc) or type(exc).__name__
    # a multi-line message is kept (it was written to be read), a traceback is not
    return text.strip()


@dataclass
class App:
    """A console script: a program name, a description, and its verbs.

    Args:
        prog: the program name (the console script).
        description: one paragraph for ``--help``.
        commands: verb -> :class:`Command`, in the order ``--help`` lists them.
        epilog: the quick-start block printed under ``--help``.
        version: shown by ``--version``.
        legacy_snake_flags: accept ``--snake_case`` spellings of every kebab flag (hidden, with a warning).
        missing_input_example: an argv that reads an input path, with ``{missing}`` where the path goes
            (``["score", "{missing}"]``). The workspace's convention test runs it with a path that does not exist
            and expects one error line naming it and exit code 2, so every console script is held to the policy.
    """

    prog: str
    description: str
    commands: Mapping[str, Command]
    epilog: str = ""
    version: str | None = None
    legacy_snake_flags: bool = False
    missing_input_example: Sequence[str] = ()
    _aliases: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for name, cmd in self.commands.items():
            for alias in cmd.aliases:
                self._aliases[alias] = name

    def _base_parser(self) -> tuple[argparse.ArgumentParser, Any]:
        parser = argparse.ArgumentParser(
            prog=self.prog, description=self.description, epilog=self.epilog, formatter_class=_Formatter
        )
        parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs (also LC_LOG_LEVEL=DEBUG)")
        if self.version is not None:
            parser.add_argument("--version", action="version", version=f"{self.prog} {self.version}")
        sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
        return parser, sub

    def _chosen(self, argv: Sequence[str]) -> str | None:
        for token in argv:
            if token == "--":
                return None
            if not token.startswith("-"):
                return self._aliases.get(token, token)
        return None

    def build_parser(self, argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
        """The parser; only the verb named in ``argv`` (if any) gets its flags, so only its module is imported.

        With ``argv=None`` every verb's flags are added (for documentation and tests).
        """
        parser, sub = self._base_parser()
        chosen = None if argv is None else self._chosen(argv)
        for name, cmd in self.commands.items():
            p = sub.add_parser(
                name,
                help=cmd.help,
                description=cmd.description or cmd.help,
                aliases=list(cmd.aliases),
                formatter_class=_Formatter,
            )
            p.set_defaults(_lc_command=name)
            # --debug is accepted after the verb too
            p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
            if cmd.arguments is not None and (argv is None or chosen == name):
                _resolve(cmd.arguments)(p)
                if self.legacy_snake_flags:
                    add_legacy_aliases(p)
            if chosen == name and argv is not None:
                parser._lc_chosen = p  # type: ignore[attr-defined]
        return parser

    def main(self, argv: Sequence[str] | None = None) -> int:
        """Parse ``argv`` (default ``sys.argv[1:]``), run the verb, apply the error policy; returns the exit code."""
        argv = list(sys.argv[1:] if argv is None else argv)
        debug = _start(argv)
        try:
            parser = self.build_parser(argv)
        except ImportError as e:
            # a verb whose module needs an extra: say which, do not dump a traceback
            if debug:
                raise
            print(f"{self.prog}: error: {e}", file=sys.stderr)
            return USER_ERROR_EXIT
        chosen = getattr(parser, "_lc_chosen", None)
        if chosen is not None:
            _warn_legacy(chosen, argv)
        args = parser.parse_args(argv)
        return _guarded(self.prog, self.commands[args._lc_command].run, args, debug)


def _start(argv: Sequence[str]) -> bool:
    """Configure logging for a console script; returns whether ``--debug`` (or ``LC_LOG_LEVEL=DEBUG``) is on."""
    from lc_core import env
    from lc_core.logging import setup_logging

    head = list(argv[: list(argv).index("--")]) if "--" in argv else list(argv)
    debug = "--debug" in head or env.log_level() == "DEBUG"
    setup_logging("DEBUG" if debug else None)
    return debug


def _guarded(prog: str, run: str | Callable[[argparse.Namespace], int | None], args: argparse.Namespace, debug: bool) -> int:
    try:
        func = _resolve(run) if isinstance(run, str) else run
        return int(func(args) or 0)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except SystemExit:
        raise
    except Exception as e:
        if debug or not is_user_error(e):
            raise
        print(f"{prog}: error: {_one_line(e)}", file=sys.stderr)
        print(f"{prog}: (run with --debug for the traceback)", file=sys.stderr)
        return USER_ERROR_EXIT


def run_single(
    prog: str,
    description: str,
    arguments: Callable[[argparse.ArgumentParser], None],
    run: Callable[[argparse.Namespace], int | None],
    argv: Sequence[str] | None = None,
    *,
    epilog: str = "",
) -> int:
    """A verb-less console entry (``python -m lc_core.train``) under the same flags, logging and error policy."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = _start(argv)
    parser = argparse.ArgumentParser(prog=prog, description=description, epilog=epilog, formatter_class=_Formatter)
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs (also LC_LOG_LEVEL=DEBUG)")
    arguments(parser)
    return _guarded(prog, run, parser.parse_args(argv), debug)


# ---- dataclass configs from flags ----------------------------------------------------------------------------


def _field_types(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls)
    except Exception:  # forward references a caller cannot resolve: fall back to the raw annotations
        return {f.name: f.type for f in dataclasses.fields(cls)}


def config_from_args(cls: type[T], args: argparse.Namespace | Mapping[str, Any], /, **overrides: Any) -> T:
    """Build the dataclass ``cls`` from parsed flags: every field whose name is in ``args`` is taken from it.

    Flags the config does not have are ignored (they belong to the command), fields without a flag keep their
    default, and ``overrides`` win over both (for values computed by the command). A ``None`` from a flag whose
    default is ``None`` leaves the field at its own default, so a dataclass default is never masked by an
    unset optional flag.

    Raises:
        TypeError: ``cls`` is not a dataclass.
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    values = vars(args) if isinstance(args, argparse.Namespace) else dict(args)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        if f.name in overrides:
            kwargs[f.name] = overrides[f.name]
        elif f.name in values and values[f.name] is not None:
            kwargs[f.name] = values[f.name]
    unknown = set(overrides) - {f.name for f in dataclasses.fields(cls)}
    if unknown:
        raise TypeError(f"{cls.__name__} has no field(s) {', '.join(sorted(unknown))}")
    return cls(**kwargs)


def _docstring_args(cls: type) -> dict[str, str]:
    """``Args:`` entries of a Google-style class docstring: name -> first sentence-ish text."""
    doc = cls.__doc__ or ""
    out: dict[str, str] = {}
    in_args = False
    current = None
    for line in doc.splitlines():
        stripped = line.strip()
        if stripped in ("Args:", "Attributes:"):
            in_args = True
            continue
        if in_args:
            if stripped.endswith(":") and " " not in stripped:
                in_args = False
                continue
            if ":" in stripped and stripped.split(":", 1)[0].isidentifier():
                current, text = stripped.split(":", 1)
                out[current] = text.strip()
            elif stripped and current:
                out[current] += " " + stripped
            elif not stripped and current:
                current = None
    return out


def add_config_arguments(
    parser: argparse.ArgumentParser | Any,
    cls: type,
    *,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
    help: Mapping[str, str] | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> None:
    """Add one kebab-case flag per field of the dataclass ``cls`` (help from its ``Args:`` docstring).

    Supported field types: ``bool`` (``--x`` / ``--no-x``), ``int``, ``float``, ``str``, their ``Optional``
    forms, ``Literal[...]`` (choices) and ``list``/``tuple`` of scalars (comma-separated). Other fields are
    skipped; add those by hand.
    """
    types_ = _field_types(cls)
    docs = _docstring_args(cls)
    help = dict(help or {})
    defaults = dict(defaults or {})
    wanted = None if include is None else set(include)
    skip = set(exclude)
    for f in dataclasses.fields(cls):
        if not f.init or f.name in skip or (wanted is not None and f.name not in wanted):
            continue
        tp = types_.get(f.name, f.type)
        flag = "--" + f.name.replace("_", "-")
        text = help.get(f.name, docs.get(f.name, ""))
        if f.name in defaults:
            default = defaults[f.name]
        elif f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = dataclasses.MISSING
        kind, inner = _classify(tp)
        kw: dict[str, Any] = {"dest": f.name, "help": text}
        if default is dataclasses.MISSING:
            kw["required"] = True
        else:
            kw["default"] = default
        if kind == "bool":
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, **kw)
        elif kind == "scalar":
            parser.add_argument(flag, type=inner, **kw)
        elif kind == "literal":
            parser.add_argument(flag, choices=list(inner), type=type(inner[0]), **kw)
        elif kind == "list":
            kw["type"] = _comma_list(inner)
            if isinstance(kw.get("default"), list | tuple):
                kw["default"] = list(kw["default"])
            parser.add_argument(flag, metavar="A,B,...", **kw)


def _classify(tp: Any) -> tuple[str, Any]:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) != 1:
            return "skip", None
        tp = rest[0]
        origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is bool:
        return "bool", bool
    if tp in (int, float, str):
        return "scalar", tp
    if origin is typing.Literal:
        return "literal", args
    if origin in (list, tuple, Sequence) and args and args[0] in (int, float, str):
        return "list", args[0]
    return "skip", None


def _comma_list(item: type) -> Callable[[str], list[Any]]:
    def parse(text: str) -> list[Any]:
        return [item(x.strip()) for x in text.split(",") if x.strip()]

    parse.__name__ = f"list of {item.__name__}"
    return parse


def coerce_scalar(value: str) -> Any:
    """``"3"`` -> 3, ``"0.5"`` -> 0.5, ``"true"`` -> True, ``"none"`` -> None, else the string."""
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    low = value.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    return value


def parse_key_values(items: Iterable[str], *, flag: str, coerce: bool = True) -> dict[str, Any]:
    """``["a=1", "b=x"]`` -> ``{"a": 1, "b": "x"}`` for repeatable ``--flag KEY=VALUE`` options.

    Raises:
        UserError: an item without ``=``, naming ``flag``.
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"{flag} must look like KEY=VALUE, got {item!r}")
        out[key.strip()] = coerce_scalar(value) if coerce else value
    return out


# ---- the lc-core console script --------------------------------------------------------------------------------


def _info(args: argparse.Namespace) -> int:
    import json

    from lc_core import env
    from lc_core.report import package_versions

    info: dict[str, object] = {"versions": package_versions(), "triton_interpret": env.triton_interpret()}
    try:
        import torch

        info["cuda"] = torch.cuda.is_available()
        info["devices"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except ImportError:
        info["cuda"] = None
    print(json.dumps(info, indent=2))
    return 0


def _version() -> str:
    from lc_core import __version__

    return __version__


app = App(
    prog="lc-core",
    description="Shared core of the lc monorepo: environment info, a local OpenAI-compatible server, the trainer.",
    commands={
        "info": Command("lc_core.cli:_info", None, "print versions, devices and kernel settings"),
        "serve": Command(
            "lc_core.inference.serve.cli:run_command",
            "lc_core.inference.serve.cli:add_arguments",
            "serve a local model on an OpenAI-compatible HTTP API",
        ),
        "train": Command(
            "lc_core.train.cli:run",
            "lc_core.train.cli:add_arguments",
            "train a causal LM from a JSON run config (also under torchrun)",
        ),
    },
    epilog="quick start:\n  lc-core info\n  lc-core serve --model lc-core/demo-mamba2 --port 8000\n"
    "  lc-core train --config run.json --out-dir runs/demo",
    version=_version(),
    missing_input_example=("train", "--config", "{missing}"),
)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The ``lc-core`` parser (every verb's flags when ``argv`` is None)."""
    return app.build_parser(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lc-core`` console script."""
    return app.main(argv)


if __name__ == "__main__":
    sys.exit(main())
