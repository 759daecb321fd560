#!/usr/bin/env python3
"""Generate the command reference and the man page from the Typer app itself.

    python scripts/gen_docs.py            # rewrite what changed
    python scripts/gen_docs.py --check    # exit 1 listing stale files (tests/unit/test_docs.py)

Writes
- docs/commands/README.md: usage, global options, the list of commands;
- docs/commands/<command>.md: one page per top-level command (usage, arguments, options,
  and each subcommand the same way);
- cli/data/moncompte.1: the man page (roff), shipped in the wheel. Its EXIT STATUS,
  ENVIRONMENT and FILES sections are README.md's "Exit codes", "Environment variables"
  and "Files" tables, so those stay written once;
- cli/data/completions/: the completion scripts of completions/, shipped in the wheel.

Everything comes from the help the app prints (docstrings, `help=` of options), in
English, at a fixed width, so the output does not depend on the terminal or the locale.
The walk uses only Typer's public API (`typer.main.get_command`, `typer.Context`) and the
command objects it returns.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from a clone
    sys.path.insert(0, str(ROOT))

DOCS = ROOT / "docs" / "commands"
MAN = ROOT / "cli" / "data" / "moncompte.1"
SHIPPED_COMPLETIONS = ROOT / "cli" / "data" / "completions"
README = ROOT / "README.md"
WIDTH = 100
REGENERATE = "python scripts/gen_docs.py"
# Typer's own completion flags: `moncompte completion install` is the documented way.
SKIPPED_OPTIONS = frozenset({"help", "install_completion", "show_completion"})


@dataclass
class Param:
    kind: str  # "argument" or "option"
    name: str  # as --help shows it: "--since YYYY-MM-DD", "ID <str>"
    help: str


@dataclass
class Command:
    path: list[str]
    usage: str
    help: str
    short: str
    params: list[Param] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)

    @property
    def name(self) -> str:
        return " ".join(self.path)


# --- the app as data --------------------------------------------------------------------------


def load_app() -> Command:
    """The whole command tree, every command module imported, in English."""
    import typer
    import typer.main

    from cli import i18n
    from cli.app import PROG, build_app

    i18n.activate("en")
    root = typer.main.get_command(build_app())
    ctx = typer.Context(root, info_name=PROG, terminal_width=WIDTH, max_content_width=WIDTH)
    return _walk(root, ctx, [PROG])


def _walk(command: Any, ctx: Any, path: list[str]) -> Command:
    import typer

    params = []
    for param in command.get_params(ctx):
        if param.name in SKIPPED_OPTIONS or getattr(param, "hidden", False):
            continue
        record = param.get_help_record(ctx)
        if record is None:
            continue
        kind = "argument" if param.param_type_name == "argument" else "option"
        params.append(Param(kind, record[0], _oneline(record[1])))
    usage = command.get_usage(ctx).removeprefix("Usage:").strip()
    node = Command(
        path=path,
        usage=" ".join(usage.split()),
        help=_clean(command.help or ""),
        short=_oneline(command.get_short_help_str(limit=200)),
        params=params,
    )
    for name, sub in (getattr(command, "commands", None) or {}).items():
        if getattr(sub, "hidden", False):
            continue
        sub_ctx = typer.Context(sub, info_name=name, parent=ctx, terminal_width=WIDTH)
        node.commands.append(_walk(sub, sub_ctx, [*path, name]))
    return node


def _clean(text: str) -> str:
    """Docstring paragraphs, each on one line (Click's \\b no-rewrap markers dropped)."""
    paragraphs = re.split(r"\n\s*\n", text.replace("\b", "").strip())
    return "\n\n".join(_oneline(p) for p in paragraphs if p.strip())


def _oneline(text: str) -> str:
    return " ".join(text.split())


# --- markdown -------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _code_cell(text: str) -> str:
    return f"`{_cell(text)}`"


def _anchor(command: Command) -> str:
    return "-".join(command.path).lower()


def _params_md(command: Command) -> list[str]:
    lines: list[str] = []
    for kind, title in (("argument", "Arguments"), ("option", "Options")):
        rows = [p for p in command.params if p.kind == kind]
        if not rows:
            continue
        lines += ["", f"**{title}**", "", f"| {kind} | description |", "| --- | --- |"]
        lines += [f"| {_code_cell(p.name)} | {_cell(p.help)} |" for p in rows]
    return lines


def _command_md(command: Command, level: int) -> list[str]:
    lines = ["#" * level + f" `{command.name}`", "", command.help, "", "```", command.usage, "```"]
    lines += _params_md(command)
    if command.commands:
        lines += ["", "**Commands**", "", "| command | description |", "| --- | --- |"]
        lines += [
            f"| [`{sub.path[-1]}`](#{_anchor(sub)}) | {_cell(sub.short)} |"
            for sub in command.commands
        ]
        for sub in command.commands:
            lines += ["", *_command_md(sub, level + 1)]
    return lines


def _banner(what: str) -> str:
    return (
        f"<!-- Generated from the app by scripts/gen_docs.py: do not edit. Change {what}, "
        f"then run `{REGENERATE}`. -->"
    )


def command_page(command: Command) -> str:
    lines = [_banner("the command's docstrings and help= texts"), ""]
    lines += _command_md(command, 1)
    lines += [
        "",
        "---",
        "",
        "Global options (`-o/--output`, `--profile`, `--api-url`, `--timeout`, `--columns`, "
        "`--token-file`, `--no-color`, `-q`, `-v`) are accepted before or after the command: "
        "see [the command index](README.md#global-options). "
        "Exit codes: [README](../../README.md#exit-codes).",
    ]
    return "\n".join(lines) + "\n"


def index_page(root: Command) -> str:
    lines = [_banner("cli/app.py or the commands' help"), "", "# Command reference", ""]
    lines += [root.help, "", "```", root.usage, "```", "", "## Global options", ""]
    lines += [
        "Accepted before or after the command (`moncompte -o json invoices` and "
        "`moncompte invoices -o json` are the same).",
        "",
        "| option | description |",
        "| --- | --- |",
    ]
    lines += [f"| {_code_cell(p.name)} | {_cell(p.help)} |" for p in root.params]
    lines += ["", "## Commands", "", "| command | description |", "| --- | --- |"]
    lines += [f"| [`{c.path[-1]}`]({c.path[-1]}.md) | {_cell(c.short)} |" for c in root.commands]
    lines += [
        "",
        "Each page is generated from the command's own `--help`; "
        "`moncompte COMMAND --help` prints the same on a terminal.",
    ]
    return "\n".join(lines) + "\n"


# --- README tables ------------------------------------------------------------------------------


def readme_table(text: str, heading: str) -> list[list[str]]:
    """The rows (header excluded) of the first table under `## heading` in README.md."""
    match = re.search(rf"^## {re.escape(heading)}\s*$", text, re.MULTILINE)
    if match is None:
        raise SystemExit(f"README.md has no '## {heading}' section (the man page needs it)")
    rows: list[list[str]] = []
    started = False
    for line in text[match.end() :].splitlines():
        if line.startswith("## "):
            break
        if line.startswith("|"):
            started = True
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if all(set(c) <= set("-: ") for c in cells):
                continue
            rows.append([c.replace("\\|", "|") for c in cells])
        elif started:
            break
    if not rows:
        raise SystemExit(f"README.md's '## {heading}' section has no table")
    return rows[1:]


# --- roff -----------------------------------------------------------------------------------


def _roff(text: str) -> str:
    """Plain text for roff: backslashes escaped, `code` in bold with real minus signs,
    markdown links reduced to their text, no line starting with a control character."""
    text = text.replace("\\", "\\e")
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"\1", text)
    text = re.sub(r"`([^`]+)`", lambda m: r"\fB" + m.group(1).replace("-", r"\-") + r"\fR", text)
    return "\n".join(
        ("\\&" + line) if line.startswith((".", "'")) else line for line in text.split("\n")
    )


