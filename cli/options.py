"""The global options: accepted before or after any subcommand, lifted out of argv before
Typer sees the rest (`scan_globals`), and held for the run in `GlobalOptions`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass
class GlobalOptions:
    """The options accepted before or after any subcommand (None: not given)."""

    output: str | None = None
    profile: str | None = None
    api_url: str | None = None
    timeout: float | None = None
    no_color: bool = False
    quiet: bool = False
    verbose: bool = False
    columns: list[str] | None = None
    token_file: str | None = None

    def merged(self, other: GlobalOptions) -> GlobalOptions:
        """`other`'s given values win over ours."""
        changes: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(other, f.name)
            if value not in (None, False):
                changes[f.name] = value
        return replace(self, **changes)


# --- lifting them out of argv ------------------------------------------------------------

_VALUE_OPTIONS = {
    "-o": "output",
    "--output": "output",
    "--profile": "profile",
    "--api-url": "api_url",
    "--timeout": "timeout",
    "--columns": "columns",
    "--token-file": "token_file",
}
_FLAG_OPTIONS = {
    "--no-color": "no_color",
    "-q": "quiet",
    "--quiet": "quiet",
    "-v": "verbose",
    "--verbose": "verbose",
}
_SHORT_FLAGS = {"q": "quiet", "v": "verbose"}


def scan_globals(argv: Sequence[str]) -> tuple[GlobalOptions, list[str]]:
    """Lift global options out of argv, wherever they are; stop at `--`.

    The names are reserved: no subcommand may define -o, -q, -v, --profile, ... itself.
    """
    from cli.config import FORMATS, check_profile_name

    opts = GlobalOptions()
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        name, eq, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if name in _VALUE_OPTIONS or (arg.startswith("-o") and len(arg) > 2 and arg[1] == "o"):
            if name in _VALUE_OPTIONS:
                field = _VALUE_OPTIONS[name]
                if eq:
                    value = inline
                elif i + 1 < len(argv):
                    i += 1
                    value = argv[i]
                else:
                    raise _needs_value(name)
            else:  # -ojson
                field, value = "output", arg[2:]
            _set_value(opts, field, name, value, FORMATS, check_profile_name)
        elif arg in _FLAG_OPTIONS:
            setattr(opts, _FLAG_OPTIONS[arg], True)
        elif (
            len(arg) > 2
            and arg[0] == "-"
            and arg[1] != "-"
            and all(ch in _SHORT_FLAGS for ch in arg[1:])
        ):  # -qv, -vv
            for ch in arg[1:]:
                setattr(opts, _SHORT_FLAGS[ch], True)
        else:
            rest.append(arg)
        i += 1
    return opts, rest


def _set_value(
    opts: GlobalOptions,
    field: str,
    name: str,
    value: str,
    formats: Sequence[str],
    check_profile: Callable[[str], str],
) -> None:
    from cli.errors import UsageError
    from cli.i18n import _

    if field == "output":
        if value not in formats:
            raise UsageError(
                _("invalid output format {value}").format(value=repr(value)),
                hint=_("choose one of {choices}").format(choices=", ".join(formats)),
            )
        opts.output = value
    elif field == "timeout":
        try:
            seconds = float(value)
        except ValueError:
            seconds = -1.0
        if not seconds > 0 or seconds == float("inf"):
            raise UsageError(
                _("invalid {option} {value}: expected seconds above 0").format(
                    option=name, value=repr(value)
                )
            )
        opts.timeout = seconds
    elif field == "columns":
        names = [c.strip() for c in value.split(",") if c.strip()]
        if not names:
            raise UsageError(_("{option} needs at least one column name").format(option=name))
        opts.columns = names
    elif field == "profile":
        opts.profile = check_profile(value)
    elif field == "api_url":
        from cli.config import parse_value

        opts.api_url = str(parse_value("api_url", value))
    else:
        if not value:
            raise _needs_value(name)
        setattr(opts, field, value)


def _needs_value(name: str) -> Exception:
    from cli.errors import UsageError
    from cli.i18n import _

    return UsageError(_("option {option} needs a value").format(option=name))
