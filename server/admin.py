"""`python -m server users ...`: the logins of a provider's server, without Python snippets.

- `add NAME (--staff | --customer ID) --password-stdin [--otp]`: the password is read from
  stdin (never from argv, where `ps` shows it to every user), at least 8 characters;
- `list`: every login, its scope, customer, one-time code yes/no, enabled or disabled;
- `disable NAME` / `enable NAME`: a disabled login keeps its row (claims and history refer
  to it) but cannot log in: its stored hash gets a `!` in front, as `passwd -l` does, so
  no password matches it, and every token it holds is revoked at once;
- `reset-otp NAME`: a new one-time-code secret (printed once, with its otpauth:// URI for
  an authenticator app); every token of the login is revoked.

Every change is one transaction; an error is one line on stderr and exit 1.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from server.db import session_factory
from server.models import Customer, Token, User
from server.passwords import hash_password

__all__ = [
    "DISABLED_PREFIX",
    "AdminError",
    "UserRow",
    "add_user",
    "is_disabled",
    "list_users",
    "otpauth_uri",
    "reset_otp",
    "set_enabled",
]

DISABLED_PREFIX = "!"
MIN_PASSWORD = 8
MAX_USERNAME = 100  # the column's size
ISSUER = "moncompte"


class AdminError(Exception):
    """A refused administration request: its message is the line the operator reads."""


@dataclass(frozen=True)
class UserRow:
    username: str
    scope: str
    customer_id: str | None
    otp: bool
    enabled: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "scope": self.scope,
            "customer_id": self.customer_id,
            "otp": self.otp,
            "enabled": self.enabled,
        }


def is_disabled(password_hash: str) -> bool:
    return password_hash.startswith(DISABLED_PREFIX)


def check_username(name: str) -> str:
    if not name or len(name) > MAX_USERNAME:
        raise AdminError(f"a username has 1 to {MAX_USERNAME} characters")
    if not name.isprintable() or any(c.isspace() for c in name):
        raise AdminError(f"invalid username {name!r}: no spaces or control characters")
    return name


def password_from(text: str) -> str:
    """The password given on stdin: its one trailing line break dropped (echo adds it)."""
    password = text[:-1] if text.endswith("\n") else text
    password = password[:-1] if password.endswith("\r") else password
    if len(password) < MIN_PASSWORD:
        raise AdminError(f"the password must have at least {MIN_PASSWORD} characters")
    if "\n" in password:
        raise AdminError("the password must be one line")
    return password


def new_otp_secret() -> str:
    """160 random bits in base32, as authenticator apps expect (RFC 4226's recommendation)."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii").rstrip("=")


def otpauth_uri(username: str, secret: str) -> str:
    label = quote(f"{ISSUER}:{username}")
    return f"otpauth://totp/{label}?secret={secret}&issuer={ISSUER}"


def _writer(engine: Engine) -> Session:
    return session_factory(engine, immediate=True)()


def _user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise AdminError(f"no user named {username!r}")
    return user


def _revoke_all(session: Session, user: User) -> int:
    result = session.execute(
        update(Token).where(Token.user_id == user.id, Token.revoked.is_(False)).values(revoked=True)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def add_user(
    engine: Engine,
    username: str,
    password: str,
    *,
    staff: bool = False,
    customer_id: str | None = None,
    otp: bool = False,
) -> str | None:
    """Create a login; the new one-time-code secret when `otp`, else None."""
    check_username(username)
    if staff == (customer_id is not None):
        raise AdminError("a user is either --staff or a --customer ID, not both nor neither")
    secret = new_otp_secret() if otp else None
    with _writer(engine) as session:
        if session.scalars(select(User.id).where(User.username == username)).first():
            raise AdminError(f"a user named {username!r} exists already")
        if customer_id is not None and session.get(Customer, customer_id) is None:
            raise AdminError(f"no customer {customer_id!r}")
        session.add(
            User(
                username=username,
                password_hash=hash_password(password),
                scope="staff" if staff else "customer",
                customer_id=customer_id,
                otp_secret=secret,
            )
        )
        session.commit()
    return secret


def list_users(engine: Engine) -> list[UserRow]:
    with Session(engine) as session:
        rows = session.execute(
            select(
                User.username, User.scope, User.customer_id, User.otp_secret, User.password_hash
            ).order_by(User.username)
        ).all()
    return [
        UserRow(name, scope, customer, bool(otp), not is_disabled(stored))
        for name, scope, customer, otp, stored in rows
    ]


def set_enabled(engine: Engine, username: str, enabled: bool) -> tuple[bool, int]:
    """Enable or disable a login; (whether it changed, tokens revoked)."""
    with _writer(engine) as session:
        user = _user(session, username)
        disabled = is_disabled(user.password_hash)
        revoked = 0
        if enabled and disabled:
            user.password_hash = user.password_hash[len(DISABLED_PREFIX) :]
        elif not enabled and not disabled:
            user.password_hash = DISABLED_PREFIX + user.password_hash
        if not enabled:
            revoked = _revoke_all(session, user)  # even when already disabled: belt and braces
        session.commit()
    return disabled == enabled, revoked


def reset_otp(engine: Engine, username: str) -> str:
    """A new one-time-code secret for `username`; its tokens are revoked."""
    secret = new_otp_secret()
    with _writer(engine) as session:
        user = _user(session, username)
        user.otp_secret = secret
        _revoke_all(session, user)
        session.commit()
    return secret


def table(rows: Sequence[UserRow]) -> str:
    """The plain aligned table `users list` prints."""
    header = ("username", "scope", "customer", "otp", "status")
    lines = [
        (
            r.username,
            r.scope,
            r.customer_id or "-",
            "yes" if r.otp else "no",
            "enabled" if r.enabled else "disabled",
        )
        for r in rows
    ]
    widths = [max(len(str(c)) for c in col) for col in zip(header, *lines, strict=False)]
    return "\n".join(
        "  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
        for line in (header, *lines)
    )


# --- `python -m server users`: the command line ------------------------------------------------


def add_parser(commands: Any, add_database: Any) -> None:
    """Add `users` and its subcommands to `python -m server`'s parser."""
    users = commands.add_parser("users", help="manage logins: add, list, disable, reset-otp")
    actions = users.add_subparsers(dest="action", required=True, metavar="ACTION")

    add = actions.add_parser("add", help="create a login (password on stdin)")
    add.add_argument("username")
    who = add.add_mutually_exclusive_group(required=True)
    who.add_argument("--staff", action="store_true", help="a support agent: reads any customer")
    who.add_argument("--customer", metavar="ID", help="the customer this login belongs to")
    add.add_argument(
        "--password-stdin", action="store_true", required=True,
        help="read the password from stdin (required: never on the command line)",
    )  # fmt: skip
    add.add_argument("--otp", action="store_true", help="also require a one-time code")
    add_database(add)

    listing = actions.add_parser("list", help="every login, its scope and status")
    listing.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    add_database(listing)

    for name, text in (
        ("disable", "refuse its logins and revoke its tokens (reversible: enable)"),
        ("enable", "let a disabled login log in again"),
        ("reset-otp", "a new one-time-code secret (printed once); revokes its tokens"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("username")
        add_database(action)


def run(args: Any, engine: Engine, stdin: Any, stdout: Any, stderr: Any) -> int:
    """Carry out `python -m server users ACTION`; the exit code."""
    import json

    try:
        if args.action == "add":
            password = password_from(stdin.read())
            secret = add_user(
                engine, args.username, password,
                staff=args.staff, customer_id=args.customer, otp=args.otp,
            )  # fmt: skip
            print(f"added {args.username}", file=stderr)
            if secret:
                print(f"one-time code secret: {secret}", file=stdout)
                print(otpauth_uri(args.username, secret), file=stdout)
        elif args.action == "list":
            rows = list_users(engine)
            if args.json:
                for row in rows:
                    print(json.dumps(row.as_dict(), ensure_ascii=False), file=stdout)
            else:
                print(table(rows), file=stdout)
        elif args.action in ("disable", "enable"):
            enable = args.action == "enable"
            changed, revoked = set_enabled(engine, args.username, enable)
            state = "enabled" if enable else "disabled"
            note = "" if changed else " (it was already)"
            tokens = f", {revoked} token(s) revoked" if revoked else ""
            print(f"{args.username} {state}{note}{tokens}", file=stderr)
        elif args.action == "reset-otp":
            secret = reset_otp(engine, args.username)
            print(f"one-time code secret: {secret}", file=stdout)
            print(otpauth_uri(args.username, secret), file=stdout)
    except AdminError as exc:
        print(f"error: {exc}", file=stderr)
        return 1
    return 0
