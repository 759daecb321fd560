"""`moncompte config get|set|unset|list|profiles`: settings per profile."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.config import KEYS, parse_value, unknown_key
from cli.context import Env, source_label
from cli.i18n import _
from cli.output import Column

app = typer.Typer(help="Settings and profiles.", no_args_is_help=True)

KeyArg = Annotated[
    str, typer.Argument(metavar="KEY", help=f"One of: {', '.join(KEYS)}.", show_default=False)
]


def _check_key(key: str) -> None:
    if key not in KEYS:
        raise unknown_key(key)


@app.command("get")
def get(ctx: typer.Context, key: KeyArg) -> None:
    """Print the effective value of KEY (flag > environment > profile > default)."""
    env = Env.of(ctx)
    _check_key(key)
    value, source = env.setting(key)
    if env.output not in ("json", "ndjson"):  # a bare value is what scripts want
        env.out.text("" if value is None else str(value))
    else:
        env.out.render_one(
            {"key": key, "value": value, "source": source, "profile": env.profile},
            [
                Column("key", _("key")),
                Column("value", _("value")),
                Column("source", _("source")),
                Column("profile", _("profile")),
            ],
        )


@app.command("set")
def set_(
    ctx: typer.Context,
    key: KeyArg,
    value: Annotated[
        str, typer.Argument(metavar="VALUE", help="The new value.", show_default=False)
    ],
) -> None:
    """Store KEY = VALUE in the profile (see --profile)."""
    env = Env.of(ctx)
    parsed = parse_value(key, value)
    config = env.config
    config.set(env.profile, key, parsed)
    config.save()
    env.out.notice(
        _("{key} = {value} (profile {profile}, {path})").format(
            key=key, value=parsed, profile=env.profile, path=config.path
        )
    )


@app.command("unset")
def unset(ctx: typer.Context, key: KeyArg) -> None:
    """Remove KEY from the profile."""
    env = Env.of(ctx)
    _check_key(key)
    config = env.config
    if config.unset(env.profile, key):
        config.save()
        env.out.notice(
            _("{key} removed from profile {profile}").format(key=key, profile=env.profile)
        )
    else:
        env.out.notice(
            _("{key} was not set in profile {profile}").format(key=key, profile=env.profile)
        )


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """Every key with its effective value and where it comes from."""
    env = Env.of(ctx)
    rows = []
    for key in KEYS:
        value, source = env.setting(key)
        rows.append({"key": key, "value": value, "source": source})
    if env.output in ("table", "markdown"):  # where a person reads it: sources in words
        rows = [{**row, "source": source_label(str(row["source"]))} for row in rows]
    env.out.render(
        rows,
        [Column("key", _("key")), Column("value", _("value")), Column("source", _("source"))],
        title=_("profile {profile}").format(profile=env.profile),
    )


@app.command("profiles")
def profiles(ctx: typer.Context) -> None:
    """The profiles in the config file; the current one is marked."""
    env = Env.of(ctx)
    current = env.profile
    names = sorted({*env.config.profiles, current})
    rows = [
        {
            "profile": name,
            "current": name == current,
            "api_url": env.config.get(name, "api_url"),
            "username": env.config.get(name, "username"),
            "credential_store": env.config.get(name, "credential_store"),
        }
        for name in names
    ]
    env.out.render(
        rows,
        [
            Column("profile", _("profile")),
            Column("current", _("current"), "bool"),
            Column("api_url", _("api_url")),
            Column("username", _("username")),
            Column("credential_store", _("credential_store")),
        ],
    )
