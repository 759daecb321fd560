"""`moncompte claim`, through the CLI against the real sandbox server.

Faults of the network are outside the project and are simulated here: an API URL on a
closed local port, and a tiny local HTTP server that answers 503 to everything.
"""

from __future__ import annotations

import io
import json
import os
import shlex
import socket
import stat
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.app import main
from cli.context import Env
from commands.claim.drafts import body_bytes
from tests.conftest import TODAY

OLD_CLAIM = "CL-0000001"  # written about 3 months ago, never answered: mediator possible
ANSWERED_CLAIM = "CL-0000002"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
MIB = 1024 * 1024


# --- helpers -------------------------------------------------------------------------------


def _mutable(box: Any) -> dict[str, str]:
    return {"MONCOMPTE_API_URL": box.url, "MONCOMPTE_TOKEN": box.customer_token}


def _claims(box: Any) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{box.url}/v1/claims",
        params={"limit": 500},
        headers={"Authorization": f"Bearer {box.customer_token}"},
    )
    response.raise_for_status()
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _claim(box: Any, claim_id: str) -> dict[str, Any]:
    response = httpx.get(
        f"{box.url}/v1/claims/{claim_id}",
        headers={"Authorization": f"Bearer {box.customer_token}"},
    )
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


def _drafts_dir() -> Path:
    # the autouse fixture points XDG_DATA_HOME at the test's own folder
    return Path(os.environ["XDG_DATA_HOME"]) / "moncompte" / "drafts"


def _draft_files() -> list[Path]:
    folder = _drafts_dir()
    return sorted(folder.iterdir()) if folder.is_dir() else []


