"""Claims that could not be sent, kept as drafts and sent later exactly once.

A claim (a new one, or a reply) that fails to reach the service — network down, timeout,
5xx, maintenance — is not lost: it is saved here and `moncompte claim send` sends it later.

Why each draft carries its own Idempotency-Key, fixed when the draft is made (and used for
the very first attempt too): that attempt may have reached the server even though its answer
was lost. Sending again with the same key makes the server replay its first answer instead
of filing the claim twice, so "send until it works" is safe. The server keeps keys for
24 hours (`server/idempotency.py`); a draft whose answer was lost and that is sent after
that could be filed twice, which `claim drafts` warns about.

Why the request bodies are stored whole, attachments included (base64), and sent as the
exact bytes `body_bytes()` gives: a replay is recognised only for the same body, and files
on disk may have changed or gone since.

Storage: one JSON file per draft under `platformdirs.user_data_dir("moncompte")/drafts/`
(so `XDG_DATA_HOME` applies on Linux), written atomically with mode 0600 — a claim holds
personal data, and a reader or a Ctrl-C sees a whole draft or none.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from cli.errors import AuthError, MoncompteError, NetworkError, NotFoundError, RuleError
from cli.files import atomic_write_text, json_reason, os_reason
from cli.i18n import _, language

if TYPE_CHECKING:
    from cli.http import ApiClient

DraftKind = Literal["new", "reply"]
DraftStatus = Literal["pending", "rejected"]

FORMAT_VERSION = 1
SUFFIX = ".json"
ID_PATTERN = re.compile(r"^DR-\d{8}-\d{6}-[0-9A-F]{4}$")
# How long the server replays an idempotent answer (server/idempotency.py RETENTION).
REPLAY_WINDOW = dt.timedelta(hours=24)
# Server answers that say "not now" rather than "never": the draft stays pending.
TRANSIENT_CODES = frozenset({"idempotency_in_progress"})


def drafts_dir() -> Path:
    """`<user data dir>/moncompte/drafts` (honours XDG_DATA_HOME on Linux)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("moncompte")) / "drafts"


def new_key() -> str:
    return str(uuid.uuid4())


def body_bytes(body: dict[str, Any]) -> bytes:
    """The exact request body sent for `body`, identical on every attempt.

    Canonical (sorted keys, no spaces): the server recognises a replay by a hash of the
    bytes, so the encoding must not depend on how the dict was built or reloaded.
    """
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


