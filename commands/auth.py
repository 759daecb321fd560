"""`moncompte login | logout | whoami`."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.context import Env
from cli.credentials import CredentialStore, KeyringStore, Tokens, expires_at_from
from cli.errors import AuthError, MoncompteError, NetworkError, UsageError, register_secret
from cli.output import Column

if TYPE_CHECKING:
    from cli.http import ApiClient

OTP_REQUIRED = "otp_required"
TOKEN_PATH = "/v1/auth/token"


def login(
    ctx: typer.Context,
    username: Annotated[
        str | None, typer.Option("--username", "-u", metavar="NAME", help="Account username.")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    with_token: Annotated[
        bool, typer.Option("--with-token", help="Read an access token from stdin.")
    ] = False,
    otp: Annotated[
        str | None,
        typer.Option("--otp", metavar="CODE", help="One-time code, if the account needs one."),
    ] = None,
    insecure_storage: Annotated[
        bool,
        typer.Option(
            "--insecure-storage",
            help="Store the credential in a 0600 file instead of the OS keyring.",
        ),
    ] = False,
) -> None:
    """Log in to the API (--api-url) and store the credential for the profile."""
    env = Env.of(ctx)
    if password_stdin and with_token:
        raise UsageError("--password-stdin and --with-token cannot be used together")
    if env.api_url is None:
        raise UsageError(
            "no API URL to log in to",
            hint="moncompte login --api-url https://... (the built-in sandbox needs no login)",
        )
    if not with_token:
        # Usage problems first (exit 2 naming the flag), then the store (fail before a
        # password is typed that could not be kept), then the network.
        username = _username(env, username)
        if not password_stdin and not env.can_prompt:
            raise UsageError(
                "no terminal to ask for the password",
                hint="pipe it with --password-stdin, or give a token with --with-token",
            )
    store = _login_store(env, insecure_storage)
    client = env.api()
    if with_token:
        tokens = _token_from_stdin(env, client)
    else:
        assert username is not None
        tokens = _password_login(env, client, username, _password(env, password_stdin), otp)
    store.set(env.profile, tokens)

    config = env.config
    config.set(env.profile, "api_url", client.base_url)
    if tokens.username:
        config.set(env.profile, "username", tokens.username)
    config.set(env.profile, "credential_store", store.kind)
    config.save()

    env.out.notice(
        f"logged in to {client.host} as {tokens.username or '?'}"
        f" ({tokens.scope or 'unknown scope'}), profile {env.profile}"
    )
    if store.kind == "file":  # a warning, not a notice: -q must not hide it
        env.out.warn(
            f"the token is stored in a plain file, readable by anyone using your account: "
            f"{store.describe()}"
        )
    else:
        env.out.notice(f"credential stored in {store.describe()}")
    if env.environ.get("MONCOMPTE_TOKEN"):
        env.out.warn("MONCOMPTE_TOKEN is set and takes precedence over the stored credential")


def _login_store(env: Env, insecure: bool) -> CredentialStore:
    if insecure:
        return env.credentials("file")
    store = env.credentials("keyring")
    if isinstance(store, KeyringStore):
        store.check()
    return store


def _token_from_stdin(env: Env, client: ApiClient) -> Tokens:
    token = env.read_stdin().strip()
    if not token:
        raise UsageError("--with-token: no token on stdin")
    register_secret(token)
    client.use_tokens(Tokens(access_token=token))
    me = client.get("/v1/me")
    return Tokens(
        access_token=token,
        api_url=client.base_url,
        username=me.get("username"),
        scope=me.get("scope"),
    )


def _username(env: Env, given: str | None) -> str:
    if given:
        return given
    remembered = env.config.get(env.profile, "username")
    if isinstance(remembered, str) and remembered:
        return remembered
    if env.can_prompt:
        answer = env.prompt("Username: ").strip()
        if answer:
            return answer
    raise UsageError(
        "no username given",
        hint="give --username NAME (with --password-stdin without a terminal), or use --with-token",
    )


def _password(env: Env, from_stdin: bool) -> str:
    if from_stdin:
        lines = env.read_stdin().splitlines()
        password = lines[0] if lines else ""
    else:
        password = env.prompt("Password: ", secret=True, flag="--password-stdin")
    register_secret(password)
    if not password:
        raise UsageError("empty password")
    return password


def _password_login(
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
                f"login refused: {exc.detail or 'wrong username or password'}",
                hint=None,
                code=exc.code,
                status=exc.status,
            ) from None
        body["otp"] = env.prompt("One-time code: ", flag="--otp CODE").strip()
        answer = client.request("POST", TOKEN_PATH, json=body, auth=False, retry=False)
    if not isinstance(answer, dict) or not answer.get("access_token"):
        raise MoncompteError("the server answered the login without a token")
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


def logout(ctx: typer.Context) -> None:
    """Revoke the credential on the server, then delete it locally."""
    env = Env.of(ctx)
    store = env.credentials()
    if not store.writable:
        raise UsageError(
            f"nothing to log out of: the credential comes from {store.describe()}",
            hint="unset MONCOMPTE_TOKEN or drop --token-file" if store.kind != "sandbox" else None,
        )
    if store.get(env.profile) is None:
        env.out.notice(f"not logged in (profile {env.profile})")
        return
    try:
        env.api().post("/v1/auth/revoke", {"token": None})
    except NetworkError as exc:
        env.out.warn(f"could not revoke on the server ({exc.message}); deleting locally anyway")
    except (AuthError, UsageError) as exc:
        env.debug(f"revoke skipped: {exc.message}")  # already invalid: nothing to revoke
    store.delete(env.profile)
    env.out.notice(
        f"logged out (profile {env.profile}); credential deleted from {store.describe()}"
    )


WHOAMI_FIELDS = [
    Column("username", "username"),
    Column("scope", "scope"),
    Column("customer_number", "customer number"),
    Column("name", "name"),
    Column("api_url", "api url"),
    Column("profile", "profile"),
    Column("credential_store", "credential store"),
]


def whoami(ctx: typer.Context) -> None:
    """Who you are logged in as, on which server, and where the credential lives."""
    env = Env.of(ctx)
    client = env.api()
    me = client.get("/v1/me")
    customer = me.get("customer") or {}
    name = " ".join(p for p in (customer.get("first_name"), customer.get("last_name")) if p)
    env.out.render_one(
        {
            "username": me.get("username"),
            "scope": me.get("scope"),
            "customer_number": customer.get("customer_number"),
            "name": name or None,
            "api_url": client.base_url,
            "profile": env.profile,
            "credential_store": env.credentials().describe(),
        },
        WHOAMI_FIELDS,
    )
