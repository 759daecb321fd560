"""The `login`, `logout` and `whoami` commands: options, the calls, what is shown."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.context import Env
from cli.errors import AuthError, NetworkError, UsageError
from cli.i18n import _, localized
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
        raise UsageError(_("--password-stdin and --with-token cannot be used together"))
    if env.api_url is None:
        raise UsageError(
            _("no API URL to log in to"),
            hint=_("moncompte login --api-url https://... (the built-in sandbox needs no login)"),
        )
    if not with_token:
        # Usage problems first (exit 2 naming the flag), then the store (fail before a
        # password is typed that could not be kept), then the network.
        username = resolve_username(env, username)
        if not password_stdin and not env.can_prompt:
            raise UsageError(
                _("no terminal to ask for the password"),
                hint=_("pipe it with --password-stdin, or give a token with --with-token"),
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
        _("logged in to {host} as {username} ({scope}), profile {profile}").format(
            host=client.host,
            username=tokens.username or "?",
            scope=tokens.scope or _("unknown scope"),
            profile=env.profile,
        )
    )
    where = localized(store.describe())
    if store.kind == "file":  # a warning, not a notice: -q must not hide it
        env.out.warn(
            _(
                "the token is stored in a plain file, readable by anyone using your account: "
                "{store}"
            ).format(store=where)
        )
    else:
        env.out.notice(_("credential stored in {store}").format(store=where))
    if env.environ.get("MONCOMPTE_TOKEN"):
        env.out.warn(_("MONCOMPTE_TOKEN is set and takes precedence over the stored credential"))


def logout(ctx: typer.Context) -> None:
    """Revoke the credential on the server, then delete it locally."""
    env = Env.of(ctx)
    store = env.credentials()
    if not store.writable:
        raise UsageError(
            _("nothing to log out of: the credential comes from {store}").format(
                store=localized(store.describe())
            ),
            hint=(
                _("unset MONCOMPTE_TOKEN or drop --token-file") if store.kind != "sandbox" else None
            ),
        )
    if store.get(env.profile) is None:
        env.out.notice(_("not logged in (profile {profile})").format(profile=env.profile))
        return
    try:
        env.api().post("/v1/auth/revoke", {"token": None})
    except NetworkError as exc:
        env.out.warn(
            _("could not revoke on the server ({reason}); deleting locally anyway").format(
                reason=exc.message
            )
        )
    except (AuthError, UsageError) as exc:
        env.debug(f"revoke skipped: {exc.message}")  # already invalid: nothing to revoke
    store.delete(env.profile)
    env.out.notice(
        _("logged out (profile {profile}); credential deleted from {store}").format(
            profile=env.profile, store=localized(store.describe())
        )
    )


def whoami_fields() -> list[Column]:
    return [
        Column("username", _("username")),
        Column("scope", _("scope")),
        Column("customer_number", _("customer number")),
        Column("name", _("name")),
        Column("api_url", _("api url")),
        Column("profile", _("profile")),
        Column("credential_store", _("credential store")),
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
        whoami_fields(),
    )
