"""The service status shape: maintenance windows, support contacts, mediator."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel


class MaintenanceOut(BaseModel):
    start: datetime
    end: datetime
    description: str


class SupportOut(BaseModel):
    phone: str
    email: str
    form_url: str
    postal_address: str


class MediatorOut(BaseModel):
    name: str
    url: str


class StatusOut(BaseModel):
    status: Literal["ok", "maintenance"]
    terms_version: str
    maintenance: list[MaintenanceOut]
    support: SupportOut
    mediator: MediatorOut
    server_time: datetime
