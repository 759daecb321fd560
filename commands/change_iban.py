"""`moncompte change-iban IBAN|-`: change the bank account debited, keeping the mandate.

The IBAN is checked locally first (`domain.iban.validate_iban`) so a typo is caught with
the exact check that failed, before anything is sent; the server checks it again. An IBAN
is personal data: it is shown masked only, never echoed whole in an error, a `-v` log or
the JSON output, and `-` reads it from stdin so it stays out of the shell history. Both the
text as typed and its normalized form are registered as secrets, so even a message from
elsewhere that happened to quote it would be scrubbed.

It is a change to what gets debited, so: a preview first (old and new account masked, the
mandate reference kept, the first debit on the new account), `--dry-run` to stop there,
and a confirmation on a terminal or `--yes` without one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.context import Env
from cli.errors import NotFoundError, UsageError, outcome_check, register_secret
from cli.i18n import _, localized
from cli.output import Column, human
from domain.iban import IbanError, first_debit_on_new_iban, format_iban, mask_iban, validate_iban

if TYPE_CHECKING:
    from cli.http import ApiClient


def result_fields() -> list[Column]:
    # The keys are the PUT /v1/payment-method answer's: a dry run and a real change print
    # the same document, `dry_run` telling them apart.
    return [
        Column("previous_iban_masked", _("current IBAN")),
        Column("iban_masked", _("new IBAN")),
        Column("mandate_reference", _("mandate reference (kept)")),
        Column("received_on", _("change received on"), "date"),
        Column("first_debit_on", _("first debit on the new IBAN"), "date"),
        Column("dry_run", _("dry run"), "bool"),
    ]


def change_iban(
    ctx: typer.Context,
    iban: Annotated[
        str,
        typer.Argument(
            metavar="IBAN",
            help="The new IBAN (spaces and case ignored), or - to read it from stdin.",
            show_default=False,
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change, change nothing.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Change the IBAN debited by direct debit; the SEPA mandate reference is kept."""
    env = Env.of(ctx)
    text = read_iban(env) if iban == "-" else iban
    new_iban = check_iban(text)
    # Usage problems before the network: a script without a terminal learns at once.
    if not dry_run and not yes and not env.can_prompt:
        raise UsageError(
            _("changing the IBAN needs a confirmation and there is no terminal to ask"),
            hint=_("add --yes to confirm, or --dry-run to only see the change"),
        )

    client = env.api()
    current = _current(client)
    today = env.today()
    preview: dict[str, Any] = {
        "previous_iban_masked": current.get("iban_masked"),
        "iban_masked": mask_iban(new_iban),
        # A first mandate gets its reference from the server; an existing one is kept.
        "mandate_reference": current.get("mandate_reference") or _("(new mandate)"),
        "received_on": today.isoformat(),
        "first_debit_on": first_debit_on_new_iban(today).isoformat(),
        "dry_run": True,
    }
    out = env.out
    if dry_run:
        out.render_one(preview, result_fields(), title=_("IBAN change (dry run)"))
        out.notice(_("dry run: nothing was changed"))
        return

    for column in result_fields()[:-1]:
        value = human(preview[column.key], column.kind, env.locale)
        out.notice(_("{label}: {value}").format(label=column.header, value=value))

    if not yes and not env.confirm(_("Change the IBAN? [y/N] ")):
        raise UsageError(_("cancelled: the IBAN was not changed"))

    with outcome_check("moncompte api GET /v1/payment-method"):
        answer = client.put("/v1/payment-method", {"iban": new_iban})
    result = {
        "previous_iban_masked": answer.get("previous_iban_masked"),
        "iban_masked": answer.get("iban_masked"),
        "mandate_reference": answer.get("mandate_reference"),
        "received_on": answer.get("received_on"),
        "first_debit_on": answer.get("first_debit_on"),
        "dry_run": False,
    }
    out.render_one(result, result_fields(), title=_("IBAN changed"))
    out.notice(
        _("IBAN changed; the first debit on the new IBAN is on {date}.").format(
            date=human(result["first_debit_on"], "date", env.locale)
        )
    )


def read_iban(env: Env) -> str:
    """The first line of stdin (`-`): a pipe or a here-string ends with a newline."""
    lines = env.read_stdin().splitlines()
    return lines[0] if lines else ""


def check_iban(text: str) -> str:
    """The IBAN normalized, or exit 2 naming the failed check, never quoting the IBAN."""
    if any(ch.isalnum() for ch in text):  # not a run of blanks: it would scrub spacing
        register_secret(text, text.strip())
    try:
        iban = validate_iban(text)
    except IbanError as exc:
        raise UsageError(
            _("invalid IBAN ({check} check): {reason}").format(
                check=check_label(exc.check), reason=localized(exc.message)
            ),
            hint=_("check the IBAN on your bank details (RIB)"),
            code="invalid_iban",
        ) from None
    register_secret(iban, format_iban(iban))
    return iban


def check_label(check: str) -> str:
    """The name of an IBAN check (`domain.iban.IBAN_CHECKS`) in the user's language; the
    code itself is what `code`/JSON carry."""
    labels = {
        "empty": _("empty"),
        "characters": _("characters"),
        "country": _("country"),
        "length": _("length"),
        "checksum": _("checksum"),
        "format": _("format"),
        "rib_key": _("rib_key"),
        "sepa": _("sepa"),
    }
    return labels.get(check, check)


def _current(client: ApiClient) -> dict[str, Any]:
    """The payment method on file, or an empty one when there is no mandate yet."""
    try:
        found = client.get("/v1/payment-method")
    except NotFoundError:
        return {}
    return dict(found) if isinstance(found, dict) else {}
