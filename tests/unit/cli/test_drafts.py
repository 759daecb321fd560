"""The offline claim drafts store (`commands/claim/drafts.py`): files, atomicity, failure
bookkeeping.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from pathlib import Path

import httpx
import pytest

from cli.errors import AuthError, NetworkError, NotFoundError, RuleError, UsageError
from commands.claim import drafts as d

NOW = dt.datetime(2026, 11, 24, 20, 15, 0, tzinfo=dt.UTC)
CLAIM = {
    "category": "billing",
    "subject": "Debit",
    "message": "Twice.",
    "contract_id": None,
    "merchant_contacted": False,
}


def _store(tmp_path: Path) -> d.DraftStore:
    return d.DraftStore(tmp_path / "drafts")


def test_default_folder_follows_xdg_data_home(tmp_path: Path) -> None:
    # the autouse fixture sets XDG_DATA_HOME to the test's own folder
    assert d.drafts_dir() == Path(os.environ["XDG_DATA_HOME"]) / "moncompte" / "drafts"
    assert d.DraftStore().directory == d.drafts_dir()


def test_round_trip_private_file(tmp_path: Path) -> None:
    store = _store(tmp_path)
    draft = d.Draft.new_claim(CLAIM, None, now=NOW)
    path = store.save(draft)
    assert path.name == f"{draft.id}.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    again = store.get(draft.id)
    assert again == draft
    assert again.claim_key and again.claim_key == draft.claim_key  # the key survives
    assert again.message_key is None


def test_each_draft_has_its_own_keys(tmp_path: Path) -> None:
    first = d.Draft.new_claim(CLAIM, {"body": "files", "attachments": []}, now=NOW)
    second = d.Draft.new_claim(CLAIM, None, now=NOW)
    reply = d.Draft.reply("CL-0000001", {"body": "More", "attachments": []}, now=NOW)
    keys = [first.claim_key, first.message_key, second.claim_key, reply.message_key]
    assert len(set(keys)) == 4 and None not in keys
    assert first.id != second.id
    assert first.id.startswith("DR-20261124-201500-")
    assert reply.claim_id == "CL-0000001" and reply.claim is None


def test_body_bytes_is_canonical() -> None:
    a = {"b": 1, "a": "é"}
    b = {"a": "é", "b": 1}
    assert d.body_bytes(a) == d.body_bytes(b) == '{"a":"é","b":1}'.encode()


def test_scan_lists_oldest_first_and_reports_broken_files(tmp_path: Path) -> None:
    store = _store(tmp_path)
    later = d.Draft.new_claim(CLAIM, None, now=NOW + dt.timedelta(minutes=5))
    earlier = d.Draft.reply("CL-1", {"body": "x", "attachments": []}, now=NOW)
    store.save(later)
    store.save(earlier)
    (store.directory / ".DR-20261124-000000-AAAA.json.123.tmp").write_text("{half")
    (store.directory / "DR-20261124-000000-BBBB.json").write_text("{half")
    (store.directory / "README.txt").write_text("not a draft")
    found, broken = store.scan()
    assert [x.id for x in found] == [earlier.id, later.id]
    assert [b.path.name for b in broken] == ["DR-20261124-000000-BBBB.json"]
    assert _store(tmp_path / "nowhere").scan() == ([], [])


def test_ids_cannot_name_other_files(tmp_path: Path) -> None:
    store = _store(tmp_path)
    for bad in ("../secrets", "DR-1/../../x", "", "dr-20261124-000000-aaaa"):
        with pytest.raises(NotFoundError):
            store.get(bad)
    with pytest.raises(NotFoundError):
        store.get("DR-20261124-000000-AAAA")  # well formed, absent


def test_unreadable_or_foreign_drafts_are_refused(tmp_path: Path) -> None:
    good = d.Draft.new_claim(CLAIM, None, now=NOW).to_json()
    cases: tuple[object, ...] = (
        {**good, "version": 99},
        {**good, "claim_key": None},
        {**good, "kind": "other"},
        {**good, "id": "../x"},
        [],
    )
    for broken in cases:
        with pytest.raises((ValueError, TypeError)):
            d.Draft.from_json(broken)


def test_an_interrupted_write_leaves_the_old_draft_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(tmp_path)
    draft = d.Draft.new_claim(CLAIM, None, now=NOW)
    store.save(draft)
    before = store.path(draft.id).read_text()

    def interrupted(src: str, dst: str) -> None:
        raise KeyboardInterrupt  # Ctrl-C between writing the copy and putting it in place

    monkeypatch.setattr(os, "replace", interrupted)
    draft.attempts = 7
    with pytest.raises(KeyboardInterrupt):
        store.save(draft)
    monkeypatch.undo()
    assert store.path(draft.id).read_text() == before
    assert [p.name for p in store.directory.iterdir()] == [f"{draft.id}.json"]


def test_delete_is_idempotent(tmp_path: Path) -> None:
    store = _store(tmp_path)
    draft = d.Draft.new_claim(CLAIM, None, now=NOW)
    store.save(draft)
    store.delete(draft.id)
    store.delete(draft.id)
    assert not store.exists(draft.id)


def _network_error(cause: Exception | None, status: int | None = None) -> NetworkError:
    error = NetworkError("boom", status=status)
    error.__cause__ = cause
    return error


def test_failures_are_sorted_into_retry_later_and_rejected() -> None:
    request = httpx.Request("POST", "http://127.0.0.1/v1/claims")
    refused = _network_error(httpx.ConnectError("refused", request=request))
    timeout = _network_error(httpx.ReadTimeout("slow", request=request))
    overload = _network_error(None, status=503)
    crashed = _network_error(None, status=500)
    cases = [
        (refused, True, False),  # never left this machine
        (timeout, True, True),  # the server may have done it: only the key protects
        (overload, True, False),
        (crashed, True, True),
        (AuthError("expired", status=401), True, False),
        (RuleError("busy", status=409, code="idempotency_in_progress"), True, True),
        (RuleError("merchant", status=409, code="merchant_first"), False, False),
        (NotFoundError("no claim", status=404), False, False),
        (UsageError("bad", status=422, code="validation_error"), False, False),
    ]
    for error, pending, maybe in cases:
        draft = d.Draft.new_claim(CLAIM, None, now=NOW)
        assert d.record_failure(draft, error, NOW) is pending, error
        assert draft.status == ("pending" if pending else "rejected")
        assert draft.maybe_delivered is maybe, error
        assert draft.attempts == 1 and draft.last_error == error.message
        assert draft.last_attempt_at == "2026-11-24T20:15:00Z"


def test_replay_window() -> None:
    draft = d.Draft.new_claim(CLAIM, None, now=NOW)
    request = httpx.Request("POST", "http://127.0.0.1/v1/claims")
    d.record_failure(draft, _network_error(httpx.ReadTimeout("x", request=request)), NOW)
    assert not d.replay_expired(draft, NOW + dt.timedelta(hours=23))
    assert d.replay_expired(draft, NOW + dt.timedelta(hours=25))
    never_left = d.Draft.new_claim(CLAIM, None, now=NOW)
    d.record_failure(never_left, _network_error(httpx.ConnectError("x", request=request)), NOW)
    assert not d.replay_expired(never_left, NOW + dt.timedelta(days=30))


def test_an_interruption_counts_as_maybe_delivered() -> None:
    draft = d.Draft.new_claim(CLAIM, None, now=NOW)
    d.record_interruption(draft, NOW)
    assert (draft.attempts, draft.maybe_delivered, draft.status) == (1, True, "pending")
    assert d.replay_expired(draft, NOW + dt.timedelta(days=2))


def test_summary_has_no_bodies(tmp_path: Path) -> None:
    files = {"body": "files", "attachments": [
        {"filename": "a.png", "content_type": "image/png", "content_base64": "AAAA" * 1000}
    ]}  # fmt: skip
    draft = d.Draft.new_claim(CLAIM, files, now=NOW)
    summary = draft.summary()
    assert summary["attachments"] == ["a.png"]
    assert "AAAA" not in json.dumps(summary) and "Twice." not in json.dumps(summary)
    assert summary["subject"] == "Debit" and summary["category"] == "billing"
