"""Problem bodies in the client's language: `detail` and `title` French for a French
Accept-Language, English otherwise; every machine field the same in both; the answer says
its language (Content-Language) and that it depends on the header (Vary).

Against the real sandbox server (and, for the 503, an app of our own under uvicorn), plus
the header parser on its own."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.language import negotiate
from tests.api.conftest import assert_problem, client, seeded_engine, serve
from tests.conftest import TODAY, Sandbox

FRENCH = "fr-FR, fr;q=0.9, en;q=0.5"  # what the CLI sends under a French locale
FRENCH_WRONG_PASSWORD = "nom d'utilisateur ou mot de passe incorrect"
MACHINE = ("type", "status", "code", "rule", "check", "errors")


def both(
    send: Callable[[dict[str, str]], httpx.Response], status: int, code: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(English body, French body) of the same request, after checking what both share."""
    en, fr = send({"Accept-Language": "en"}), send({"Accept-Language": FRENCH})
    bodies = []
    for response, language in ((en, "en"), (fr, "fr")):
        body = assert_problem(response, status, code)
        assert response.headers["content-language"] == language
        assert "accept-language" in response.headers["vary"].lower()
        bodies.append(body)
    english, french = bodies
    for key in MACHINE:
        assert english.get(key) == french.get(key), key
    assert english["detail"] != french["detail"]
    return english, french


def test_not_found(api: httpx.Client) -> None:
    english, french = both(lambda h: api.get("/v1/invoices/INV-NOPE", headers=h), 404, "not_found")
    assert english["detail"] == "no such invoice"
    assert french["detail"] == "aucune facture de ce numéro"
    assert (english["title"], french["title"]) == ("Not Found", "Introuvable")


def test_unknown_endpoint(api: httpx.Client) -> None:
    english, french = both(lambda h: api.get("/v1/nowhere", headers=h), 404, "not_found")
    assert english["detail"] == "no such endpoint: GET /v1/nowhere"
    assert french["detail"] == "aucun point d'accès GET /v1/nowhere"


def test_unauthorized(sandbox: Sandbox) -> None:
    with client(sandbox, None) as anonymous:
        english, french = both(lambda h: anonymous.get("/v1/me", headers=h), 401, "unauthorized")
    assert english["detail"] == "authentication required: send 'Authorization: Bearer <token>'"
    assert french["detail"] == (
        "authentification requise : envoyez 'Authorization: Bearer <token>'"
    )
    assert french["title"] == "Non authentifié"


def test_validation_error(api: httpx.Client) -> None:
    english, french = both(
        lambda h: api.put("/v1/payment-method", json={}, headers=h), 422, "validation_error"
    )
    assert english["detail"] == "body.iban: field required"
    assert french["detail"] == "body.iban : champ obligatoire"
    assert french["title"] == "Requête invalide"
    # The per-field list is for programs: the same in both.
    assert (
        english["errors"]
        == french["errors"]
        == [{"loc": ["body", "iban"], "msg": "field required", "type": "missing"}]
    )


def test_validation_error_of_pydantic_types(api: httpx.Client, refs: dict[str, Any]) -> None:
    contract, n = refs["reschedulable_instalment"]
    path = f"/v1/contracts/{contract}/instalments/{n}/reschedule"
    english, french = both(
        lambda h: api.post(path, json={"to": "2026-13-01"}, headers=h), 422, "validation_error"
    )
    assert english["detail"] == (
        "body.to: input should be a valid date or datetime, month value is outside expected "
        "range of 1-12"
    )
    assert french["detail"] == (
        "body.to : la valeur doit être une date ou un horodatage valide, le mois n'est pas "
        "entre 1 et 12"
    )