@dataclass
class Draft:
    """A claim to send: up to two requests, each with its own idempotency key.

    - kind "new": `POST /v1/claims` (`claim`, `claim_key`), then, when there are
      attachments, `POST /v1/claims/{id}/messages` (`message`, `message_key`) — the
      creation endpoint takes no attachments. `claim_id` is filled in once the claim
      exists, so a later send resumes at the second request.
    - kind "reply": `POST /v1/claims/{claim_id}/messages` only.
    """

    id: str
    kind: DraftKind
    created_at: str
    claim: dict[str, Any] | None = None
    claim_key: str | None = None
    claim_id: str | None = None
    message: dict[str, Any] | None = None
    message_key: str | None = None
    status: DraftStatus = "pending"
    attempts: int = 0
    last_attempt_at: str | None = None
    last_error: str | None = None
    # The last attempt failed in a way that may have reached the server (a timeout, a 5xx):
    # only the idempotency replay then prevents a duplicate, and it lasts REPLAY_WINDOW.
    maybe_delivered: bool = False
    version: int = FORMAT_VERSION

    # -- construction -------------------------------------------------------------------

    @classmethod
    def new_claim(
        cls,
        claim: dict[str, Any],
        attachments_message: dict[str, Any] | None,
        *,
        now: dt.datetime,
    ) -> Draft:
        return cls(
            id=make_id(now),
            kind="new",
            created_at=_stamp(now),
            claim=claim,
            claim_key=new_key(),
            message=attachments_message,
            message_key=new_key() if attachments_message is not None else None,
        )

    @classmethod
    def reply(cls, claim_id: str, message: dict[str, Any], *, now: dt.datetime) -> Draft:
        return cls(
            id=make_id(now),
            kind="reply",
            created_at=_stamp(now),
            claim_id=claim_id,
            message=message,
            message_key=new_key(),
        )

    @classmethod
    def from_json(cls, data: Any) -> Draft:
        if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
            raise ValueError(_("not a draft of this version"))
        known = {f for f in cls.__dataclass_fields__}
        draft = cls(**{k: v for k, v in data.items() if k in known})
        if not ID_PATTERN.match(draft.id) or draft.kind not in ("new", "reply"):
            raise ValueError(_("not a draft"))
        if draft.kind == "new" and (draft.claim is None or not draft.claim_key):
            raise ValueError(_("a new-claim draft without its claim"))
        if draft.kind == "reply" and (draft.message is None or not draft.claim_id):
            raise ValueError(_("a reply draft without its message"))
        if draft.message is not None and not draft.message_key:
            raise ValueError(_("a message without its idempotency key"))
        return draft

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    # -- what people see ----------------------------------------------------------------

    @property
    def subject(self) -> str | None:
        return str(self.claim.get("subject")) if self.claim else None

    @property
    def category(self) -> str | None:
        return str(self.claim.get("category")) if self.claim else None

    @property
    def text(self) -> str:
        if self.claim is not None:
            return str(self.claim.get("message", ""))
        return str((self.message or {}).get("body", ""))

    @property
    def attachment_names(self) -> list[str]:
        items = (self.message or {}).get("attachments") or []
        return [str(a.get("filename")) for a in items if isinstance(a, dict)]

    def summary(self) -> dict[str, Any]:
        """The draft without its bodies (attachments can weigh megabytes)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "created_at": self.created_at,
            "claim_id": self.claim_id,
            "category": self.category,
            "subject": self.subject,
            "attachments": self.attachment_names,
            "attempts": self.attempts,
            "last_attempt_at": self.last_attempt_at,
            "last_error": self.last_error,
            "maybe_delivered": self.maybe_delivered,
            "idempotency_key": self.claim_key or self.message_key,
        }


def make_id(now: dt.datetime) -> str:
    """`DR-YYYYMMDD-HHMMSS-XXXX`: sorts by creation, short enough to type."""
    return f"DR-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2).upper()}"


def _stamp(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# --- the store --------------------------------------------------------------------------


@dataclass
class Broken:
    """A file in the drafts folder that is not a readable draft (never deleted for you)."""

    path: Path
    reason: str


@dataclass
class DraftStore:
    directory: Path = field(default_factory=drafts_dir)

    def path(self, draft_id: str) -> Path:
        if not ID_PATTERN.match(draft_id):
            # Also keeps an argument like "../x" from naming a file outside the folder.
            raise NotFoundError(
                _("no draft {id} (draft ids look like DR-20261124-...)").format(id=repr(draft_id))
            )
        return self.directory / f"{draft_id}{SUFFIX}"

    def save(self, draft: Draft) -> Path:
        path = self.path(draft.id)
        atomic_write_text(path, json.dumps(draft.to_json(), indent=2, ensure_ascii=False) + "\n")
        return path

    def exists(self, draft_id: str) -> bool:
        return self.path(draft_id).exists()

    def get(self, draft_id: str) -> Draft:
        path = self.path(draft_id)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise NotFoundError(
                _("no draft {id} in {dir}").format(id=draft_id, dir=self.directory)
            ) from None
        try:
            return Draft.from_json(json.loads(text))
        except (ValueError, TypeError) as exc:
            raise MoncompteError(
                _("draft file {path} is unreadable: {reason}").format(
                    path=path, reason=_unreadable(exc)
                )
            ) from None

    def delete(self, draft_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(draft_id).unlink()

    def scan(self) -> tuple[list[Draft], list[Broken]]:
        """Every draft, oldest first, and the files that could not be read."""
        drafts: list[Draft] = []
        broken: list[Broken] = []
        for path in self._files():
            try:
                drafts.append(Draft.from_json(json.loads(path.read_text(encoding="utf-8"))))
            except (OSError, ValueError, TypeError) as exc:
                broken.append(Broken(path, _unreadable(exc)))
        drafts.sort(key=lambda d: (d.created_at, d.id))
        return drafts, broken

    def _files(self) -> Iterator[Path]:
        if not self.directory.is_dir():
            return
        for path in sorted(self.directory.iterdir()):
            # Dot files are atomic writes in progress (or left by a crash): not drafts.
            if path.name.startswith(".") or path.suffix != SUFFIX or not path.is_file():
                continue
            yield path


def _unreadable(exc: Exception) -> str:
    """Why a draft file could not be read, for the user."""
    if isinstance(exc, OSError):
        return os_reason(exc)
    if isinstance(exc, TypeError):  # fields of another shape: Draft(**data) refused them
        return _("unexpected fields") if language() != "en" else str(exc)
    return json_reason(exc) if isinstance(exc, ValueError) else str(exc)


# --- sending ----------------------------------------------------------------------------


@dataclass
class Outcome:
    """What happened to one draft: "sent", "failed" (kept, retry later), "rejected"."""

    draft: Draft
    result: Literal["sent", "failed", "rejected"]
    claim: dict[str, Any] | None = None
    error: MoncompteError | None = None


def is_transient(error: MoncompteError) -> bool:
    """Worth trying again later with the same key (the draft stays pending).

    Network failures, 5xx and 429 (NetworkError), and authentication (a new login fixes
    it without changing the claim). Everything else — 404, 409 rule refusals, 422 — is the
    server's final word on this exact request: sending it again would get the same answer.
    """
    if isinstance(error, NetworkError | AuthError):
        return True
    return isinstance(error, RuleError) and error.code in TRANSIENT_CODES


def may_have_arrived(error: MoncompteError) -> bool:
    """Whether a failed request may still have been carried out by the server.

    No when it provably never got there (connection refused) or was refused before any
    work (401, 429, 503 overload or maintenance); yes for timeouts, dropped connections,
    other 5xx, and a request with the same key still in progress.
    """
    if isinstance(error, AuthError):
        return False
    if isinstance(error, NetworkError) and error.outcome is not None:
        # The client followed every attempt: an earlier one may have arrived even when
        # the last was refused (503) or could not connect.
        return error.outcome == "unknown"
    if type(error.__cause__).__name__ in ("ConnectError", "ConnectTimeout"):
        return False
    return error.status not in (429, 503)


def record_failure(draft: Draft, error: MoncompteError, now: dt.datetime) -> bool:
    """Note a failed attempt on the draft; True when it stays pending (transient)."""
    draft.attempts += 1
    draft.last_attempt_at = _stamp(now)
    draft.last_error = error.message
    if is_transient(error):
        draft.maybe_delivered = draft.maybe_delivered or may_have_arrived(error)
        return True
    draft.status = "rejected"
    return False


def deliver(
    draft: Draft,
    client: ApiClient,
    *,
    progress: Callable[[Draft], object] | None = None,
) -> dict[str, Any]:
    """Send the draft's requests in order; return the claim as the server last answered.

    `progress` is called after the claim is created and before the attachments message,
    so a saved draft records that the first step is done. Errors propagate (typed).
    """
    claim: dict[str, Any] | None = None
    if draft.kind == "new" and draft.claim_id is None:
        assert draft.claim is not None and draft.claim_key is not None
        claim = _post(client, "/v1/claims", draft.claim, draft.claim_key)
        draft.claim_id = str(claim["id"])
        if draft.message is not None and progress is not None:
            progress(draft)
    if draft.message is not None:
        assert draft.claim_id is not None and draft.message_key is not None
        claim = _post(
            client, f"/v1/claims/{draft.claim_id}/messages", draft.message, draft.message_key
        )
    if claim is None:  # a resumed "new" draft without attachments: already sent
        assert draft.claim_id is not None
        claim = client.get(f"/v1/claims/{draft.claim_id}")
    assert isinstance(claim, dict)
    return claim


def _post(client: ApiClient, path: str, body: dict[str, Any], key: str) -> dict[str, Any]:
    response = client.check(
        client.send("POST", path, content=body_bytes(body), idempotency_key=key)
    )
    answer = response.json()
    if not isinstance(answer, dict) or "id" not in answer:
        raise MoncompteError(_("{request} did not answer a claim").format(request=f"POST {path}"))

    return answer


def record_interruption(draft: Draft, now: dt.datetime) -> None:
    """Ctrl-C during a send: the request may have been carried out; only its key knows."""
    draft.attempts += 1
    draft.last_attempt_at = _stamp(now)
    draft.last_error = "interrupted"
    draft.maybe_delivered = True


def send_saved(draft: Draft, client: ApiClient, store: DraftStore, now: dt.datetime) -> Outcome:
    """Send a stored draft; delete it after success, record the failure otherwise.

    A rejected draft is kept (marked "rejected") rather than deleted: it holds text the
    user wrote, and they decide to discard it (`claim drafts --discard`).
    """
    try:
        claim = deliver(draft, client, progress=store.save)
    except MoncompteError as exc:
        pending = record_failure(draft, exc, now)
        store.save(draft)
        return Outcome(draft, "failed" if pending else "rejected", error=exc)
    except KeyboardInterrupt:
        record_interruption(draft, now)
        store.save(draft)
        raise
    store.delete(draft.id)
    return Outcome(draft, "sent", claim=claim)


def replay_expired(draft: Draft, now: dt.datetime) -> bool:
    """The server may have forgotten the key of an attempt that possibly arrived."""
    if not draft.maybe_delivered or draft.last_attempt_at is None:
        return False
    last = dt.datetime.fromisoformat(draft.last_attempt_at.replace("Z", "+00:00"))
    return now - last > REPLAY_WINDOW
