"""Typer's texts in the user's language: help screens and usage errors.

Typer 0.28 runs on a copy of Click of its own whose texts ("Usage: ", "Show this message
and exit.", "No such option: --x", "'x' is not a valid int range.") are plain English
literals, with no gettext call to hook into; Typer's own few texts ("Options", "[default:
…]", "No such command") do call `gettext.gettext`, which `i18n.translate_libraries` covers.

So the copied Click's texts are translated where they come out, through public seams:
- help screens: each command of the run's tree gets a `context_class` whose
  `formatter_class` writes the usage prefix, the headings and the definition lists
  (where "Show this message and exit." sits) through the catalogue;
- usage errors: `error_message()` recognises the message of a Click exception by the
  English TEMPLATES below (the ones the copied Click writes, placeholders for the values)
  and gives its translation with the same values.

The TEMPLATES are marked with `N_` so that scripts/i18n.py puts them in the catalogue; a
text that matches none (a new Typer release) stays in English, and the tests under a
French locale (tests/unit/test_i18n_help.py) say so.
"""

from __future__ import annotations

import re
from typing import Any

from cli import i18n
from cli.i18n import N_, _

# The copied Click's (and Typer's) messages, as they print them; {names} are the values.
# A placeholder named `message` or `type` holds a text that is itself translated.
TEMPLATES = (
    N_("Usage:"),
    N_("Show this message and exit."),
    N_("Invalid value: {message}"),
    N_("Invalid value for {param_hint}: {message}"),
    N_("Missing argument {param_hint}. {message}"),
    N_("Missing option {param_hint}. {message}"),
    N_("Missing parameter {param_hint}. {message}"),
    N_("Missing argument {param_hint}."),
    N_("Missing option {param_hint}."),
    N_("Missing parameter {param_hint}."),
    N_("Missing parameter: {param_name}"),
    N_("No such option: {name}"),
    N_("{message} (Possible options: {possibilities})"),
    N_("{message}. Did you mean {suggestions}?"),
    N_("Got unexpected extra argument(s) ({args})"),
    N_("Option {name} requires an argument."),
    N_("Option {name} requires {nargs} arguments."),
    N_("Option {name} does not take a value."),
    N_("Argument {name} takes {nargs} values."),
    N_("{value} is not a valid boolean. Recognized values: {states}"),
    N_("{value} is not a valid UUID."),
    N_("{value} is not a valid {type}."),
    N_("{value} is not in the range {range}."),
    N_("{value} does not match the formats {formats}."),
    N_("{value} is not one of {choices}."),
    N_("{len_type} values are required, but {len_value} given."),
    # the names of the number types, in "'x' is not a valid int range."
    N_("int"),
    N_("int range"),
    N_("float"),
    N_("float range"),
)
NESTED = frozenset({"message", "type"})
_FIELD = re.compile(r"\{(\w+)\}")
_compiled: list[tuple[str, re.Pattern[str]]] | None = None


def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    """The templates as regular expressions: those that wrap another message first (so that
    "Invalid value for '--limit': 0 is not in the range x>=1." is read as the wrapper
    around the inner message, not as an inner message with a long value), then the most
    specific (most literal text) first."""
    global _compiled
    if _compiled is None:
        found = []
        for template in TEMPLATES:
            parts = _FIELD.split(template)  # literal, name, literal, name, ..., literal
            if len(parts) == 1:
                continue  # no placeholder: looked up as is
            regex = "".join(
                re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)"
                for i, part in enumerate(parts)
            )
            found.append((template, re.compile(regex, re.DOTALL)))
        found.sort(key=lambda item: ("{message}" not in item[0], -len(_FIELD.sub("", item[0]))))
        _compiled = found
    return _compiled


def translate_text(text: str) -> str:
    """`text` in the user's language when it is one of the TEMPLATES (with its values),
    or a message of the catalogue; `text` itself otherwise."""
    if i18n.language() == "en" or not text:
        return text
    exact = i18n.translated(text)
    if exact != text:
        return exact
    for template, pattern in _patterns():
        match = pattern.fullmatch(text)
        if match is None:
            continue
        values = {
            name: translate_text(value) if name in NESTED else value
            for name, value in match.groupdict().items()
        }
        return i18n.translated(template).format(**values)
    return text


def error_message(exc: Any) -> str:
    """The message of a Click usage error, translated."""
    return translate_text(str(exc.format_message()).strip())


def localize(command: Any) -> None:
    """Make the help and errors of the run's command tree speak the user's language."""
    i18n.translate_help(command)
    i18n.translate_libraries()
    if i18n.language() == "en":
        return
    stack = [command]
    while stack:
        cmd = stack.pop()
        cmd.context_class = _localized_context(cmd.context_class)
        stack.extend((getattr(cmd, "commands", None) or {}).values())


_contexts: dict[type, type] = {}


def _localized_context(base: type) -> type:
    """A subclass of the command's context class whose help formatter translates."""
    if getattr(base, "_moncompte_localized", False):
        return base
    if base not in _contexts:
        formatter = _localized_formatter(base.formatter_class)  # type: ignore[attr-defined]
        _contexts[base] = type(
            "Localized" + base.__name__,
            (base,),
            {"formatter_class": formatter, "_moncompte_localized": True},
        )
    return _contexts[base]


# French puts a space before : ; ? ! and a line must not start with one of them: while
# Click wraps, that space is a no-break space (textwrap breaks only at ASCII whitespace),
# and a plain one again in what is printed.
_BEFORE_PUNCTUATION = re.compile(r" (?=[:;?!](?:\s|$))")
_NBSP = "\u00a0"


def _glue(text: str) -> str:
    return _BEFORE_PUNCTUATION.sub(_NBSP, text)


def _localized_formatter(base: type) -> type:
    class LocalizedFormatter(base):  # type: ignore[misc]
        """Click's help formatter, its own words translated, French punctuation kept on the
        line of the word before it."""

        def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
            if prefix is None:
                prefix = _("Usage:") + " "
            super().write_usage(prog, args, prefix)

        def write_heading(self, heading: str) -> None:
            line = _("{heading}:").format(heading=translate_text(heading))
            self.write(f"{'':>{self.current_indent}}{line}\n")

        def write_dl(self, rows: Any, *args: Any, **kwargs: Any) -> None:
            rows = [(term, _glue(translate_text(text))) for term, text in rows]
            super().write_dl(rows, *args, **kwargs)

        def write_text(self, text: str) -> None:
            super().write_text(_glue(text))

        def getvalue(self) -> str:
            return str(super().getvalue()).replace(_NBSP, " ")

    return LocalizedFormatter
