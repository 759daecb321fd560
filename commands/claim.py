"""`moncompte claim new|list|show|reply|escalate|letter|drafts|send`.

A claim is written to the provider first; after two months without an answer (or at once
after an unsatisfactory one) it may be escalated to the mediator, within one year of the
written claim (L612-2). For an order not received or not as ordered the merchant must be
contacted first: the command says so before anything is filed.

Claims never get lost: one that cannot be sent (network down, 5xx, maintenance) is saved as
a draft with its idempotency key (`cli/drafts.py`) and `claim send` sends it later, exactly
once. Attachments are checked here (size, and type by their bytes) before anything is sent,
so a bad file is a usage error rather than a half-filed claim.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shlex
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.context import Env
from cli.drafts import (
    Draft,
    DraftStore,
    Outcome,
    deliver,
    is_transient,
    record_failure,
    record_interruption,
    replay_expired,
    send_saved,
)
from cli.errors import MoncompteError, PartialFailure, RuleError, UsageError, outcome_check
from cli.i18n import _
from cli.output import Column, human
from commands.terminate import rule_refusals
from domain.claims import MERCHANT_FIRST_CATEGORIES

app = typer.Typer(
    name="claim",
    help="Claims: new, list, show, reply, escalate, letter, drafts, send.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

CATEGORIES = (
    "billing",
    "technical",
    "delivery",
    "order_not_received",
    "not_as_ordered",
    "termination",
    "other",
)
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024  # per file, as the server enforces
MAX_ATTACHMENTS = 10
MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", "PDF"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "PNG"),
    (b"\xff\xd8\xff", "image/jpeg", "JPEG"),
)
TYPE_NAMES = {"application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPEG",
              "text/plain": "text"}  # fmt: skip
EXTENSIONS = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".txt": "text/plain",
}


def _claim_columns() -> list[Column]:
    return [
        Column("id", _("claim")),
        Column("status", _("status")),
        Column("category", _("category")),
        Column("subject", _("subject")),
        Column("created_on", _("created"), "date"),
        Column("last_answer_on", _("last answer"), "date"),
        Column("mediator_from", _("mediator from"), "date"),
        Column("mediator_until", _("mediator before"), "date"),
        Column("escalated_on", _("escalated"), "date"),
        Column("contract_id", _("contract")),
    ]


def _claim_fields() -> list[Column]:
    return [
        Column("id", _("Claim")),
        Column("status", _("Status")),
        Column("category", _("Category")),
        Column("subject", _("Subject")),
        Column("contract_id", _("Contract")),
        Column("created_on", _("Written on"), "date"),
        Column("last_answer_on", _("Last answer"), "date"),
        Column("mediator_from", _("Mediator possible from"), "date"),
        Column("mediator_until", _("Mediator to be seized before"), "date"),
        Column("escalated_on", _("Escalated on"), "date"),
    ]


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


# --- new ----------------------------------------------------------------------------------


@app.command("new")
def new(
    ctx: typer.Context,
    category: Annotated[
        str,
        typer.Option("--category", "-c", help=f"One of: {', '.join(CATEGORIES)}."),
    ],
    subject: Annotated[str, typer.Option("--subject", "-s", help="A short subject line.")],
    message: MessageOpt = None,
    message_file: MessageFileOpt = None,
    contract: Annotated[
        str | None,
        typer.Option("--contract", metavar="CONTRACT", help="The contract concerned."),
    ] = None,
    attach: AttachOpt = None,
    merchant_contacted: Annotated[
        bool,
        typer.Option(
            "--merchant-contacted",
            help="For order_not_received / not_as_ordered: the merchant was contacted first.",
        ),
    ] = False,
    offline: Annotated[
        bool, typer.Option("--offline", help="Only save a draft; send it later (claim send).")
    ] = False,
) -> None:
    """File a claim (without --message, your $EDITOR opens on a terminal)."""
    env = Env.of(ctx)
    if category not in CATEGORIES:
        raise UsageError(
            _("unknown category {category!r}").format(category=category),
            hint=_("choose one of {choices}").format(choices=", ".join(CATEGORIES)),
        )
    if not subject.strip():
        raise UsageError(_("the subject is empty"))
    attachments = _attachments(attach)
    if category in MERCHANT_FIRST_CATEGORIES and not merchant_contacted:
        _merchant_first(env, category)
        merchant_contacted = True
    text = _message(env, message, message_file, header=f"{subject.strip()} ({category})")
    claim_body: dict[str, Any] = {
        "category": category,
        "subject": subject.strip(),
        "message": text,
        "contract_id": contract,
        "merchant_contacted": merchant_contacted,
    }
    # The creation endpoint takes no files: they follow as the claim's second message.
    followup = (
        {
            "body": _("Attached files: {names}").format(
                names=", ".join(a["filename"] for a in attachments)
            ),
            "attachments": attachments,
        }
        if attachments
        else None
    )
    draft = Draft.new_claim(claim_body, followup, now=env.now())
    if offline:
        DraftStore().save(draft)
        _show_draft(env, draft)
        env.out.notice(
            _("saved as draft {id}; send it with: moncompte claim send {id}").format(id=draft.id)
        )
        return
    claim = _send_now(env, draft)
    _show_claim(env, claim)
    env.out.notice(_("claim {id} filed").format(id=claim["id"]))


def _merchant_first(env: Env, category: str) -> None:
    """Say that the merchant comes first, and get the user's word that they were contacted."""
    if not env.can_prompt:
        raise UsageError(
            _(
                "for a claim of category {category} the merchant must be contacted first, "
                "and there is no terminal to ask whether you did"
            ).format(category=category),
            hint=_("give --merchant-contacted once the merchant has not solved the problem"),
        )
    env.stderr.write(
        _(
            "For an order not received or not as ordered, contact the merchant first: they "
            "are the ones who can ship, replace or refund it. File this claim only if they "
            "did not solve the problem.\n"
        )
    )
    if not env.confirm(_("Have you contacted the merchant? [y/N] "), flag="--merchant-contacted"):
        raise RuleError(
            _(
                "refused by rule claims.merchant_first (merchant_first): contact the merchant "
                "first; nothing was sent"
            ),
            rule="claims.merchant_first",
            code="merchant_first",
        )


