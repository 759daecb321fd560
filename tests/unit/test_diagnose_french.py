"""The findings of the probe evaluations and the summary line, in French: each is the
English sentence as a `str` (what -o json shows) and is worded again with French numbers,
dates and units by `cli.i18n.localized`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from cli import i18n
from cli.i18n import localized
from domain.diagnose import (
    Finding,
    evaluate_cache,
    evaluate_clock,
    evaluate_latency,
    evaluate_maintenance,
    evaluate_tls,
    human_bytes,
    summary_line,
)
from domain.diagnose.findings import join

NOW = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)


@pytest.fixture()
def french() -> Iterator[None]:
    i18n.activate("fr")
    yield
    i18n.activate("en")


def _findings(ok: int, warn: int, fail: int, skip: int) -> list[Finding]:
    statuses = ["ok"] * ok + ["warn"] * warn + ["fail"] * fail + ["skip"] * skip
    return [Finding("local.config", s, "x") for s in statuses]  # type: ignore[arg-type]


def test_summary_line_in_both_languages(french: None) -> None:
    cases = [
        ((3, 0, 1, 0), "3 ok, 0 warnings, 1 failure", "3 ok, 0 avertissement, 1 échec"),
        (
            (9, 7, 4, 1),
            "9 ok, 7 warnings, 4 failures, 1 skipped",
            "9 ok, 7 avertissements, 4 échecs, 1 non vérifiée",
        ),
        (
            (0, 1, 2, 3),
            "0 ok, 1 warning, 2 failures, 3 skipped",
            "0 ok, 1 avertissement, 2 échecs, 3 non vérifiées",
        ),
    ]
    for counts, english, in_french in cases:
        line = summary_line(_findings(*counts))
        assert line == english
        assert localized(line) == in_french


def test_latency_in_french(french: None) -> None:
    f = evaluate_latency([12.4, 3000.0, 8.0, None, 9.6], planned=6)
    assert f.finding == (
        "median 11 ms over 5 requests (min 8, max 3000 ms), 1 lost, 1 not sent for lack of "
        "time (slow, loss)"
    )
    assert localized(f.finding) == (
        "médiane de 11 ms sur 5 requêtes (min 8, max 3000 ms), 1 perdue(s), 1 non envoyée(s) "
        "faute de temps (lent, pertes)"
    )
    assert localized(f.remedy).startswith("la connexion est lente ou instable : ")
    dead = evaluate_latency([None], ["connection refused"])
    assert localized(dead.finding) == "aucune réponse à 1 requête : connection refused"


def test_clock_tls_and_cache_in_french(french: None) -> None:
    assert localized(evaluate_clock(0.4, 0.6).finding) == (
        "horloge locale à moins de 1 s de celle du serveur"
    )
    late = evaluate_clock(400.0)
    assert late.finding == (
        "local clock 6 min 40 s behind the server (tokens and one-time codes may be refused)"
    )
    assert localized(late.finding) == (
        "horloge locale en retard de 6 min 40 s sur le serveur (les jetons et les codes à "
        "usage unique peuvent être refusés)"
    )
    tls = evaluate_tls("TLSv1.3", NOW + timedelta(days=10, hours=1), NOW, "Let's Encrypt")
    assert tls.finding == (
        "TLSv1.3, certificate valid until 2026-12-13 (10 days, issued by Let's Encrypt)"
    )
    assert localized(tls.finding) == (
        "TLSv1.3, certificat valide jusqu'au 13/12/2026 (10 jours, émis par Let's Encrypt)"
    )
    cache = evaluate_cache("/c", 1, 150 * 1024 * 1024)
    assert cache.finding == "cache /c: 1 file, 150.0 MiB (over 100.0 MiB)"
    assert localized(cache.finding) == "cache /c : 1 fichier, 150,0 Mio (plus de 100,0 Mio)"
    assert localized(human_bytes(976)) == "976 o"


def test_maintenance_in_french_keeps_the_service_description(french: None) -> None:
    status = {
        "maintenance": [
            {
                "start": "2026-12-06T01:00:00Z",
                "end": "2026-12-06T04:00:00Z",
                "description": "Scheduled maintenance.",
            }
        ]
    }
    f = evaluate_maintenance(status, NOW)
    assert f.finding == (
        "maintenance announced from 2026-12-06 01:00 UTC to 2026-12-06 04:00 UTC (in 2 days): "
        "Scheduled maintenance."
    )
    assert localized(f.finding) == (
        "maintenance annoncée du 06/12/2026 01:00 UTC au 06/12/2026 04:00 UTC (dans 2 jours) : "
        "Scheduled maintenance."
    )
    during = evaluate_maintenance(status, datetime(2026, 12, 6, 2, 0, tzinfo=UTC))
    assert localized(during.remedy) == "attendez le 06/12/2026 04:00 UTC, puis réessayez"


def test_long_lists_are_cut_in_french(french: None) -> None:
    text = join(["a", "b", "c", "d", "e", "f"])
    assert text == "a; b; c; d; and 2 more"
    assert localized(text) == "a ; b ; c ; d ; et 2 de plus"
