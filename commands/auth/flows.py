"""How `login` gets its credential: the store it goes to, the username, the password, a
token read from stdin, and the password grant (asking for a one-time code when needed)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from cli.context import Env
from cli.credentials import CredentialStore, KeyringStore, Tokens, expires_at_from
from cli.errors import AuthError, MoncompteError, UsageError, register_secret
from cli.i18n import _

if TYPE_CHECKING:
    from cli.http import ApiClient

OTP_REQUIRED = "otp_required"
TOKEN_PATH = "/v1/auth/token"


def login_store(env: Env, insecure: bool) -> CredentialStore:
    if insecure:
        return env.credentials("file")
    store = env.credentials("keyring")
    if isinstance(store, KeyringStore):
        store.check()
    return store


def token_from_stdin(env: Env, client: ApiClient) -> Tokens:
    token = env.read_stdin().strip()
    if not token:
        raise UsageError(_("--with-token: no token on stdin"))
    register_secret(token)
    client.use_tokens(Tokens(access_token=token))
    me = client.get("/v1/me")
    return Tokens(
        access_token=token,
        api_url=client.base_url,
        username=me.get("username"),
        scope=me.get("scope"),
    )


def resolve_username(env: Env, given: str | None) -> str:
    if given:
        return given
    remembered = env.config.get(env.profile, "username")
    if isinstance(remembered, str) and remembered:
        return remembered
    if env.can_prompt:
        answer = env.prompt(_("Username: ")).strip()
        if answer:
            return answer
    raise UsageError(
        _("no username given"),
        hint=_(
            "give --username NAME (with --password-stdin without a terminal), or use --with-token"
        ),
    )


def read_password(env: Env, from_stdin: bool) -> str:
    if from_stdin:
        lines = env.read_stdin().splitlines()
        password = lines[0] if lines else ""
    else:
        password = env.prompt(_("Password: "), secret=True, flag="--password-stdin")
    register_secret(password)
    if not password:
        raise UsageError(_("empty password"))
    return password


def password_login(
    env: Env, client: ApiClient, username: str, password: str, otp: str | None
) -> Tokens:
    body: dict[str, Any] = {
        "grant_type": "password",
        "username": username,
        "password": password,
        "otp": otp,
    }
    # No automatic retry: a refused or rate-limited login must not be hammered.
    try:
        answer = client.request("POST", TOKEN_PATH, json=body, auth=False, retry=False)
    except AuthError as exc:
        if exc.code != OTP_REQUIRED or otp:
            raise AuthError(
                _("login refused: {detail}").format(
                    detail=exc.detail or _("wrong username or password")
                ),
                hint=None,
                code=exc.code,
                status=exc.status,
            ) from None
        body["otp"] = env.prompt(_("One-time code: "), flag="--otp CODE").strip()
        answer = client.request("POST", TOKEN_PATH, json=body, auth=False, retry=False)
    if not isinstance(answer, dict) or not answer.get("access_token"):
        raise MoncompteError(_("the server answered the login without a token"))

    return Tokens(
        access_token=str(answer["access_token"]),
        refresh_token=answer.get("refresh_token"),
        # Real time, not env.now(): expires_in is a duration counted from this moment,
        # and the client compares expires_at with the real clock.
        expires_at=expires_at_from(answer.get("expires_in"), dt.datetime.now(dt.UTC)),
        api_url=client.base_url,
        username=username,
        scope=answer.get("scope"),
    )