# --- reply --------------------------------------------------------------------------------


@app.command("reply")
def reply(
    ctx: typer.Context,
    claim_id: ClaimIdArg,
    message: MessageOpt = None,
    message_file: MessageFileOpt = None,
    attach: AttachOpt = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Only save a draft; send it later (claim send).")
    ] = False,
) -> None:
    """Add a message (and attachments) to a claim."""
    env = Env.of(ctx)
    attachments = _attachments(attach)
    text = _message(env, message, message_file, header=_("Reply to {id}").format(id=claim_id))
    draft = Draft.reply(claim_id, {"body": text, "attachments": attachments}, now=env.now())
    if offline:
        DraftStore().save(draft)
        _show_draft(env, draft)
        env.out.notice(
            _("saved as draft {id}; send it with: moncompte claim send {id}").format(id=draft.id)
        )
        return
    claim = _send_now(env, draft)
    _show_claim(env, claim)
    env.out.notice(_("message added to claim {id}").format(id=claim["id"]))


def _send_now(env: Env, draft: Draft) -> dict[str, Any]:
    """Send a fresh draft; keep it on disk when the service cannot take it now.

    Saved also on Ctrl-C: the request may already have reached the server, and only the
    draft's key lets a later `claim send` complete it without filing it twice.
    """
    store = DraftStore()
    try:
        with rule_refusals():
            return deliver(draft, env.api(), progress=_save_if_kept(store))
    except KeyboardInterrupt:
        record_interruption(draft, env.now())
        store.save(draft)
        env.out.warn(
            _(
                "interrupted: the claim may or may not have reached the server; it was kept "
                "as draft {id} (moncompte claim send {id} completes it without duplicate, "
                "moncompte claim drafts --discard {id} forgets it)"
            ).format(id=draft.id)
        )
        raise
    except MoncompteError as exc:
        if not is_transient(exc):
            raise
        record_failure(draft, exc, env.now())
        store.save(draft)
        raise type(exc)(
            _("{error}; the claim was saved as draft {id}").format(error=exc.message, id=draft.id),
            hint=_("send it later with: moncompte claim send {id}").format(id=draft.id),
            status=exc.status,
            code=exc.code,
            rule=exc.rule,
        ) from exc


