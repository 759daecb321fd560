"""Pydantic's validation messages as translatable texts (server.problems words them).

Pydantic writes its messages in English only. For the errors this API's models can raise,
`worded` rebuilds the message as a `domain.i18n.Text` from the error's type and context,
and keeps it only if its English is exactly pydantic's message: a message this table does
not know (a new pydantic wording, an unusual type) stays in English rather than being
replaced by a sentence that would say something else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from domain.i18n import N_, Text, ngettext

__all__ = ["worded"]

Context = Mapping[str, Any]

# The reasons of a refused date (pydantic-core's speedate), as pydantic writes them.
_DATE_REASONS = frozenset(
    {
        N_("input is too short"),
        N_("input is too long"),
        N_("invalid character in year"),
        N_("invalid character in month"),
        N_("invalid character in day"),
        N_("invalid date separator, expected `-`"),
        N_("month value is outside expected range of 1-12"),
        N_("day value is outside expected range"),
        N_("unexpected extra characters at the end of the input"),
    }
)


def _choices(expected: str) -> str:
    """`'a', 'b' or 'c'` with its "or" translatable (the values are the API's, as is)."""
    head, sep, last = expected.rpartition(" or ")
    return Text(N_("{choices} or {last}"), choices=head, last=last) if sep else expected


def _date_reason(reason: str) -> str:
    return Text(reason) if reason in _DATE_REASONS else reason


def _value_error(ctx: Context) -> str | None:
    # A validator of ours raises ValueError(Text(...)): that Text is the message.
    error = ctx.get("error")
    args = getattr(error, "args", ())
    return args[0] if args and isinstance(args[0], Text) else None


_BUILDERS: dict[str, Callable[[Context], str | None]] = {
    "missing": lambda _: Text(N_("field required")),
    "extra_forbidden": lambda _: Text(N_("unknown field (not accepted here)")),
    "string_too_long": lambda c: ngettext(
        "string should have at most {n} character",
        "string should have at most {n} characters",
        int(c["max_length"]),
    ),
    "string_too_short": lambda c: ngettext(
        "string should have at least {n} character",
        "string should have at least {n} characters",
        int(c["min_length"]),
    ),
    "string_type": lambda _: Text(N_("input should be a valid string")),
    "int_type": lambda _: Text(N_("input should be a valid integer")),
    "int_parsing": lambda _: Text(
        N_("input should be a valid integer, unable to parse string as an integer")
    ),
    "int_from_float": lambda _: Text(
        N_("input should be a valid integer, got a number with a fractional part")
    ),
    "bool_parsing": lambda _: Text(
        N_("input should be a valid boolean, unable to interpret input")
    ),
    "list_type": lambda _: Text(N_("input should be a valid list")),
    "date_from_datetime_parsing": lambda c: Text(
        N_("input should be a valid date or datetime, {reason}"),
        reason=_date_reason(str(c["error"])),
    ),
    "date_parsing": lambda c: Text(
        N_("input should be a valid date in the format YYYY-MM-DD, {reason}"),
        reason=_date_reason(str(c["error"])),
    ),
    "greater_than_equal": lambda c: Text(
        N_("input should be greater than or equal to {limit}"), limit=c["ge"]
    ),
    "less_than_equal": lambda c: Text(
        N_("input should be less than or equal to {limit}"), limit=c["le"]
    ),
    "literal_error": lambda c: Text(
        N_("input should be {expected}"), expected=_choices(str(c["expected"]))
    ),
    "too_long": lambda c: (
        Text(
            N_("list should have at most {limit} items after validation, not {actual}"),
            limit=c["max_length"],
            actual=c["actual_length"],
        )
        if c.get("field_type") == "List"
        else None
    ),
    "union_tag_invalid": lambda c: Text(
        N_(
            "input tag {tag} found using {discriminator} does not match any of the "
            "expected tags: {expected}"
        ),
        tag=repr(c["tag"]),
        discriminator=c["discriminator"],
        expected=c["expected_tags"],
    ),
    "union_tag_not_found": lambda c: Text(
        N_("unable to extract tag using discriminator {discriminator}"),
        discriminator=c["discriminator"],
    ),
    "value_error": _value_error,
}


def worded(error: Mapping[str, Any], english: str) -> str:
    """The message of one pydantic error as a `Text` whose English is `english`, or
    `english` itself when the error is not one this table words."""
    builder = _BUILDERS.get(str(error.get("type", "")))
    if builder is None:
        return english
    try:
        text = builder(error.get("ctx") or {})
    except (KeyError, TypeError, ValueError):
        return english
    if text is None or str(text) != english:
        return english
    return text
