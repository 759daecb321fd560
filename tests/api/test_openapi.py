"""The committed OpenAPI document is the app's: a test fails when they drift."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.conftest import Sandbox

COMMITTED = Path(__file__).resolve().parents[2] / "server" / "openapi.json"
REGENERATE = (
    "server/openapi.json is stale: regenerate it with `python -m server openapi > "
    'server/openapi.json` (or `python -c "from server.app import openapi_document; '
    "print(openapi_document(), end='')\" > server/openapi.json`) and commit it"
)


def test_committed_document_is_current() -> None:
    from server.app import create_app, openapi_document

    text = COMMITTED.read_text(encoding="utf-8")
    assert text == openapi_document(), REGENERATE
    # The same document as the one the running app serves, whatever its database.
    assert json.loads(text) == create_app("sqlite://").openapi(), REGENERATE


def test_document_form() -> None:
    text = COMMITTED.read_text(encoding="utf-8")
    assert text.endswith("}\n") and not text.endswith("\n\n")
    document = json.loads(text)
    assert json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n" == text
    assert "Problem" in document["components"]["schemas"]
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_served_document_matches(sandbox: Sandbox) -> None:
    served = httpx.get(f"{sandbox.url}/openapi.json").json()
    assert served == json.loads(COMMITTED.read_text(encoding="utf-8")), REGENERATE


def test_every_mutation_documents_idempotency_key_and_problems() -> None:
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method in ("post", "put"):
                names = {p["name"] for p in operation.get("parameters", [])}
                assert "Idempotency-Key" in names, (method, path)
            for status, answer in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert "application/problem+json" in answer["content"], (method, path)