def _save_if_kept(store: DraftStore) -> Callable[[Draft], None]:
    def progress(draft: Draft) -> None:
        # A fresh draft lives only in memory; once on disk, its progress must be recorded.
        if store.exists(draft.id):
            store.save(draft)

    return progress


# --- list / show --------------------------------------------------------------------------


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """Your claims, newest first."""
    env = Env.of(ctx)
    rows = env.api().paginate("/v1/claims")
    count = env.out.render(rows, _claim_columns())
    if count == 0 and env.out.fmt == "table":
        env.out.notice(_("no claims"))


@app.command("show")
def show(ctx: typer.Context, claim_id: ClaimIdArg) -> None:
    """A claim with its messages, attachments and mediator dates."""
    env = Env.of(ctx)
    claim = env.api().get(f"/v1/claims/{claim_id}")
    if env.out.fmt == "json":
        env.out.json(claim)
        return
    env.out.render_one(claim, _claim_fields(), title=_("Claim {id}").format(id=claim["id"]))
    if env.out.fmt not in ("table", "markdown"):
        return
    env.out.text("")
    env.out.render(
        [_message_row(m) for m in claim.get("messages") or []],
        [
            Column("sent_at", _("Sent")),
            Column("author", _("From")),
            Column("body", _("Message")),
            Column("attachments", _("Attachments")),
        ],
        title=_("Messages"),
    )


def _message_row(message: dict[str, Any]) -> dict[str, Any]:
    files = ", ".join(
        f"{a.get('filename')} ({TYPE_NAMES.get(a.get('content_type', ''), '?')}, "
        f"{_size(int(a.get('size') or 0))})"
        for a in message.get("attachments") or []
    )
    return {
        "sent_at": message.get("sent_at"),
        "author": message.get("author"),
        "body": message.get("body"),
        "attachments": files or None,
    }


def _show_claim(env: Env, claim: dict[str, Any]) -> None:
    if env.out.fmt == "json":
        env.out.json(claim)
    else:
        env.out.render_one(claim, _claim_fields())


# --- escalate / letter ----------------------------------------------------------------------


@app.command("escalate")
def escalate(ctx: typer.Context, claim_id: ClaimIdArg) -> None:
    """Escalate to the mediator: 2 months without answer, within 1 year of the claim."""
    env = Env.of(ctx)
    client = env.api()
    claim = client.get(f"/v1/claims/{claim_id}")
    try:
        with outcome_check(f"moncompte claim show {claim['id']}"):
            escalated = client.post(f"/v1/claims/{claim['id']}/escalate", None)
    except RuleError as exc:
        raise _escalation_refusal(env, claim, exc) from exc
    status = client.get("/v1/status", auth=False)
    mediator = (status or {}).get("mediator") or {}
    if env.out.fmt == "json":
        env.out.json({**escalated, "mediator": mediator})
        return
    if env.out.fmt != "table" and env.out.fmt != "markdown":
        env.out.render(
            [{**escalated, "mediator": mediator}],
            [
                Column(k, k)
                for k in (
                    "id",
                    "status",
                    "escalated_on",
                    "mediator_until",
                    "mediator.name",
                    "mediator.url",
                )
            ],  # fmt: skip
        )
        return
    d = _date_formatter(env)
    env.out.text(
        _("Claim {id} is escalated (on {date}).").format(
            id=escalated["id"], date=d(escalated.get("escalated_on"))
        )
    )
    env.out.text(
        _(
            "Seize the mediator, {name} ({url}), before {until}: one year after your written "
            "claim of {created}."
        ).format(
            name=mediator.get("name", "-"),
            url=mediator.get("url", "-"),
            until=d(escalated.get("mediator_until")),
            created=d(escalated.get("created_on")),
        )
    )
    env.out.text(
        _(
            "The registered letter to the consumer service: "
            "moncompte claim letter {id} --format pdf --to {id}.pdf"
        ).format(id=escalated["id"])
    )


