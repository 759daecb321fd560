"""The `login`, `logout` and `whoami` commands: options, the calls, what is shown."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.context import Env
from cli.errors import AuthError, NetworkError, UsageError
from cli.output import Column
from commands.auth.flows import (
    login_store,
    password_login,
    read_password,
    resolve_username,
    token_from_stdin,
)


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
        username = resolve_username(env, username)
        if not password_stdin and not env.can_prompt:
            raise UsageError(
                "no terminal to ask for the password",
                hint="pipe it with --password-stdin, or give a token with --with-token",
            )
    store = login_store(env, insecure_storage)
    client = env.api()
    if with_token:
        tokens = token_from_stdin(env, client)
    else:
        assert username is not None
        tokens = password_login(env, client, username, read_password(env, password_stdin), otp)
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