def test_rule_refusal_reschedule_too_far(api: httpx.Client, refs: dict[str, Any]) -> None:
    contract, n = refs["reschedulable_instalment"]
    inst = api.get(f"/v1/contracts/{contract}/schedule").json()["instalments"][n - 1]
    original = date.fromisoformat(inst["original_due_date"])
    path = f"/v1/contracts/{contract}/instalments/{n}/reschedule"
    to = (original + timedelta(days=31)).isoformat()
    english, french = both(
        lambda h: api.post(path, json={"to": to}, headers=h), 409, "reschedule_too_far"
    )
    assert english["rule"] == "reschedule.max_delay"
    assert " is more than 30 days after the original due date of instalment " in english["detail"]
    assert " tombe plus de 30 jours après la date initiale de l'échéance " in french["detail"]
    # Dates written out in French: "le 5 janvier 2027", never the English month.
    month = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
             "septembre", "octobre", "novembre", "décembre")[original.month - 1]  # fmt: skip
    assert f"({original.day} {month} {original.year})" in french["detail"]
    assert french["title"] == "Conflit"
    # Refused means unchanged.
    assert api.get(f"/v1/contracts/{contract}/schedule").json()["instalments"][n - 1] == inst


def test_rule_refusal_terminate_twice(api: httpx.Client, refs: dict[str, Any]) -> None:
    contract = refs["terminated_contract"]
    english, french = both(
        lambda h: api.post(f"/v1/contracts/{contract}/termination", json={}, headers=h),
        409,
        "already_terminated",
    )
    assert english["rule"] == "termination.once"
    when = TODAY - timedelta(days=10)
    assert english["detail"] == (
        f"contract {contract} is already terminated (effective {when.day} November 2026)"
    )
    assert french["detail"] == (
        f"le contrat {contract} est déjà résilié (avec effet le {when.day} novembre 2026)"
    )


def test_idempotency_key_refused_by_the_middleware(api: httpx.Client, refs: dict[str, Any]) -> None:
    contract, n = refs["reschedulable_instalment"]
    path = f"/v1/contracts/{contract}/instalments/{n}/reschedule"
    english, french = both(
        lambda h: api.post(
            path, json={"to": "2027-01-01"}, headers={**h, "Idempotency-Key": "k" * 256}
        ),
        422,
        "validation_error",
    )
    assert english["detail"] == "header.Idempotency-Key: must be 1 to 255 characters"
    assert french["detail"] == "header.Idempotency-Key : doit faire de 1 à 255 caractères"


def test_login_rate_limited(fresh_sandbox: Sandbox) -> None:
    def login(headers: dict[str, str]) -> httpx.Response:
        body = {"grant_type": "password", "username": "demo", "password": "wrong"}
        return httpx.post(f"{fresh_sandbox.url}/v1/auth/token", json=body, headers=headers)

    english, french = both(login, 401, "invalid_credentials")
    assert english["detail"] == "wrong username or password"
    assert french["detail"] == FRENCH_WRONG_PASSWORD
    for _ in range(3):
        assert login({}).status_code == 401
    english, french = both(login, 429, "rate_limited")
    assert english["detail"].startswith("too many failed logins; try again in ")
    assert french["detail"].startswith("trop de connexions échouées ; réessayez dans ")
    assert french["title"] == "Trop de requêtes"


def test_overload_503(tmp_path: Path) -> None:
    from server.app import create_app
    from server.embedded import mint_token

    path = tmp_path / "tiny.db"
    engine = seeded_engine(str(path), pool_size=1, max_overflow=0, pool_timeout=0.2)
    token = mint_token(f"sqlite:///{path}", "demo")
    with serve(create_app(engine=engine, today=TODAY)) as url:
        headers = {"Authorization": f"Bearer {token}"}
        held = engine.connect()  # the only connection: every request now waits for it
        try:
            english, french = both(
                lambda h: httpx.get(f"{url}/v1/contracts", headers={**headers, **h}),
                503,
                "unavailable",
            )
        finally:
            held.close()
    assert english["detail"] == "the service is overloaded; retry in a moment"
    assert french["detail"] == "le service est surchargé ; réessayez dans un instant"


def test_success_bodies_do_not_change(api: httpx.Client) -> None:
    english = api.get("/v1/contracts", headers={"Accept-Language": "en"})
    french = api.get("/v1/contracts", headers={"Accept-Language": FRENCH})
    assert english.status_code == french.status_code == 200
    assert english.json() == french.json()
    assert "content-language" not in french.headers


