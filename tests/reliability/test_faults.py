"""Fault injection: every mutation, through a faulty network, makes one effect or none.

The real CLI runs in-process against a real sandbox server (its database restored to the
seeded state before each scenario), through `FaultProxy` (tests/reliability/faultproxy.py).
For each mutation x fault x position of the fault, the server is then asked directly, not
through the proxy, what happened:

- never two effects: the server carried the mutation out at most once (`executed`: 2xx
  answers that were not idempotent replays) and its state shows at most one change;
- exit 0 only when the effect happened; otherwise exit 6, and the message says which:
  "was not carried out" (provably nothing was done), or "outcome unknown" with the
  command that shows whether it happened (which is then run, and tells the truth);
- a claim is never lost: when `claim new|reply|send` fails it is kept as a draft (same
  Idempotency-Key), and `claim send --all` afterwards makes exactly one claim/message;
- every retry of a mutation carries the Idempotency-Key of its first attempt;
- the exit code is the one the client's retry policy predicts (cli/http.py): documented.

Positions: "first" (the first attempt of the mutation gets the fault), "retry" (the first
attempt is carried out and its answer lost, a dropped connection, so the retry, with the
same key, gets the fault: the effect already exists), "every" (every attempt gets it; only
for faults the client retries). A retry after a first attempt the server never saw looks
the same to the client as "retry", and the same to the server as "first".

    python -m pytest tests/reliability/test_faults.py -q     # figures: see the summary test
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.iban import mask_iban
from tests.conftest import TODAY, Sandbox
from tests.reliability import faultproxy as fp

pytestmark = pytest.mark.slow

NEW_IBAN = "FR7630006000011234567890189"
OLD_CLAIM = "CL-0000001"  # no answer for about 3 months: can be escalated
ANSWERED_CLAIM = "CL-0000002"
INTERNET = "CT-0000001"
PLAN = "CT-0000003"
TIMEOUT_S = 0.5  # --timeout for the scenarios whose fault is a timeout
MAX_ATTEMPTS = 4  # cli/http.py: max_retries = 3

# --- faults and positions ------------------------------------------------------------------

FAULTS: dict[str, fp.Action] = {
    "latency": fp.latency(0.2),
    "slow-response": fp.slow_response(10),
    "stall": fp.stall(10),
    "reset-before": fp.reset_before_request(),
    "reset-after": fp.reset_after_request(),
    "drop-before": fp.drop_before_request(),
    "drop-after": fp.drop_after_request(),
    "500": fp.status(500),
    "502": fp.status(502),
    "503": fp.status(503),
    "503-retry-after": fp.status(503, retry_after=1),
    "429": fp.status(429),
    "429-retry-after": fp.status(429, retry_after=1),
    "429-retry-after-long": fp.status(429, retry_after=120),
    "truncated-head": fp.truncate_response(12),
    "truncated-body": fp.truncate_response(20, in_body=True),
}
# Faults the client retries on a mutation (with its key): the only ones where "every
# attempt" differs from "first". The Retry-After ones are left out of "every" (3 x 1 s).
RETRIED_FAULTS = ("drop-before", "drop-after", "503", "429", "truncated-head", "truncated-body")
POSITIONS = ("first", "retry", "every")


def _attempts(fault: fp.Action, position: str) -> tuple[list[fp.Action], bool]:
    if position == "first":
        return [fault], False
    if position == "retry":
        return [fp.drop_after_request(), fault], False
    return [fault], True


def _client_retries(action: fp.Action) -> bool:
    """cli/http.py's policy for a mutation: RemoteProtocolError, 429 and 503 are retried
    (reusing the key); a Retry-After over 30 s is not waited for."""
    if action.kind in ("drop_before", "drop_after", "truncate"):
        return True
    if action.kind == "status" and action.code in (429, 503):
        return action.retry_after is None or float(action.retry_after) <= 30
    return False


def predict(attempts: list[fp.Action], repeat: bool) -> tuple[int, bool]:
    """(exit code, whether the CLI can know that nothing was done) for this plan."""
    provably_nothing = True
    for n in range(MAX_ATTEMPTS):
        later = attempts[-1] if repeat else fp.pass_()
        action = attempts[n] if n < len(attempts) else later
        if action.kind in ("pass", "latency"):
            return 0, False
        if not (action.kind == "status" and action.code in (429, 503)):
            provably_nothing = False  # the request may have been carried out
        if not _client_retries(action) or n == MAX_ATTEMPTS - 1:
            return 6, provably_nothing
    raise AssertionError("unreachable")


# --- mutations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutation:
    name: str
    method: str
    path: str | re.Pattern[str]  # the request the faults hit
    effect: Callable[[httpx.Client], int]  # the effect as the server's state shows it
    claim: bool = False  # a claim: kept as a draft on failure, completed by `claim send`
    # The command the "outcome unknown" hint names, and how its -o json output tells the
    # effect (not for claims: their draft is the way to complete them).
    check: str | None = None
    check_effect: Callable[[Any], int] | None = None

    def args(self, ctx: Scenario) -> list[str]:
        return ARGS[self.name](ctx)


def _count_claims(api: httpx.Client) -> int:
    return len(api.get("/v1/claims", params={"limit": 500}).raise_for_status().json()["items"])


def _iban_changed(api: httpx.Client) -> int:
    current = api.get("/v1/payment-method").raise_for_status().json()
    return int(current["iban_masked"] == mask_iban(NEW_IBAN))


def _rescheduled(api: httpx.Client) -> int:
    plan = api.get(f"/v1/contracts/{PLAN}/schedule").raise_for_status().json()
    return sum(int(i["rescheduled_count"]) for i in plan["instalments"] if i["number"] == 3)


def _terminated(api: httpx.Client) -> int:
    contract = api.get(f"/v1/contracts/{INTERNET}").raise_for_status().json()
    return int(contract["status"] == "terminated")


def _escalated(api: httpx.Client) -> int:
    claim = api.get(f"/v1/claims/{OLD_CLAIM}").raise_for_status().json()
    return int(claim["status"] == "escalated")


def _new_claims(api: httpx.Client) -> int:
    return _count_claims(api) - 2  # the demo customer has two claims


def _reply_messages(api: httpx.Client) -> int:
    claim = api.get(f"/v1/claims/{ANSWERED_CLAIM}").raise_for_status().json()
    return len(claim["messages"]) - 2  # the claim and its answer


def _attachment_messages(api: httpx.Client) -> int:
    items = api.get("/v1/claims", params={"limit": 500}).raise_for_status().json()["items"]
    count = 0
    for item in items:
        claim = api.get(f"/v1/claims/{item['id']}").raise_for_status().json()
        count += sum(1 for m in claim["messages"] if m.get("attachments"))
    return count


MUTATIONS: dict[str, Mutation] = {
    m.name: m
    for m in (
        Mutation(
            "change-iban",
            "PUT",
            "/v1/payment-method",
            _iban_changed,
            check="moncompte api GET /v1/payment-method",
            check_effect=lambda doc: int(doc["iban_masked"] == mask_iban(NEW_IBAN)),
        ),
        Mutation(
            "reschedule",
            "POST",
            f"/v1/contracts/{PLAN}/instalments/3/reschedule",
            _rescheduled,
            check=f"moncompte schedule {PLAN}",
            check_effect=lambda doc: sum(
                int(i["rescheduled_count"]) for i in _instalments(doc) if i["number"] == 3
            ),
        ),
        Mutation(
            "terminate",
            "POST",
            f"/v1/contracts/{INTERNET}/termination",
            _terminated,
            check=f"moncompte contracts show {INTERNET}",
            check_effect=lambda doc: int(_one(doc)["status"] == "terminated"),
        ),
        Mutation(
            "claim-escalate",
            "POST",
            f"/v1/claims/{OLD_CLAIM}/escalate",
            _escalated,
            check=f"moncompte claim show {OLD_CLAIM}",
            check_effect=lambda doc: int(_one(doc)["status"] == "escalated"),
        ),
        Mutation("claim-new", "POST", "/v1/claims", _new_claims, claim=True),
        # The attachments follow the claim as its second request: the faults hit that one.
        Mutation(
            "claim-new-attach",
            "POST",
            re.compile(r"/v1/claims/CL-[0-9A-Z-]+/messages"),
            _attachment_messages,
            claim=True,
        ),
        Mutation(
            "claim-reply",
            "POST",
            f"/v1/claims/{ANSWERED_CLAIM}/messages",
            _reply_messages,
            claim=True,
        ),
        Mutation("claim-send", "POST", "/v1/claims", _new_claims, claim=True),
    )
}


def _one(doc: Any) -> dict[str, Any]:
    return doc[0] if isinstance(doc, list) else doc


def _instalments(doc: Any) -> list[dict[str, Any]]:
    if isinstance(doc, dict):
        return list(doc.get("instalments") or [])
    return list(doc)


ARGS: dict[str, Callable[[Scenario], list[str]]] = {
    "change-iban": lambda s: ["change-iban", NEW_IBAN, "--yes"],
    "reschedule": lambda s: ["reschedule", PLAN, "3", "--by", "5", "--yes"],
    "terminate": lambda s: ["terminate", INTERNET, "--yes"],
    "claim-escalate": lambda s: ["claim", "escalate", OLD_CLAIM],
    "claim-new": lambda s: ["claim", "new", "-c", "billing", "-s", "Double prélèvement",
                            "-m", "Bonjour, j'ai été prélevée deux fois en novembre."],
    "claim-new-attach": lambda s: ["claim", "new", "-c", "billing", "-s", "Relevé joint",
                                   "-m", "Voir le relevé joint.", "-a", str(s.attachment)],
    "claim-reply": lambda s: ["claim", "reply", ANSWERED_CLAIM, "-m", "Merci, c'est noté."],
    "claim-send": lambda s: ["claim", "send", s.draft_id],
}  # fmt: skip


# --- one scenario --------------------------------------------------------------------------


@dataclass
class Scenario:
    mutation: Mutation
    fault_name: str
    position: str
    box: Sandbox
    proxy: fp.FaultProxy
    tmp: Path
    attachment: Path | None = None
    draft_id: str = ""

    @property
    def id(self) -> str:
        return f"{self.mutation.name}/{self.fault_name}/{self.position}"


@dataclass
class Outcome:
    """What a scenario measured, for the summary."""

    id: str
    exit_code: int
    executed: int
    effect: int
    final_effect: int
    outcome: str  # "done", "none", "unknown"


RESULTS: list[Outcome] = []

SCENARIOS = [
    (m, f, p)
    for m in MUTATIONS
    for f in FAULTS
    for p in POSITIONS
    if p != "every" or f in RETRIED_FAULTS
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, Path]]:
    """One sandbox server for the module, and the seeded database it starts from.

    Every scenario starts from that seeded state: the template is copied back into the
    live database (SQLite's backup API, ~2 ms), the demo token and all. Cheaper than a
    server per scenario (the first request of a new app costs ~100 ms).
    """
    from server import embedded

    folder = tmp_path_factory.mktemp("faults")
    template, live = folder / "template.db", folder / "live.db"
    url, engine = embedded.prepare_database(f"sqlite:///{template}", today=TODAY, seed=True)
    engine.dispose()
    token = embedded.mint_token(url, "demo")
    _copy(template, live)
    running = embedded.start_background(f"sqlite:///{live}", today=TODAY)
    yield Sandbox(running.url, running.database_url, token, "", ""), template
    running.stop()


def _copy(source: Path, target: Path) -> None:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


@pytest.fixture()
def seeded(server: tuple[Sandbox, Path]) -> Sandbox:
    """The server, its data as seeded (whatever earlier scenarios did)."""
    sandbox, template = server
    _copy(template, Path(sandbox.database_url.removeprefix("sqlite:///")))
    return sandbox


def _api(box: Sandbox) -> httpx.Client:
    return httpx.Client(
        base_url=box.url,
        headers={"Authorization": f"Bearer {box.customer_token}"},
        timeout=10,
        transport=httpx.HTTPTransport(verify=False),  # plain http: no CA bundle to load
    )


def _env(url: str, box: Sandbox) -> dict[str, str]:
    return {"MONCOMPTE_API_URL": url, "MONCOMPTE_TOKEN": box.customer_token}


def _targets(proxy: fp.FaultProxy, m: Mutation) -> list[fp.Seen]:
    if isinstance(m.path, str):
        return proxy.requests(m.method, m.path)
    pattern = m.path
    return [r for r in proxy.requests(m.method) if pattern.fullmatch(r.path)]


def _settled(targets: list[fp.Seen], seconds: float = 10.0) -> list[fp.Seen]:
    """The requests once the proxy has the server's answer to each it forwarded.

    A client that gave up (its --timeout of 0.5 s) can return before the server answers
    the proxy: on a loaded machine the server takes longer than that, and counting then
    would see the effect in the database but not yet the executed request."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(
        r.forwarded and r.upstream_status is None for r in targets
    ):
        time.sleep(0.01)
    return targets


