"""Overload answers 503 + Retry-After, never 500; concurrency does not break the server."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import assert_problem, seeded_engine, serve
from tests.conftest import TODAY, Sandbox


def test_pool_exhaustion_is_503(tmp_path: Path) -> None:
    from server.app import create_app
    from server.embedded import mint_token

    path = tmp_path / "tiny.db"
    engine = seeded_engine(str(path), pool_size=1, max_overflow=0, pool_timeout=0.2)
    token = mint_token(f"sqlite:///{path}", "demo")
    app = create_app(engine=engine, today=TODAY)
    with serve(app) as url:
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{url}/v1/contracts", headers=headers).status_code == 200
        held = engine.connect()  # the only connection: every request now waits for it
        try:
            claim = {"category": "other", "subject": "s", "message": "m"}
            for method, path_, body, extra in [
                ("GET", "/v1/contracts", None, {}),
                ("GET", "/v1/status", None, {}),
                ("POST", "/v1/claims", claim, {}),
                ("POST", "/v1/claims", claim, {"Idempotency-Key": "k"}),
            ]:
                r = httpx.request(method, f"{url}{path_}", headers={**headers, **extra}, json=body)
                assert_problem(r, 503, "unavailable")
                assert int(r.headers["retry-after"]) >= 1
        finally:
            held.close()
        assert httpx.get(f"{url}/v1/contracts", headers=headers).status_code == 200
    engine.dispose()


@pytest.mark.parametrize("concurrency", [64])
def test_many_concurrent_requests(sandbox: Sandbox, concurrency: int) -> None:
    """64 clients at once (the load that broke a default pool): 200 or 503, never 500."""
    barrier = threading.Barrier(concurrency)
    statuses: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(
            base_url=sandbox.url,
            headers={"Authorization": f"Bearer {sandbox.customer_token}"},
            timeout=60,
        ) as c:
            barrier.wait()
            for path in ("/v1/invoices", "/v1/contracts", "/v1/claims"):
                r = c.get(path)
                with lock:
                    statuses.append(r.status_code)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(statuses) == 3 * concurrency
    assert set(statuses) <= {200, 503}, sorted(set(statuses))
    assert statuses.count(200) > len(statuses) // 2
