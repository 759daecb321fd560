"""Log in (password, with a one-time code when enabled; refresh), log out, who am I."""

from __future__ import annotations

import secrets
from functools import cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import or_, select

from domain.i18n import N_, Text
from server.auth import (
    ACCESS_LIFETIME,
    PrincipalDep,
    clear_login_failures,
    login_blocked_for,
    login_keys,
    record_login_failure,
)
from server.idempotency import IdempotencyKey
from server.models import Customer, Token, User
from server.passwords import hash_password, verify_password
from server.problems import Problem, problem_responses
from server.routes.deps import ClockDep, SessionDep, inline
from server.serializers import MeOut, RevokedOut, TokenOut, customer_out
from server.tokens import hash_token, new_token_pair
from server.totp import verify_totp

router = APIRouter(prefix="/v1", tags=["auth"])


class PasswordGrant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grant_type: Literal["password"]
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)
    otp: str | None = Field(default=None, max_length=16, description="the one-time code")


class RefreshGrant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grant_type: Literal["refresh_token"]
    refresh_token: str = Field(min_length=1, max_length=200)


Grant = Annotated[PasswordGrant | RefreshGrant, Field(discriminator="grant_type")]


class RevokeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str | None = Field(
        default=None,
        max_length=200,
        description="an access or refresh token of the caller; default: the one in use",
    )


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def _unauthorized(code: str, detail: str) -> Problem:
    return Problem(401, code, detail, headers={"WWW-Authenticate": 'Bearer realm="moncompte"'})


def _issue(session: SessionDep, clock: ClockDep, user: User) -> dict[str, Any]:
    now = clock.now()
    access, refresh, row = new_token_pair(session, user, now)
    # A login hands out short-lived access tokens (the refresh token renews them); tokens
    # minted for the sandbox and CI by `server.tokens` may live longer.
    row.access_expires_at = min(row.access_expires_at, now + ACCESS_LIFETIME)
    session.commit()
    return {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "bearer",
        "expires_in": int((row.access_expires_at - now).total_seconds()),
        "scope": user.scope,
    }


@router.post(
    "/auth/token",
    response_model=TokenOut,
    operation_id="create_token",
    summary="Log in: password (+ one-time code) or refresh grant",
    responses=problem_responses(401, 422, 429, 503),
    dependencies=[IdempotencyKey],
)
@inline
def create_token(
    grant: Annotated[Grant, Body()],
    request: Request,
    session: SessionDep,
    clock: ClockDep,
) -> dict[str, Any]:
    if isinstance(grant, RefreshGrant):
        return _refresh(grant, session, clock)

    now = clock.now()
    keys = login_keys(grant.username, request.client.host if request.client else None)
    wait = login_blocked_for(session, keys, now)
    if wait is not None:
        raise Problem(
            429,
            "rate_limited",
            Text(N_("too many failed logins; try again in {seconds} seconds"), seconds=wait),
            headers={"Retry-After": str(wait)},
        )
    user = session.scalars(select(User).where(User.username == grant.username)).first()
    # End the (writer) transaction before the deliberately slow password hash: holding
    # SQLite's write lock for it would queue every other mutation behind each login.
    session.commit()
    # An unknown username costs a hash check too, so timing does not tell which exist.
    stored = user.password_hash if user is not None else _dummy_hash()
    if not verify_password(grant.password, stored) or user is None:
        record_login_failure(session, keys, now)
        raise _unauthorized("invalid_credentials", Text(N_("wrong username or password")))
    if user.otp_secret:
        # Only asked once the password is right, so the question reveals nothing.
        if not grant.otp:
            raise _unauthorized(
                "otp_required",
                Text(N_("this account needs a one-time code: send it in '{field}'"), field="otp"),
            )
        if not verify_totp(user.otp_secret, grant.otp):
            record_login_failure(session, keys, now)
            raise _unauthorized(
                "otp_required",
                Text(N_("the one-time code is wrong or expired: send the current one")),
            )
    clear_login_failures(session, user.username)
    return _issue(session, clock, user)


def _refresh(grant: RefreshGrant, session: SessionDep, clock: ClockDep) -> dict[str, Any]:
    row = session.execute(
        select(Token, User)
        .join(User, User.id == Token.user_id)
        .where(Token.refresh_hash == hash_token(grant.refresh_token))
    ).first()
    if row is None:
        raise _unauthorized(
            "unauthorized", Text(N_("the refresh token is not valid: log in again"))
        )
    token, user = row
    if token.revoked:
        raise _unauthorized(
            "token_revoked", Text(N_("the refresh token was revoked: log in again"))
        )
    if token.refresh_expires_at <= clock.now():
        raise _unauthorized(
            "token_expired", Text(N_("the refresh token has expired: log in again"))
        )
    # Rotation: a refresh token works once, so a stolen copy stops working when the
    # legitimate client refreshes.
    token.revoked = True
    return _issue(session, clock, user)


@router.post(
    "/auth/revoke",
    response_model=RevokedOut,
    operation_id="revoke_token",
    summary="Log out: revoke the access token in use (or the one given) and its refresh token",
    responses=problem_responses(401, 422, 503),
    dependencies=[IdempotencyKey],
)
@inline
def revoke_token(
    principal: PrincipalDep,
    session: SessionDep,
    body: Annotated[RevokeRequest | None, Body()] = None,
) -> dict[str, Any]:
    target = session.get(Token, principal.token_id)
    if body is not None and body.token:
        digest = hash_token(body.token)
        # Only the caller's own tokens; anything else is silently ignored (RFC 7009).
        target = session.scalars(
            select(Token).where(
                Token.user_id == principal.user_id,
                or_(Token.access_hash == digest, Token.refresh_hash == digest),
            )
        ).first()
    if target is not None:
        target.revoked = True
        session.commit()
    return {"revoked": True}


@router.get(
    "/me",
    response_model=MeOut,
    operation_id="get_me",
    summary="Who the token belongs to",
    responses=problem_responses(401, 503),
)
@inline
def get_me(principal: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    customer = session.get(Customer, principal.customer_id) if principal.customer_id else None
    return {
        "username": principal.username,
        "scope": principal.scope,
        "customer": customer_out(customer) if customer is not None else None,
    }
