"""The one `moncompte claim` Typer app, and the options its commands share.

Every command module of this package registers its commands on `app`;
`commands/claim/__init__.py` imports them in the order the help lists them.
"""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(
    name="claim",
    help="Claims: new, list, show, reply, escalate, letter, drafts, send.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

MessageOpt = Annotated[
    str | None, typer.Option("--message", "-m", metavar="TEXT", help="The message text.")
]
MessageFileOpt = Annotated[
    str | None,
    typer.Option(
        "--message-file", metavar="FILE", help="Read the message from FILE, or - for stdin."
    ),
]
AttachOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--attach",
        "-a",
        metavar="FILE",
        help="Attach a file: PDF, PNG, JPEG or text, 5 MiB at most (repeatable).",
    ),
]
ClaimIdArg = Annotated[str, typer.Argument(metavar="CLAIM", help="The claim reference.")]