@pytest.fixture()
def dead_url() -> str:
    """A loopback URL where nothing listens: every connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture()
def unavailable_url() -> Iterator[str]:
    """A local server that answers 503 (maintenance) to every request."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            body = json.dumps(
                {"type": "about:blank", "title": "Service Unavailable", "status": 503,
                 "detail": "maintenance", "code": "unavailable"}
            ).encode()  # fmt: skip
            self.send_response(503)
            self.send_header("Content-Type", "application/problem+json")
            self.send_header("Retry-After", "0")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer  # noqa: N815

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run_on_terminal(
    box: Any, config_dir: Path, *args: str, typed: str = "", extra: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """Run with every stream on a terminal; `typed` is what the user types at prompts."""
    env = Env(
        stdin=_Tty(typed),
        stdout=_Tty(),
        stderr=_Tty(),
        environ={
            **_mutable(box),
            "MONCOMPTE_CONFIG_DIR": str(config_dir),
            "MONCOMPTE_TODAY": TODAY.isoformat(),
            "LANG": "C.UTF-8",
            "NO_COLOR": "1",
            **(extra or {}),
        },
    )
    code = main(list(args), env)
    return code, env.stdout.getvalue(), env.stderr.getvalue()  # type: ignore[attr-defined]


# --- claim new ------------------------------------------------------------------------------


def test_new_with_message(run_cli: Any, fresh_sandbox: Any) -> None:
    env = _mutable(fresh_sandbox)
    before = len(_claims(fresh_sandbox))
    result = run_cli(
        "claim", "new", "--category", "billing", "--subject", "Double debit",
        "--message", "I was debited twice in November.", "--contract", "CT-0000001",
        "-o", "json", env_vars=env,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    claim = result.json
    assert claim["status"] == "open" and claim["contract_id"] == "CT-0000001"
    assert claim["messages"][0]["body"] == "I was debited twice in November."
    assert claim["mediator_from"] == "2027-01-24"  # two months after today
    assert len(_claims(fresh_sandbox)) == before + 1
    assert f"claim {claim['id']} filed" in result.stderr
    assert _draft_files() == []


def test_new_with_message_file_and_stdin(run_cli: Any, fresh_sandbox: Any, tmp_path: Path) -> None:
    env = _mutable(fresh_sandbox)
    letter = tmp_path / "message.txt"
    letter.write_text("Écrit dans un fichier.\nDeuxième ligne.\n", encoding="utf-8")
    from_file = run_cli(
        "claim", "new", "-c", "technical", "-s", "Box", "--message-file", str(letter),
        "-o", "json", env_vars=env,
    )  # fmt: skip
    assert from_file.exit_code == 0, from_file.stderr
    assert from_file.json["messages"][0]["body"] == "Écrit dans un fichier.\nDeuxième ligne."
    from_stdin = run_cli(
        "claim", "new", "-c", "technical", "-s", "Box", "--message-file", "-", "-o", "json",
        env_vars=env, stdin="Read from stdin\n",
    )  # fmt: skip
    assert from_stdin.exit_code == 0, from_stdin.stderr
    assert from_stdin.json["messages"][0]["body"] == "Read from stdin"


def test_new_opens_the_editor_on_a_terminal(fresh_sandbox: Any, tmp_path: Path) -> None:
    script = tmp_path / "editor.py"
    script.write_text(
        "import sys\n"
        "path = sys.argv[1]\n"
        "old = open(path, encoding='utf-8').read()\n"
        "open(path, 'w', encoding='utf-8').write('Typed in the editor.\\n' + old)\n"
    )
    editor = f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"
    code, out, err = _run_on_terminal(
        fresh_sandbox, tmp_path, "claim", "new", "-c", "other", "-s", "Editor", "-o", "json",
        extra={"EDITOR": editor, "VISUAL": ""},
    )  # fmt: skip
    assert code == 0, err
    body = json.loads(out)["messages"][0]["body"]
    assert body == "Typed in the editor."  # the template's comment lines are dropped


def test_new_without_message_and_terminal(run_cli: Any, fresh_sandbox: Any) -> None:
    before = len(_claims(fresh_sandbox))
    result = run_cli(
        "claim", "new", "-c", "billing", "-s", "No text", env_vars=_mutable(fresh_sandbox)
    )
    assert result.exit_code == 2
    assert "--message" in result.stderr
    empty = run_cli(
        "claim", "new", "-c", "billing", "-s", "Blank", "-m", "  ",
        env_vars=_mutable(fresh_sandbox),
    )  # fmt: skip
    assert empty.exit_code == 2 and "empty" in empty.stderr
    unknown = run_cli("claim", "new", "-c", "refund", "-s", "x", "-m", "x")
    assert unknown.exit_code == 2 and "billing" in unknown.stderr  # lists the categories
    assert len(_claims(fresh_sandbox)) == before


def test_new_with_attachments(run_cli: Any, fresh_sandbox: Any, tmp_path: Path) -> None:
    shot = tmp_path / "screenshot.png"
    shot.write_bytes(PNG)
    proof = tmp_path / "proof-of-deposit.pdf"
    proof.write_bytes(PDF + b"x" * (5 * MIB - len(PDF)))  # exactly 5 MiB: accepted
    notes = tmp_path / "notes"  # no extension: recognised as text by its content
    notes.write_text("serial BX4G-7731-0429\n")
    before = len(_claims(fresh_sandbox))
    result = run_cli(
        "claim", "new", "-c", "delivery", "-s", "Parcel", "-m", "See attached.",
        "--attach", str(shot), "-a", str(proof), "-a", str(notes), "-o", "json",
        env_vars=_mutable(fresh_sandbox),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert len(_claims(fresh_sandbox)) == before + 1  # one claim, the files in a message
    files = [a for m in result.json["messages"] for a in m["attachments"]]
    assert [(f["filename"], f["content_type"], f["size"]) for f in files] == [
        ("screenshot.png", "image/png", len(PNG)),
        ("proof-of-deposit.pdf", "application/pdf", 5 * MIB),
        ("notes", "text/plain", len("serial BX4G-7731-0429\n")),
    ]


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("big.pdf", PDF + b"x" * (5 * MIB + 1 - len(PDF)), "5 MiB"),
        ("photo.pdf", PNG, "its name says PDF but its content is PNG"),
        ("invoice.png", b"just text pretending", "its name says PNG but its content is text"),
        ("program.txt", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "none of these"),
        ("archive.zip", b"PK\x03\x04\x14\x00\x00\x00", "none of these"),
        ("empty.txt", b"", "empty"),
    ],
)
def test_bad_attachments_are_refused_before_sending(
    run_cli: Any, fresh_sandbox: Any, tmp_path: Path, name: str, content: bytes, why: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    before = len(_claims(fresh_sandbox))
    result = run_cli(
        "claim", "new", "-c", "other", "-s", "Bad file", "-m", "x", "-a", str(path),
        env_vars=_mutable(fresh_sandbox),
    )  # fmt: skip
    assert result.exit_code == 2
    assert why in result.stderr and name in result.stderr
    assert result.stderr.count("\n") <= 2  # one clear line (and a hint), no traceback
    assert len(_claims(fresh_sandbox)) == before
    missing = run_cli("claim", "new", "-c", "other", "-s", "x", "-m", "x", "-a", "nope.pdf")
    assert missing.exit_code == 2 and "no such file" in missing.stderr


def test_merchant_first_without_a_terminal(run_cli: Any, fresh_sandbox: Any) -> None:
    env = _mutable(fresh_sandbox)
    before = len(_claims(fresh_sandbox))
    refused = run_cli(
        "claim", "new", "-c", "order_not_received", "-s", "Mattress", "-m", "Not delivered",
        env_vars=env,
    )  # fmt: skip
    assert refused.exit_code == 2
    assert "--merchant-contacted" in refused.stderr and "merchant" in refused.stderr
    assert len(_claims(fresh_sandbox)) == before
    accepted = run_cli(
        "claim", "new", "-c", "not_as_ordered", "-s", "Wrong size", "-m", "140 instead of 160",
        "--merchant-contacted", "--contract", "CT-0000003", "-o", "json", env_vars=env,
    )  # fmt: skip
    assert accepted.exit_code == 0, accepted.stderr
    assert len(_claims(fresh_sandbox)) == before + 1


def test_merchant_first_on_a_terminal(fresh_sandbox: Any, tmp_path: Path) -> None:
    before = len(_claims(fresh_sandbox))
    args = ("claim", "new", "-c", "order_not_received", "-s", "Parcel", "-m", "Never came")
    code, _out, err = _run_on_terminal(fresh_sandbox, tmp_path, *args, typed="n\n")
    assert code == 5
    assert "contact the merchant first" in err and "claims.merchant_first" in err
    assert len(_claims(fresh_sandbox)) == before
    code, out, err = _run_on_terminal(fresh_sandbox, tmp_path, *args, typed="y\n")
    assert code == 0, err
    assert err.index("contact the merchant first") < err.index("Have you contacted the merchant")
    assert len(_claims(fresh_sandbox)) == before + 1


# --- list, show, reply -----------------------------------------------------------------------


def test_list_table_and_json(run_cli: Any) -> None:
    table = run_cli("claim", "list")
    assert table.exit_code == 0, table.stderr
    assert table.lines[0].split()[:3] == ["claim", "status", "category"]
    assert any(line.startswith(OLD_CLAIM) for line in table.lines)
    data = run_cli("claim", "list", "-o", "json").json
    by_id = {c["id"]: c for c in data}
    assert by_id[OLD_CLAIM]["mediator_from"] == "2026-10-21"
    assert by_id[OLD_CLAIM]["mediator_until"] == "2027-08-21"
    assert by_id[ANSWERED_CLAIM]["last_answer_on"] == "2026-11-18"
    french = run_cli("claim", "list", "-o", "json", env_vars={"LANG": "fr_FR.UTF-8"})
    assert french.json == data


def test_show(run_cli: Any) -> None:
    result = run_cli("claim", "show", ANSWERED_CLAIM)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Mediator possible from:" in out and "2027-01-16" in out
    assert "Mediator to be seized before:" in out and "2027-11-16" in out
    assert "customer" in out and "support" in out and "geste commercial" in out
    raw = run_cli("claim", "show", ANSWERED_CLAIM, "-o", "json").json
    assert [m["author"] for m in raw["messages"]] == ["customer", "support"]
    assert run_cli("claim", "show", "CL-9999999").exit_code == 4


def test_show_messages_in_french(run_cli: Any) -> None:
    raw = run_cli("claim", "show", ANSWERED_CLAIM, "-o", "json").json
    french = run_cli("claim", "show", ANSWERED_CLAIM, env_vars={"LANG": "fr_FR.UTF-8"})
    assert french.exit_code == 0, french.stderr
    first = raw["messages"][0]["sent_at"]  # 2026-11-09T18:40:00Z
    day, time = first[8:10] + "/" + first[5:7] + "/" + first[:4], first[11:16]
    assert f"{day} {time}" in french.stdout and first not in french.stdout
    rows = [line.split() for line in french.lines if line.startswith(day)]
    assert rows and rows[0][2] == "client"
    assert "service client" in french.stdout and "support " not in french.stdout


def test_reply_with_attachment(run_cli: Any, fresh_sandbox: Any, tmp_path: Path) -> None:
    receipt = tmp_path / "deposit.pdf"
    receipt.write_bytes(PDF)
    result = run_cli(
        "claim", "reply", ANSWERED_CLAIM, "-m", "Here is the proof of deposit.", "-a",
        str(receipt), env_vars=_mutable(fresh_sandbox),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    claim = _claim(fresh_sandbox, ANSWERED_CLAIM)
    last = claim["messages"][-1]
    assert last["body"] == "Here is the proof of deposit."
    assert last["attachments"] == [
        {"filename": "deposit.pdf", "content_type": "application/pdf", "size": len(PDF)}
    ]
    assert claim["status"] == "open"  # back in support's court
    shown = run_cli("claim", "show", ANSWERED_CLAIM, env_vars=_mutable(fresh_sandbox))
    assert "deposit.pdf (PDF, " in shown.stdout
    from_file = tmp_path / "reply.txt"
    from_file.write_text("Second reply.\n")
    again = run_cli(
        "claim", "reply", ANSWERED_CLAIM, "--message-file", str(from_file),
        env_vars=_mutable(fresh_sandbox),
    )  # fmt: skip
    assert again.exit_code == 0, again.stderr
    assert _claim(fresh_sandbox, ANSWERED_CLAIM)["messages"][-1]["body"] == "Second reply."


# --- escalate, letter --------------------------------------------------------------------------


def test_escalate_too_early_names_the_date(run_cli: Any, fresh_sandbox: Any) -> None:
    env = _mutable(fresh_sandbox)
    new = run_cli("claim", "new", "-c", "billing", "-s", "Recent", "-m", "x", "-o", "json",
                  env_vars=env)  # fmt: skip
    claim_id = new.json["id"]
    result = run_cli("claim", "escalate", claim_id, env_vars=env)
    assert result.exit_code == 5
    assert "escalation_too_early" in result.stderr and "escalation.two_months" in result.stderr
    assert "from 2027-01-24" in result.stderr  # the claim of 2026-11-24 + 2 months
    assert _claim(fresh_sandbox, claim_id)["status"] == "open"


def test_escalate_the_old_unanswered_claim(run_cli: Any, fresh_sandbox: Any) -> None:
    env = _mutable(fresh_sandbox)
    result = run_cli("claim", "escalate", OLD_CLAIM, env_vars=env)
    assert result.exit_code == 0, result.stderr
    assert "Médiateur des communications électroniques" in result.stdout
    assert "https://www.mediateur-telecom.fr" in result.stdout
    assert "before 2027-08-21" in result.stdout  # one year after the claim of 2026-08-21
    assert _claim(fresh_sandbox, OLD_CLAIM)["status"] == "escalated"
    again = run_cli("claim", "escalate", OLD_CLAIM, "-o", "json", env_vars=env)
    assert again.exit_code == 5 and "already_escalated" in again.stderr


def test_escalate_as_json(run_cli: Any, fresh_sandbox: Any) -> None:
    result = run_cli("claim", "escalate", OLD_CLAIM, "-o", "json", env_vars=_mutable(fresh_sandbox))
    assert result.exit_code == 0, result.stderr
    assert result.json["status"] == "escalated"
    assert result.json["escalated_on"] == TODAY.isoformat()
    assert result.json["mediator"]["url"] == "https://www.mediateur-telecom.fr"


def test_letter_text_and_pdf(run_cli: Any, tmp_path: Path) -> None:
    text = run_cli("claim", "letter", OLD_CLAIM)
    assert text.exit_code == 0, text.stderr
    assert "Claire Dubois" in text.stdout and OLD_CLAIM in text.stdout
    assert "LETTRE RECOMMANDÉE AVEC ACCUSÉ DE RÉCEPTION" in text.stdout
    pdf = run_cli("claim", "letter", OLD_CLAIM, "--format", "pdf")
    assert pdf.exit_code == 0, pdf.stderr
    assert pdf.stdout_bytes.startswith(b"%PDF-")
    on_terminal = run_cli("claim", "letter", OLD_CLAIM, "--format", "pdf", tty=True)
    assert on_terminal.exit_code == 2 and "--to" in on_terminal.stderr
    assert on_terminal.stdout_bytes == b""
    target = tmp_path / "letters" / "letter.pdf"
    target.parent.mkdir()
    to_file = run_cli("claim", "letter", OLD_CLAIM, "--format", "pdf", "--to", str(target),
                      tty=True)  # fmt: skip
    assert to_file.exit_code == 0, to_file.stderr
    assert target.read_bytes().startswith(b"%PDF-")
    assert [p.name for p in target.parent.iterdir()] == ["letter.pdf"]  # no temporary left
    assert run_cli("claim", "letter", OLD_CLAIM, "--format", "docx").exit_code == 2


# --- drafts ------------------------------------------------------------------------------------


def _offline_new(run_cli: Any, url: str, token: str, *extra: str) -> Any:
    return run_cli(
        "claim", "new", "-c", "billing", "-s", "Written offline", "-m", "Sent later.", *extra,
        env_vars={"MONCOMPTE_API_URL": url, "MONCOMPTE_TOKEN": token},
    )  # fmt: skip


def test_a_claim_that_cannot_be_sent_becomes_a_draft(
    run_cli: Any, fresh_sandbox: Any, dead_url: str
) -> None:
    before = len(_claims(fresh_sandbox))
    failed = _offline_new(run_cli, dead_url, fresh_sandbox.customer_token)
    assert failed.exit_code == 6
    assert "saved as draft DR-" in failed.stderr and "claim send" in failed.stderr
    [path] = _draft_files()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    listed = run_cli("claim", "drafts", "-o", "json")
    assert listed.exit_code == 0, listed.stderr
    [draft] = listed.json
    assert draft["status"] == "pending" and draft["subject"] == "Written offline"
    assert draft["attempts"] == 1 and "cannot connect" in draft["last_error"]
    table = run_cli("claim", "drafts")
    assert draft["id"] in table.stdout

    env = _mutable(fresh_sandbox)
    sent = run_cli("claim", "send", "--all", env_vars=env)
    assert sent.exit_code == 0, sent.stderr
    assert draft["id"] in sent.stdout and "sent" in sent.stdout
    assert len(_claims(fresh_sandbox)) == before + 1
    assert _draft_files() == []
    again = run_cli("claim", "send", "--all", env_vars=env)
    assert again.exit_code == 0
    assert "no drafts to send" in again.stderr
    assert len(_claims(fresh_sandbox)) == before + 1


def test_a_503_also_makes_a_draft(run_cli: Any, fresh_sandbox: Any, unavailable_url: str) -> None:
    result = _offline_new(run_cli, unavailable_url, fresh_sandbox.customer_token)
    assert result.exit_code == 6
    assert "service unavailable" in result.stderr and "draft" in result.stderr
    assert len(_draft_files()) == 1
    reply = run_cli(
        "claim", "reply", OLD_CLAIM, "-m", "Any news?",
        env_vars={"MONCOMPTE_API_URL": unavailable_url},
    )  # fmt: skip
    assert reply.exit_code == 6
    assert len(_draft_files()) == 2
    # a send that fails again keeps both drafts, with the same keys
    keys = sorted(json.loads(p.read_text())["message_key"] or "" for p in _draft_files())
    retry = run_cli("claim", "send", "--all", env_vars={"MONCOMPTE_API_URL": unavailable_url})
    assert retry.exit_code == 6
    assert sorted(json.loads(p.read_text())["message_key"] or "" for p in _draft_files()) == keys
    done = run_cli("claim", "send", "--all", env_vars=_mutable(fresh_sandbox))
    assert done.exit_code == 0, done.stderr
    assert _claim(fresh_sandbox, OLD_CLAIM)["messages"][-1]["body"] == "Any news?"
    assert _draft_files() == []


def test_a_lost_answer_still_makes_one_claim(
    run_cli: Any, fresh_sandbox: Any, dead_url: str
) -> None:
    """The first send reached the server but its answer was lost: the key replays it."""
    before = len(_claims(fresh_sandbox))
    assert _offline_new(run_cli, dead_url, fresh_sandbox.customer_token).exit_code == 6
    [path] = _draft_files()
    draft = json.loads(path.read_text())
    first = httpx.post(
        f"{fresh_sandbox.url}/v1/claims",
        content=body_bytes(draft["claim"]),
        headers={
            "Authorization": f"Bearer {fresh_sandbox.customer_token}",
            "Content-Type": "application/json",
            "Idempotency-Key": draft["claim_key"],
        },
    )
    assert first.status_code == 201
    assert len(_claims(fresh_sandbox)) == before + 1
    sent = run_cli("claim", "send", draft["id"], "-o", "json",
                   env_vars=_mutable(fresh_sandbox))  # fmt: skip
    assert sent.exit_code == 0, sent.stderr
    assert sent.json == [
        {"draft": draft["id"], "result": "sent", "claim": first.json()["id"], "detail": None}
    ]
    assert len(_claims(fresh_sandbox)) == before + 1
    assert _draft_files() == []


def test_offline_draft_with_attachments(run_cli: Any, fresh_sandbox: Any, tmp_path: Path) -> None:
    shot = tmp_path / "screen.png"
    shot.write_bytes(PNG)
    env = _mutable(fresh_sandbox)
    before = len(_claims(fresh_sandbox))
    saved = run_cli(
        "claim", "new", "-c", "technical", "-s", "No sync", "-m", "LED is red.", "-a", str(shot),
        "--offline", "-o", "json", env_vars=env,
    )  # fmt: skip
    assert saved.exit_code == 0, saved.stderr
    assert saved.json["attachments"] == ["screen.png"]
    shot.write_bytes(PNG + b"changed since")  # the draft holds the file as it was
    assert len(_claims(fresh_sandbox)) == before
    sent = run_cli("claim", "send", saved.json["id"], env_vars=env)
    assert sent.exit_code == 0, sent.stderr
    claims = _claims(fresh_sandbox)
    assert len(claims) == before + 1
    newest = next(c for c in claims if c["subject"] == "No sync")
    assert newest["messages"][-1]["attachments"][0]["size"] == len(PNG)


def test_a_rejected_draft_is_kept_and_can_be_discarded(run_cli: Any, fresh_sandbox: Any) -> None:
    env = _mutable(fresh_sandbox)
    saved = run_cli("claim", "reply", "CL-9999999", "-m", "Hello?", "--offline", "-o", "json",
                    env_vars=env)  # fmt: skip
    assert saved.exit_code == 0, saved.stderr
    draft_id = saved.json["id"]
    sent = run_cli("claim", "send", "--all", env_vars=env)
    assert sent.exit_code == 4  # the claim does not exist: the server's final word
    assert "rejected" in sent.stdout
    [row] = run_cli("claim", "drafts", "-o", "json").json
    assert row["status"] == "rejected" and row["id"] == draft_id
    skipped = run_cli("claim", "send", "--all", env_vars=env)
    assert skipped.exit_code == 0 and "1 rejected draft(s) skipped" in skipped.stderr
    gone = run_cli("claim", "drafts", "--discard", draft_id)
    assert gone.exit_code == 0
    assert _draft_files() == []
    assert run_cli("claim", "drafts", "--discard", draft_id).exit_code == 4
    assert run_cli("claim", "send", "../../etc/passwd").exit_code == 4
    assert run_cli("claim", "send").exit_code == 2  # neither an ID nor --all
