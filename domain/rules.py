"""The one exception every business-rule check raises.

The server turns it into a 409 problem (`code`, `rule`, `detail`) and the CLI into exit 5,
so the three fields are a contract: `code` is a stable snake_case id clients may match on,
`rule` names the rule in dotted form for humans and logs, `detail` is one English sentence
saying which condition failed and with which dates.

The detail is a `domain.i18n.Text`: as a `str` the English sentence (logs, tests, JSON),
and worded again in the reader's language where one reads it (the server's problem body
by Accept-Language, the CLI by `cli.i18n.localized`), its dates written out in that
language.
"""

from __future__ import annotations


class RuleRefusal(Exception):
    """A request that is well formed but refused by a business rule."""

    def __init__(self, code: str, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.rule = rule
        self.detail = detail

    def __str__(self) -> str:
        return self.detail

    def __repr__(self) -> str:
        return f"RuleRefusal(code={self.code!r}, rule={self.rule!r}, detail={self.detail!r})"

    def __reduce__(self) -> tuple[type[RuleRefusal], tuple[str, str, str]]:
        # Exception's default pickling replays `args` (the detail only), which would not
        # match this constructor; a refusal may cross a process boundary in the server.
        return (RuleRefusal, (self.code, self.rule, self.detail))

    def __eq__(self, other: object) -> bool:
        # Refusals are compared by value so that a refusal returned by a "window" function
        # can be checked against the one raised by the matching "check" function.
        if not isinstance(other, RuleRefusal):
            return NotImplemented
        return (self.code, self.rule, self.detail) == (other.code, other.rule, other.detail)

    def __hash__(self) -> int:
        return hash((self.code, self.rule, self.detail))