def _drafts(tmp_path: Path) -> list[dict[str, Any]]:
    folder = tmp_path / "xdg-data" / "moncompte" / "drafts"
    if not folder.is_dir():
        return []
    return [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(folder.iterdir())
        if p.suffix == ".json" and not p.name.startswith(".")
    ]


@pytest.mark.parametrize(("mutation", "fault", "position"), SCENARIOS,
                         ids=["/".join(s) for s in SCENARIOS])  # fmt: skip
def test_fault(
    mutation: str,
    fault: str,
    position: str,
    seeded: Sandbox,
    run_cli: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The client's backoff, 10 times shorter (base 0.02 s instead of 0.2 s): which errors
    # are retried, how often, with which key, and Retry-After, are unchanged.
    from cli.http import ApiClient

    monkeypatch.setitem(ApiClient.__init__.__kwdefaults__, "backoff_base", 0.02)
    m = MUTATIONS[mutation]
    action = FAULTS[fault]
    attempts, repeat = _attempts(action, position)
    box = seeded
    api = _api(box)
    with fp.FaultProxy(box.url) as proxy:
        s = Scenario(m, fault, position, box, proxy, tmp_path)
        env = _env(proxy.url, box)
        if mutation == "claim-new-attach":
            s.attachment = tmp_path / "releve.txt"
            s.attachment.write_text("Relevé bancaire de novembre\n", encoding="utf-8")
        if mutation == "claim-send":
            saved = run_cli(*ARGS["claim-new"](s), "--offline", env_vars=env)
            assert saved.exit_code == 0, saved.stderr
            s.draft_id = re.search(r"DR-\d{8}-\d{6}-[0-9A-F]{4}", saved.stderr).group(0)  # type: ignore[union-attr]
        before = m.effect(api)
        assert before == 0
        proxy.plan(m.method, m.path, attempts, repeat=repeat)
        timeout = ["--timeout", str(TIMEOUT_S)] if action.kind in ("stall", "slow_response") else []
        started = time.monotonic()
        result = run_cli(*timeout, *m.args(s), env_vars=env)
        elapsed = time.monotonic() - started
        targets = _settled(_targets(proxy, m))
        executed = sum(1 for r in targets if r.executed)
        effect = m.effect(api)
        why = f"{s.id}: exit {result.exit_code}\n{result.stderr}\nrequests: {targets}"

        # Never two effects.
        assert executed <= 1 and effect <= 1, why
        assert effect == executed, why
        # Every attempt of the mutation carried the same Idempotency-Key.
        keys = {r.idempotency_key for r in targets}
        assert len(keys) == 1 and None not in keys, why
        # The exit code and the message say what happened.
        expected_exit, provably_nothing = predict(attempts, repeat)
        assert result.exit_code == expected_exit, why
        if result.exit_code == 0:
            assert effect == 1, why
            outcome = "done"
        else:
            err = result.stderr
            if provably_nothing:
                assert effect == 0, why
                assert "was not carried out" in err and "unknown" not in err, why
                outcome = "none"
            else:
                assert "outcome unknown" in err and "not carried out" not in err, why
                outcome = "unknown"
            if m.claim:
                # Never lost: kept as a draft with its key, then sent once.
                drafts = _drafts(tmp_path)
                assert len(drafts) == 1, why
                assert drafts[0]["maybe_delivered"] is (outcome == "unknown"), why
                if mutation != "claim-send":
                    assert f"saved as draft {drafts[0]['id']}" in err, why
                    assert f"moncompte claim send {drafts[0]['id']}" in err, why
            elif outcome == "unknown":
                assert m.check is not None and f"check with '{m.check}'" in err, why
                shown = run_cli(*m.check.split()[1:], "-o", "json", env_vars=_env(box.url, box))
                assert shown.exit_code == 0, shown.stderr
                assert m.check_effect is not None and m.check_effect(shown.json) == effect, why
        if action.kind == "status" and action.retry_after == "1" and result.exit_code == 0:
            # The retry waited for the server's Retry-After.
            assert targets[-1].at - targets[-2].at >= 0.9, why
            assert elapsed >= 0.9, why

        final_effect = effect
        if m.claim and result.exit_code != 0:
            proxy.clear()
            sent = run_cli("claim", "send", "--all", env_vars=env)
            assert sent.exit_code == 0, f"{why}\n--- claim send --all:\n{sent.stderr}"
            assert _drafts(tmp_path) == [], why
            final_effect = m.effect(api)
            assert final_effect == 1, why  # exactly one claim / message, never zero, never two
            if mutation == "claim-new-attach":
                assert _new_claims(api) == 1, why
            assert sum(1 for r in _targets(proxy, m) if r.executed) == 1, why
            # The draft was sent with the key of the first attempt.
            assert {r.idempotency_key for r in _targets(proxy, m)} == keys, why
        if mutation == "claim-new-attach":
            assert _new_claims(api) == 1, why  # the claim itself, filed once
    api.close()
    RESULTS.append(Outcome(s.id, result.exit_code, executed, effect, final_effect, outcome))


def test_summary(capsys: pytest.CaptureFixture[str]) -> None:
    """The figures of the README: scenarios run, faults survived, effects duplicated."""
    if not RESULTS:
        pytest.skip("run with the scenarios (the whole file)")
    outcomes = Counter(r.outcome for r in RESULTS)
    duplicated = sum(1 for r in RESULTS if r.executed > 1 or r.effect > 1 or r.final_effect > 1)
    lost = sum(1 for r in RESULTS if MUTATIONS[r.id.split("/")[0]].claim and r.final_effect != 1)
    unknown_done = sum(1 for r in RESULTS if r.outcome == "unknown" and r.effect)
    faults = sorted({r.id.split("/")[1] for r in RESULTS}, key=list(FAULTS).index)
    lines = [
        f"fault scenarios run: {len(RESULTS)} of {len(SCENARIOS)} "
        f"({len({r.id.split('/')[0] for r in RESULTS})} mutations, {len(faults)} faults, "
        f"positions {', '.join(POSITIONS)}); all passed",
        f"  exit 0, one effect: {outcomes['done']}; exit 6 'was not carried out' (no effect): "
        f"{outcomes['none']}; exit 6 'outcome unknown' + how to check: {outcomes['unknown']}",
        f"  of the unknown ones, effect done: {unknown_done}, not done: "
        f"{outcomes['unknown'] - unknown_done} (the check command told which, or the draft "
        "completed the claim)",
        f"  effects duplicated: {duplicated}; claims lost: {lost}",
        "  per fault (done/none/unknown):",
    ]
    for fault in faults:
        counts = Counter(r.outcome for r in RESULTS if r.id.split("/")[1] == fault)
        lines.append(
            f"    {fault:<22} {counts['done']:>3} / {counts['none']:>3} / {counts['unknown']:>3}"
        )
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert duplicated == 0 and lost == 0


def test_proxy_actions(sandbox: Sandbox) -> None:
    """What each action looks like to an HTTP client, and what reached the server."""
    seen_by_client = {
        "pass": "200",
        "latency": "200",
        "slow_response": "ReadTimeout",
        "stall": "ReadTimeout",
        "reset_before": "ReadError",
        "reset_after": "ReadError",
        "drop_before": "RemoteProtocolError",
        "drop_after": "RemoteProtocolError",
        "status": "503",
        "truncate": "RemoteProtocolError",
    }
    actions = [fp.pass_(), fp.latency(0.05), fp.slow_response(5), fp.stall(5),
               fp.reset_before_request(), fp.reset_after_request(), fp.drop_before_request(),
               fp.drop_after_request(), fp.status(503, retry_after=7),
               fp.truncate_response(12), fp.truncate_response(20, in_body=True)]  # fmt: skip
    headers = {"Authorization": f"Bearer {sandbox.customer_token}"}
    with (
        fp.FaultProxy(sandbox.url) as proxy,
        httpx.Client(base_url=proxy.url, headers=headers, timeout=0.5) as client,
    ):
        proxy.plan("GET", "/v1/me", actions)
        for action in actions:
            try:
                got = str(client.get("/v1/me").status_code)
            except httpx.TransportError as exc:
                got = type(exc).__name__
            assert got == seen_by_client[action.kind], action
        assert client.get("/v1/me").status_code == 200  # past the plan: pass
        log = proxy.requests("GET", "/v1/me")
    assert [s.forwarded for s in log] == [a.forwards for a in actions] + [True]
    assert proxy.received("GET", "/v1/me") == 8
    assert proxy.executed("GET", "/v1/me") == 8  # 2xx from the server, not replays