def _option_head(name: str) -> str:
    """`-o, --output FORMAT` -> bold names, italic metavar."""
    names: list[str] = []
    rest: list[str] = []
    for token in name.split(" "):
        if not rest and token.startswith("-"):
            names.append(token)
        else:
            rest.append(token)
    head = r"\fB" + " ".join(names).replace("-", r"\-") + r"\fR"
    if rest:
        head += r" \fI" + " ".join(rest).replace("\\", "\\e").replace("-", r"\-") + r"\fR"
    return head


def _argument_head(name: str) -> str:
    return r"\fI" + name.replace("\\", "\\e").replace("-", r"\-") + r"\fR"


def _paragraphs(text: str) -> list[str]:
    out: list[str] = []
    for n, paragraph in enumerate(text.split("\n\n")):
        if n:
            out.append(".PP")
        out.append(_roff(paragraph))
    return out


def _params_roff(params: Iterable[Param]) -> list[str]:
    lines: list[str] = []
    for p in params:
        head = _option_head(p.name) if p.kind == "option" else _argument_head(p.name)
        lines += [".TP", head, _roff(p.help) or "\\&"]
    return lines


def _commands_roff(command: Command) -> list[str]:
    lines: list[str] = []
    for sub in command.commands:
        lines += [f'.SS "{_roff(sub.usage)}"', *_paragraphs(sub.help)]
        params = [p for p in sub.params]
        if params:
            lines += _params_roff(params)
        lines += _commands_roff(sub)
    return lines


