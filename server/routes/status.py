"""Service status: maintenance windows, current terms, support channels (no auth).

`diagnose` reads this before anything else: an announced maintenance explains most
"it does not work" reports, and the support channels go into the ready support file.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from server.models import MaintenanceWindow, ServiceSetting
from server.problems import problem_responses
from server.routes.deps import ClockDep, SessionDep, inline
from server.serializers import StatusOut, utc

router = APIRouter(prefix="/v1", tags=["service"])

# Used when the database has no such setting (a bare schema): the service still answers.
DEFAULTS = {
    "terms_version": "unknown",
    "support_phone": "",
    "support_email": "",
    "support_form_url": "",
    "support_postal_address": "",
    "mediator_name": "Médiateur des communications électroniques",
    "mediator_url": "https://www.mediateur-telecom.fr",
}

# Windows that ended more than this long ago are history, not news.
RECENT = timedelta(days=7)


def settings(session: SessionDep) -> dict[str, str]:
    values = dict(DEFAULTS)
    values.update({row.key: row.value for row in session.scalars(select(ServiceSetting)).all()})
    return values


@router.get(
    "/status",
    response_model=StatusOut,
    operation_id="get_status",
    summary="Service status, maintenance windows, terms version, support channels",
    responses=problem_responses(503),
)
@inline
def get_status(session: SessionDep, clock: ClockDep) -> dict[str, Any]:
    now = clock.now()
    values = settings(session)
    windows = session.scalars(
        select(MaintenanceWindow)
        .where(MaintenanceWindow.end >= now - RECENT)
        .order_by(MaintenanceWindow.start)
    ).all()
    ongoing = any(w.start <= now < w.end for w in windows)
    return {
        "status": "maintenance" if ongoing else "ok",
        "terms_version": values["terms_version"],
        "maintenance": [
            {"start": utc(w.start), "end": utc(w.end), "description": w.description}
            for w in windows
        ],
        "support": {
            "phone": values["support_phone"],
            "email": values["support_email"],
            "form_url": values["support_form_url"],
            "postal_address": values["support_postal_address"],
        },
        "mediator": {"name": values["mediator_name"], "url": values["mediator_url"]},
        "server_time": utc(now),
    }
