"""The API's routes, one module per area; `ROUTERS` is what the app mounts, in order."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    # Imported here so that `import server.routes.deps` (used by server.auth) stays light.
    from server.routes import (
        auth,
        bank,
        claims,
        contracts,
        health,
        invoices,
        schedule,
        staff,
        status,
        termination,
    )

    return [
        health.router,
        status.router,
        auth.router,
        contracts.router,
        invoices.router,
        schedule.router,
        bank.router,
        termination.router,
        claims.router,
        staff.router,
    ]