def _escalation_refusal(env: Env, claim: dict[str, Any], exc: RuleError) -> RuleError:
    d = _date_formatter(env)
    rule = exc.rule or "-"
    if exc.code == "escalation_too_early":
        text = _(
            "refused by rule {rule} (escalation_too_early): claim {id} of {created} has had no "
            "answer for less than two months; the mediator can be seized from {date}"
        ).format(rule=rule, id=claim["id"], created=d(claim.get("created_on")),
                 date=d(claim.get("mediator_from")))  # fmt: skip
    elif exc.code == "escalation_too_late":
        text = _(
            "refused by rule {rule} (escalation_too_late): the mediator had to be seized "
            "before {date}, one year after the claim of {created}"
        ).format(rule=rule, date=d(claim.get("mediator_until")),
                 created=d(claim.get("created_on")))  # fmt: skip
    else:
        text = _("refused by rule {rule} ({code}): {detail}").format(
            rule=rule, code=exc.code or "-", detail=exc.detail or exc.message
        )
    return RuleError(text, status=exc.status, code=exc.code, rule=exc.rule, detail=exc.detail)


@app.command("letter")
def letter(
    ctx: typer.Context,
    claim_id: ClaimIdArg,
    format_: Annotated[
        str, typer.Option("--format", "-f", metavar="text|pdf", help="text or pdf.")
    ] = "text",
    to: Annotated[
        str | None,
        typer.Option("--to", metavar="FILE", help="Write to FILE (- for stdout)."),
    ] = None,
) -> None:
    """The registered letter (lettre recommandée avec AR) for the claim, filled in."""
    env = Env.of(ctx)
    if format_ not in ("text", "pdf"):
        raise UsageError(
            _("unknown letter format {format!r}").format(format=format_),
            hint=_("use --format text or --format pdf"),
        )
    to_stdout = to is None or to == "-"
    if format_ == "pdf" and to_stdout and env.stdout_isatty:
        raise UsageError(
            _("refusing to write a PDF to the terminal"),
            hint=_("use --to FILE, or redirect the output to a file"),
        )
    data = env.api().get_bytes(f"/v1/claims/{claim_id}/letter", {"format": format_})
    if to_stdout:
        if format_ == "text":
            env.out.text(data.decode("utf-8"))
        else:
            env.out.bytes(data)
        return
    assert to is not None
    path = Path(os.path.expanduser(to))  # ~nosuchuser stays as typed, like a shell
    _atomic_write_bytes(path, data)
    env.out.notice(_("letter written to {path}").format(path=path))


# --- drafts / send --------------------------------------------------------------------------


def _draft_columns() -> list[Column]:
    return [
        Column("id", _("draft")),
        Column("kind", _("kind")),
        Column("status", _("status")),
        Column("claim_id", _("claim")),
        Column("category", _("category")),
        Column("subject", _("subject")),
        Column("attachments", _("attachments")),
        Column("attempts", _("attempts"), "int"),
        Column("created_at", _("created")),
        Column("last_error", _("last error")),
    ]


@app.command("drafts")
def drafts(
    ctx: typer.Context,
    discard: Annotated[
        list[str] | None,
        typer.Option("--discard", metavar="DRAFT", help="Delete this draft (repeatable)."),
    ] = None,
) -> None:
    """Claims saved while the service could not be reached (send them with claim send)."""
    env = Env.of(ctx)
    store = DraftStore()
    if discard:
        for draft_id in discard:
            store.get(draft_id)  # exit 4 for an unknown draft, before deleting anything
        for draft_id in discard:
            store.delete(draft_id)
            env.out.notice(_("draft {id} discarded").format(id=draft_id))
        return
    found, broken = store.scan()
    for item in broken:
        env.out.warn(
            _("{path} is not a readable draft ({reason}); it was left as is").format(
                path=item.path, reason=item.reason
            )
        )
    now = env.now()
    for draft in found:
        if replay_expired(draft, now):
            env.out.warn(_expired_warning(draft))
    rows = [_draft_row(d) for d in found]
    env.out.render(rows, _draft_columns())
    if not rows and env.out.fmt == "table":
        env.out.notice(_("no drafts in {dir}").format(dir=store.directory))


def _draft_row(draft: Draft) -> dict[str, Any]:
    row = draft.summary()
    row["attachments"] = ", ".join(row["attachments"]) or None
    return row


def _show_draft(env: Env, draft: Draft) -> None:
    row = _draft_row(draft)
    if env.out.fmt == "json":
        env.out.json(draft.summary())
    else:
        env.out.render_one(row, _draft_columns())


def _expired_warning(draft: Draft) -> str:
    return _(
        "draft {id} may have reached the server more than 24 hours ago, and the server no "
        "longer recognises its key: check 'moncompte claim list' before sending it "
        "(moncompte claim send {id})"
    ).format(id=draft.id)