def man_page(root: Command, readme: str, version: str) -> str:
    lines = [
        '.\\" Generated from the app by scripts/gen_docs.py: do not edit.',
        f'.TH MONCOMPTE 1 "" "moncompte {version}" "User Commands"',
        ".SH NAME",
        "moncompte \\- manage a subscription account from the terminal",
        ".SH SYNOPSIS",
        ".B moncompte",
        "[\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]...",
        ".SH DESCRIPTION",
        *_paragraphs(root.help),
        ".SH GLOBAL OPTIONS",
        "Accepted before or after the command.",
        *_params_roff(root.params),
        ".SH COMMANDS",
        *_commands_roff(root),
        ".SH EXIT STATUS",
    ]
    for code, meaning in readme_table(readme, "Exit codes"):
        lines += [".TP", f".B {code}", _roff(meaning)]
    lines.append(".SH ENVIRONMENT")
    for name, meaning in readme_table(readme, "Environment variables"):
        lines += [".TP", _roff(name), _roff(meaning)]
    lines.append(".SH FILES")
    for what, where in readme_table(readme, "Files"):
        lines += [".TP", _roff(where), _roff(what)]
    lines += [
        ".SH SEE ALSO",
        "\\fBmoncompte COMMAND \\-\\-help\\fR; the guides in docs/ of the source "
        "distribution (support staff, CI, the reference server); \\fBbash\\fR(1), "
        "\\fBzsh\\fR(1), \\fBfish\\fR(1) for completion.",
    ]
    return "\n".join(lines) + "\n"


# --- outputs --------------------------------------------------------------------------------------


def outputs() -> dict[Path, str]:
    """Every generated file and its expected content."""
    from cli import __version__
    from commands.completion.scripts import FILES, script

    root = load_app()
    files: dict[Path, str] = {DOCS / "README.md": index_page(root)}
    for command in root.commands:
        files[DOCS / f"{command.path[-1]}.md"] = command_page(command)
    files[MAN] = man_page(root, README.read_text(encoding="utf-8"), __version__)
    for shell, name in FILES.items():
        files[SHIPPED_COMPLETIONS / name] = script(shell)
    return files


def stale(files: dict[Path, str]) -> list[Path]:
    """Generated files that differ from what is on disk, and pages of removed commands."""
    out = [p for p, text in files.items() if not p.exists() or p.read_text("utf-8") != text]
    out += [p for p in sorted(DOCS.glob("*.md")) if p not in files]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 if anything is stale")
    args = parser.parse_args(argv)
    files = outputs()
    outdated = stale(files)
    if args.check:
        for path in outdated:
            print(f"stale: {path.relative_to(ROOT)}", file=sys.stderr)
        if outdated:
            print(f"regenerate with: {REGENERATE}", file=sys.stderr)
        return 1 if outdated else 0
    for path in outdated:
        if path not in files:
            path.unlink()
            print(f"removed {path.relative_to(ROOT)}")
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[path], encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