def test_cli_shows_the_server_detail_in_its_language(run_cli: Any) -> None:
    french = run_cli("invoices", "show", "INV-NOPE", env_vars={"LANG": "fr_FR.UTF-8"})
    assert french.exit_code == 4, french.stderr
    assert "introuvable : aucune facture de ce numéro" in french.stderr
    assert "no such invoice" not in french.stderr
    english = run_cli("invoices", "show", "INV-NOPE", env_vars={"LANG": "C"})
    assert english.exit_code == 4, english.stderr
    assert "no such invoice" in english.stderr
    assert "introuvable" not in english.stderr


# --- the header ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "en"),
        ("", "en"),
        ("fr", "fr"),
        ("FR", "fr"),
        ("fr-FR", "fr"),
        ("fr-CA", "fr"),
        ("fr_FR", "fr"),
        ("en", "en"),
        ("en-GB, fr;q=0.9", "en"),
        (FRENCH, "fr"),
        ("en, fr", "en"),  # equal q: the first one written
        ("fr, en", "fr"),
        ("en;q=0.5, fr;q=0.8", "fr"),
        ("de, fr;q=0.1", "fr"),  # German is not offered: the next best
        ("de, es", "en"),
        ("*", "en"),
        ("de, *;q=0.5", "en"),
        ("en;q=0, *", "fr"),  # anything but English
        ("fr;q=0", "en"),  # q=0: not French
        ("fr;q=0, en;q=0", "en"),  # nothing acceptable: the default anyway
        ("fr;q=0.000", "en"),
        ("fr;q=1.000", "fr"),
        ("fr;q=1.5, en;q=0.1", "en"),  # an invalid q-value discards its range
        ("fr;q=abc", "en"),
        ("fr ; q = 0.7 , en;q=0.6", "fr"),
        ("fr;level=1;q=0.9, en;q=0.8", "fr"),
        ("garbage!!, fr", "fr"),
        ("\x00\xff", "en"),
        (",,,;;;", "en"),
        ("fr-" + "x" * 9, "en"),  # a subtag over 8 letters is not a language tag
    ],
)
def test_negotiate(header: str | None, language: str) -> None:
    assert negotiate(header) == language


@given(st.text(max_size=300))
def test_negotiate_never_fails(header: str) -> None:
    assert negotiate(header) in ("en", "fr")


@given(st.lists(st.sampled_from(["fr", "fr-FR", "en", "en-US", "de", "*"]), max_size=6))
def test_negotiate_equal_weights_keep_the_order(tags: list[str]) -> None:
    named = {t.split("-")[0] for t in tags}
    expected = "en"
    for tag in tags:
        language = tag.split("-")[0]
        if language in ("fr", "en"):
            expected = language
            break
        if tag == "*":  # any language not named elsewhere, English first
            left = [lang for lang in ("en", "fr") if lang not in named]
            if left:
                expected = left[0]
                break
    assert negotiate(", ".join(tags)) == expected


def test_negotiate_is_cheap_on_a_huge_header() -> None:
    done = threading.Event()
    result: list[str] = []

    def run() -> None:
        result.append(negotiate("de;q=0.5, " * 200_000 + "fr"))
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(2)
    assert result == ["en"]  # past the first kilobyte nothing is read


def test_the_server_reads_the_cli_catalogue() -> None:
    from server.language import locale_dir, translator

    assert (locale_dir() / "fr" / "LC_MESSAGES" / "moncompte.mo").is_file()
    assert translator("fr").gettext("no such invoice") == "aucune facture de ce numéro"
    assert translator("en").gettext("no such invoice") == "no such invoice"
    assert translator("fr") is translator("fr")  # loaded once


def test_a_problem_built_in_each_language() -> None:
    from domain.i18n import N_, Text
    from server.problems import problem_body

    detail = Text(N_("claim {claim} was already escalated on {date}"), claim="CL-1", date=TODAY)
    english = problem_body(409, "already_escalated", detail, rule="escalation.once")
    french = problem_body(409, "already_escalated", detail, rule="escalation.once", language="fr")
    assert english["detail"] == "claim CL-1 was already escalated on 2026-11-24"
    assert french["detail"] == "la réclamation CL-1 a déjà été transmise au médiateur le 24/11/2026"
    # A plain str (data, or a message not yet made translatable) is kept as it is.
    assert problem_body(400, "bad_request", "as is", language="fr")["detail"] == "as is"