def _send_columns() -> list[Column]:
    return [
        Column("draft", _("draft")),
        Column("result", _("result")),
        Column("claim", _("claim")),
        Column("detail", _("detail")),
    ]


@app.command("send")
def send(
    ctx: typer.Context,
    draft_id: Annotated[
        str | None, typer.Argument(metavar="DRAFT", help="The draft to send (or --all).")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Send every pending draft.")] = False,
) -> None:
    """Send saved drafts, each with its original idempotency key (never twice).

    A draft is deleted once the server has accepted it. One the server refused for good
    (a rule, an unknown claim, invalid content) is kept, marked "rejected", and skipped by
    --all: send it by its ID, or discard it (claim drafts --discard).
    """
    env = Env.of(ctx)
    if (draft_id is None) == (not all_):
        raise UsageError(_("give either a draft ID or --all"), hint="moncompte claim drafts")
    store = DraftStore()
    if draft_id is not None:
        draft = store.get(draft_id)
        draft.status = "pending"  # named explicitly: the user asks for another try
        queue = [draft]
    else:
        found, broken = store.scan()
        for item in broken:
            env.out.warn(
                _("{path} is not a readable draft ({reason}); it was left as is").format(
                    path=item.path, reason=item.reason
                )
            )
        rejected = [d for d in found if d.status == "rejected"]
        if rejected:
            env.out.notice(
                _("{n} rejected draft(s) skipped: send them by ID, or discard them").format(
                    n=len(rejected)
                )
            )
        now = env.now()
        queue = []
        for d in found:
            if d.status != "pending":
                continue
            if replay_expired(d, now):
                env.out.warn(_expired_warning(d))
                continue
            queue.append(d)
        if not queue:
            env.out.notice(_("no drafts to send"))
            return
    outcomes: list[Outcome] = []
    env.out.render(_sending(env, store, queue, outcomes), _send_columns())
    _conclude(outcomes)


def _sending(
    env: Env, store: DraftStore, queue: list[Draft], outcomes: list[Outcome]
) -> Iterator[dict[str, Any]]:
    """Send one draft at a time, yielding its row as soon as it is known."""
    client = env.api()
    for draft in queue:
        outcome = send_saved(draft, client, store, env.now())
        outcomes.append(outcome)
        yield {
            "draft": draft.id,
            "result": outcome.result,
            "claim": (outcome.claim or {}).get("id") or draft.claim_id,
            "detail": outcome.error.message if outcome.error else None,
        }


def _conclude(outcomes: list[Outcome]) -> None:
    failed = [o for o in outcomes if o.result != "sent"]
    if not failed:
        return
    sent = len(outcomes) - len(failed)
    first = failed[0].error
    assert first is not None
    message = _("{n} draft(s) not sent; they are kept (moncompte claim drafts)").format(
        n=len(failed)
    )
    if sent:
        raise PartialFailure(message, hint=_("retry with: moncompte claim send --all"))
    raise type(first)(message + ": " + first.message, status=first.status, code=first.code,
                      rule=first.rule)  # fmt: skip


# --- input: message text and attachments --------------------------------------------------


def _message(env: Env, text: str | None, file: str | None, *, header: str) -> str:
    if text is not None and file is not None:
        raise UsageError(_("give either --message or --message-file, not both"))
    if text is not None:
        body = text
    elif file == "-":
        body = env.read_stdin()
    elif file is not None:
        try:
            body = Path(os.path.expanduser(file)).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise UsageError(_("cannot read {file}: not UTF-8 text").format(file=file)) from None
        except OSError as exc:
            raise UsageError(
                _("cannot read {file}: {why}").format(file=file, why=exc.strerror)
            ) from None
    elif env.can_prompt:
        body = _edit(env, header)
    else:
        raise UsageError(
            _("no message given, and no terminal to open an editor"),
            hint=_("give --message TEXT, or --message-file FILE (- for stdin)"),
        )
    if not body.strip():
        raise UsageError(_("the message is empty: nothing was sent"))
    return body.strip("\n")


def _edit(env: Env, header: str) -> str:
    """Open $VISUAL/$EDITOR on a private temporary file; lines starting with # are dropped."""
    editor = env.environ.get("VISUAL") or env.environ.get("EDITOR") or "vi"
    template = "\n" + _(
        "# {header}\n"
        "# Write your message above. Lines starting with '#' are ignored;\n"
        "# an empty message cancels.\n"
    ).format(header=header)
    fd, name = tempfile.mkstemp(prefix="moncompte-claim-", suffix=".txt")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(template)
        try:
            status = subprocess.call([*shlex.split(editor), name])
        except OSError as exc:
            raise UsageError(
                _("cannot run the editor {editor!r}: {why}").format(
                    editor=editor, why=exc.strerror
                ),
                hint=_("set EDITOR, or give --message / --message-file"),
            ) from None
        if status != 0:
            raise UsageError(
                _("the editor exited with status {status}: nothing was sent").format(status=status)
            )
        text = Path(name).read_text(encoding="utf-8")
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)
    return "\n".join(line for line in text.splitlines() if not line.startswith("#"))


