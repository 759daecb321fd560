"""Bearer tokens, scopes and login rate limiting.

A customer token only ever sees its own customer; anything else answers 404 (never 403:
telling "exists but not yours" apart from "does not exist" would let a customer probe
IDs). A staff token has no customer of its own: it reads customers under
`/v1/customers/{customer_id}/...`, and gets 403 on the customer-only routes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.i18n import N_, Text
from server.models import Customer, LoginAttempt, Token, User
from server.problems import Problem, not_found
from server.routes.deps import Clock, ClockDep, SessionDep
from server.tokens import hash_token

# Login rate limiting: a username is locked after this many failures in the window; a
# client address gets a larger allowance because many people may share one (a NAT, an
# office proxy), and one of them mistyping must not lock the others out.
LOGIN_WINDOW = timedelta(minutes=5)
MAX_FAILURES_PER_USERNAME = 5
MAX_FAILURES_PER_CLIENT = 20

# Access tokens from a login expire after an hour; the refresh token renews them.
ACCESS_LIFETIME = timedelta(hours=1)

_bearer = HTTPBearer(
    auto_error=False,
    description="An access token from `POST /v1/auth/token` (valid 1 hour).",
)


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    scope: str  # "customer" | "staff"
    customer_id: str | None
    token_id: int

    @property
    def is_staff(self) -> bool:
        return self.scope == "staff"


def _unauthorized(code: str, detail: str) -> Problem:
    return Problem(401, code, detail, headers={"WWW-Authenticate": 'Bearer realm="moncompte"'})


def lookup_access_token(
    session: Session, token: str, now: datetime
) -> tuple[Token, User] | Problem:
    """The live token and its user, or the 401 problem saying why not."""
    row = session.execute(
        select(Token, User)
        .join(User, User.id == Token.user_id)
        .where(Token.access_hash == hash_token(token))
    ).first()
    if row is None:
        return _unauthorized(
            "unauthorized", Text(N_("the access token is not valid: log in again"))
        )
    tok, user = row
    if tok.revoked:
        return _unauthorized(
            "token_revoked", Text(N_("the access token was revoked: log in again"))
        )
    if tok.access_expires_at <= now:
        return _unauthorized(
            "token_expired",
            Text(N_("the access token has expired: refresh it or log in again")),
        )
    return tok, user


# The bearer credentials alone (no database work): routes that authenticate inside their
# own thread-pool call (the bulk lookup) declare this for the OpenAPI security scheme.
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def principal_from(
    credentials: HTTPAuthorizationCredentials | None, session: Session, clock: Clock
) -> Principal:
    """Who the bearer token belongs to, or the 401 problem (raised)."""
    if credentials is None or not credentials.credentials:
        raise _unauthorized(
            "unauthorized",
            Text(
                N_("authentication required: send '{header}'"),
                header="Authorization: Bearer <token>",
            ),
        )
    found = lookup_access_token(session, credentials.credentials, clock.now())
    if isinstance(found, Problem):
        raise found
    tok, user = found
    return Principal(user.id, user.username, user.scope, user.customer_id, tok.id)


async def get_principal(credentials: BearerDep, session: SessionDep, clock: ClockDep) -> Principal:
    return principal_from(credentials, session, clock)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def require_staff(principal: PrincipalDep) -> Principal:
    """Staff-only collections (`/v1/customers`, `/v1/lookup`): 403 for a customer token.

    These paths have no ID in them, so a 403 reveals nothing a customer could not read in
    the public API documentation. `async`: no I/O, so no hop through the thread pool.
    """
    return check_staff(principal)


def check_staff(principal: Principal) -> Principal:
    if not principal.is_staff:
        raise Problem(403, "forbidden", Text(N_("this endpoint is for support staff only")))
    return principal


StaffDep = Annotated[Principal, Depends(require_staff)]


@dataclass(frozen=True)
class Scope:
    """Whose data a request reads: resolved once, then every query filters on it."""

    customer_id: str
    principal: Principal

    @property
    def staff_view(self) -> bool:
        return self.principal.is_staff


async def customer_scope(request: Request, principal: PrincipalDep, session: SessionDep) -> Scope:
    """Resolve the customer of a request on a customer resource route.

    The same handler serves `/v1/<resource>` (the caller's own customer) and, for staff,
    `/v1/customers/{customer_id}/<resource>` (read only): the path tells which.
    """
    wanted = request.path_params.get("customer_id")
    if wanted is not None:
        # A customer must not learn that staff routes exist for a given ID: 404, as for
        # any other ID outside its scope.
        if not principal.is_staff:
            raise not_found("customer")
        if session.get(Customer, wanted) is None:
            raise not_found("customer")
        _sandbox_fault(request, wanted)
        return Scope(wanted, principal)
    if principal.is_staff or principal.customer_id is None:
        raise Problem(
            403,
            "forbidden",
            Text(
                N_("a staff token has no customer of its own: read a customer's data under {path}"),
                path="/v1/customers/{customer_id}/...",
            ),
        )
    _sandbox_fault(request, principal.customer_id)
    return Scope(principal.customer_id, principal)


def _sandbox_fault(request: Request, customer_id: str) -> None:
    """The sandbox's fault hook (server.faults): 500 for the customers it names."""
    failing: frozenset[str] = getattr(request.app.state, "fail_customers", frozenset())
    if failing and customer_id in failing:
        from server.faults import injected_fault

        raise injected_fault(customer_id)


ScopeDep = Annotated[Scope, Depends(customer_scope)]


# --- login rate limiting -----------------------------------------------------------------


def login_keys(username: str, client: str | None) -> list[str]:
    keys = [f"user:{username.strip().lower()[:150]}"]
    if client:
        keys.append(f"ip:{client}")
    return keys


def _limit_for(key: str) -> int:
    return MAX_FAILURES_PER_USERNAME if key.startswith("user:") else MAX_FAILURES_PER_CLIENT


def login_blocked_for(session: Session, keys: list[str], now: datetime) -> int | None:
    """Seconds to wait before trying again, or None when a login may be tried now."""
    wait: int | None = None
    rows = session.scalars(select(LoginAttempt).where(LoginAttempt.key.in_(keys))).all()
    for row in rows:
        ends = row.window_start + LOGIN_WINDOW
        if row.failures >= _limit_for(row.key) and ends > now:
            seconds = max(1, math.ceil((ends - now).total_seconds()))
            wait = max(wait or 0, seconds)
    return wait


def record_login_failure(session: Session, keys: list[str], now: datetime) -> None:
    """Count one failure against every key, in its own committed transaction.

    Two failures racing to create the same row would violate the primary key: the loser
    retries once as an update.
    """
    for key in keys:
        for _attempt in range(2):
            row = session.get(LoginAttempt, key)
            if row is None:
                session.add(LoginAttempt(key=key, failures=1, window_start=now))
            elif row.window_start + LOGIN_WINDOW <= now:
                row.failures, row.window_start = 1, now
            else:
                row.failures += 1
            try:
                session.commit()
                break
            except IntegrityError:
                session.rollback()


def clear_login_failures(session: Session, username: str) -> None:
    """A successful login forgives the username's failures (not the address's)."""
    session.execute(delete(LoginAttempt).where(LoginAttempt.key == login_keys(username, None)[0]))
