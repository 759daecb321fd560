"""`moncompte claim new|list|show|reply|escalate|letter|drafts|send`.

A claim is written to the provider first; after two months without an answer (or at once
after an unsatisfactory one) it may be escalated to the mediator, within one year of the
written claim (L612-2). For an order not received or not as ordered the merchant must be
contacted first: the command says so before anything is filed.

Claims never get lost: one that cannot be sent (network down, 5xx, maintenance) is saved as
a draft with its idempotency key (`commands/claim/drafts.py`) and `claim send` sends it
later, exactly once. Attachments are checked here (size, and type by their bytes) before
anything is sent, so a bad file is a usage error rather than a half-filed claim.

The package: `_app.py` (the Typer app and shared options), `filing.py` (new, reply),
`reading.py` (list, show), `escalation.py` (escalate, letter), `outbox.py` (drafts, send),
`views.py` (how claims and drafts are shown), `message.py` (message text, editor,
attachments, files) and `drafts.py` (the offline drafts and their delivery).
"""

from __future__ import annotations

from commands.claim._app import app

# The command modules register on `app` when imported (hence these imports), and the help
# lists the commands in that order: keep it (new, reply, list, show, escalate, letter,
# drafts, send). They import only _app, drafts, message and views, never one another.
# isort: off
from commands.claim import filing as filing
from commands.claim import reading as reading
from commands.claim import escalation as escalation
from commands.claim import outbox as outbox

# isort: on

__all__ = ["app"]