@dataclass(frozen=True)
class _File:
    filename: str
    content_type: str
    data: bytes


def _attachments(paths: list[str] | None) -> list[dict[str, str]]:
    """Read and check every attachment before anything is sent (exit 2 on the first bad)."""
    paths = paths or []
    if len(paths) > MAX_ATTACHMENTS:
        raise UsageError(_("at most {n} attachments per message").format(n=MAX_ATTACHMENTS))
    files = [_read_attachment(p) for p in paths]
    return [
        {
            "filename": f.filename,
            "content_type": f.content_type,
            "content_base64": base64.b64encode(f.data).decode("ascii"),
        }
        for f in files
    ]


def _read_attachment(text: str) -> _File:
    path = Path(os.path.expanduser(text))
    name = path.name
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise UsageError(_("cannot attach {file}: not a file").format(file=text))
        # Checked before reading: a huge file is refused without loading it.
        if size > MAX_ATTACHMENT_BYTES:
            raise UsageError(
                _("cannot attach {file}: it is {size}, over the 5 MiB limit per file").format(
                    file=text, size=_size(size)
                ),
                hint=_("compress it, or split it into several files"),
            )
        with path.open("rb") as fh:
            data = fh.read(MAX_ATTACHMENT_BYTES + 1)
    except FileNotFoundError:
        raise UsageError(_("cannot attach {file}: no such file").format(file=text)) from None
    except OSError as exc:
        raise UsageError(
            _("cannot attach {file}: {why}").format(file=text, why=exc.strerror)
        ) from None
    if len(data) > MAX_ATTACHMENT_BYTES:  # it grew while we looked
        raise UsageError(_("cannot attach {file}: over the 5 MiB limit per file").format(file=text))
    if not data:
        raise UsageError(_("cannot attach {file}: the file is empty").format(file=text))
    detected = _sniff(data)
    if detected is None:
        raise UsageError(
            _(
                "cannot attach {file}: only PDF, PNG, JPEG and plain text files are accepted, "
                "and its content is none of these"
            ).format(file=text)
        )
    claimed = EXTENSIONS.get(path.suffix.lower())
    if claimed is not None and claimed != detected:
        raise UsageError(
            _("cannot attach {file}: its name says {claimed} but its content is {detected}").format(
                file=text, claimed=TYPE_NAMES[claimed], detected=TYPE_NAMES[detected]
            )
        )
    return _File(name, detected, data)


def _sniff(data: bytes) -> str | None:
    """The type by the file's first bytes, as the server checks it; None if not accepted."""
    for magic, content_type, _name in MAGIC:
        if data.startswith(magic):
            return content_type
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ord(ch) < 32 and ch not in "\t\n\r\f" for ch in text):
        return None  # control characters: a binary file that happens to decode
    return "text/plain"


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MiB"
    if n >= 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n} B"


# --- output helpers -----------------------------------------------------------------------


def _date_formatter(env: Env) -> Callable[[Any], str]:
    def fmt(value: Any) -> str:
        return human(value, "date", env.locale)

    return fmt


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a file whole or not at all (a Ctrl-C never leaves half a letter).

    Mode 0600: the letter holds the customer's name, address and claim.
    """
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(_("cannot write {path}: no such directory").format(path=path))
    if path.exists() and not path.is_file():
        # A rename would replace a directory entry such as /dev/null with our file.
        raise UsageError(f"cannot write {path}: not a regular file")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
        raise
