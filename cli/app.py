"""The root of `moncompte`: global options, lazy command registration, exit codes.

`main(argv, env)` returns the exit code instead of exiting, so tests run the whole CLI
in-process; `run()` is the console script. Global options are lifted out of argv wherever
they appear (before or after the subcommand) before Typer sees the rest, and only the
module of the command being run is imported: `--version` does not import Typer at all and
`--help` imports no command module, keyring, httpx or server code.
"""

from __future__ import annotations

import os
import sys

from cli import __version__

# Only os and sys (loaded by the interpreter anyway) at module level, so that `--version`
# costs little more than the interpreter's own start-up: no typing, dataclasses, contextlib.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import IO, Any

    import typer

    from cli.context import Env

PROG = "moncompte"
COMPLETE_VAR = "_MONCOMPTE_COMPLETE"


class Entry:
    """A top-level command: where it lives and its one-line help (shown without importing).

    A plain class rather than a dataclass: importing dataclasses (and with it inspect, ast,
    tokenize) costs more than `--version` may take.
    """

    __slots__ = ("name", "module", "attr", "help")

    def __init__(self, name: str, module: str, attr: str, help: str) -> None:
        self.name = name
        self.module = module
        self.attr = attr
        self.help = help

    def __repr__(self) -> str:
        return f"Entry({self.name!r}, {self.module!r}, {self.attr!r})"


# The table of commands. A module exposes either a `typer.Typer` (a group of subcommands)
# or a plain function (one command) under `attr`; see `_load`.
COMMANDS: tuple[Entry, ...] = (
    Entry("login", "commands.auth", "login", "Log in and store the credential."),
    Entry("logout", "commands.auth", "logout", "Revoke the credential and forget it."),
    Entry("whoami", "commands.auth", "whoami", "Who you are, on which server, stored where."),
    Entry("contracts", "commands.contracts", "app", "Your contracts: offer, price, commitment."),
    Entry("invoices", "commands.invoices", "app", "Invoices: list, show, download."),
    Entry("schedule", "commands.schedule", "app", "Payment schedule of an instalment plan."),
    Entry("change-iban", "commands.change_iban", "app", "Change the bank account debited."),
    Entry("reschedule", "commands.reschedule", "app", "Move an instalment to a later date."),
    Entry("terminate", "commands.terminate", "app", "Terminate a contract (shows the cost first)."),
    Entry("claim", "commands.claim", "app", "Claims: new, list, show, reply, escalate, letter."),
    Entry("diagnose", "commands.diagnose", "app", "Check the account for known problems."),
    Entry("status", "commands.status", "app", "Everything to keep an eye on, in one screen."),
    Entry("calendar", "commands.calendar", "app", "Upcoming debits and deadlines as iCalendar."),
    Entry("customers", "commands.customers", "app", "Staff: list, show, search customers."),
    Entry("completion", "commands.completion", "completion", "Print a shell completion script."),
    Entry("config", "commands.config", "app", "Settings and profiles: get, set, list, profiles."),
    Entry("api", "commands.api", "api", "Make an authenticated API request, print the JSON."),
    Entry(
        "sandbox", "commands.sandbox", "app", "The built-in sandbox: start, stop, status, reset."
    ),
)
BY_NAME = {e.name: e for e in COMMANDS}

# --- the Typer app -----------------------------------------------------------------------------


def build_app(
    names: Sequence[str] | None = None, *, stubs: bool = False, documented: bool = True
) -> typer.Typer:
    """The root app with the commands in `names` (all when None).

    With `stubs`, commands are registered as help-only placeholders: the root `--help`
    lists every command without importing any of them. Without `documented`, the root
    callback declares no options: they exist only for the root help (main() lifts global
    options out of argv before Typer sees it), and Typer 0.29 builds a pydantic
    TypeAdapter for every non-flag parameter of the commands it runs, even one left unset,
    importing pydantic on the way (about 80 ms; see bench/README.md).
    """
    import typer

    app = typer.Typer(
        name=PROG,
        help="Manage your subscription account: invoices, schedule, bank details, "
        "termination, claims, diagnose.\n\n"
        "Global options may also be given after the command. With no server configured, "
        "commands run against the built-in sandbox (demo data).",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
        epilog="Exit codes: 0 ok, 1 unexpected error, 2 usage, 3 not authenticated, "
        "4 not found, 5 refused by a rule, 6 network/unavailable, 7 partial failure, "
        "130 interrupted.",
    )
    app.callback()(_root_callback() if documented else _bare_root)
    for entry in COMMANDS if names is None else [BY_NAME[n] for n in names]:
        if stubs:
            app.command(entry.name, help=entry.help, add_help_option=False)(_stub)
        else:
            _register(app, entry)
    return app


def _stub() -> None:  # pragma: no cover - only its help is ever shown
    """Placeholder: the real command is imported when it runs."""


def _bare_root() -> None:
    """Manage your subscription account."""


def _root_callback() -> Callable[..., None]:
    """The root callback, built on demand: its option defaults need Typer imported."""
    import typer

    def opt(*decls: str, help: str, flag: bool = False, metavar: str | None = None) -> Any:
        return typer.Option(
            False if flag else None, *decls, help=help, show_default=False, metavar=metavar
        )

    def root(
        output: str = opt(
            "-o",
            "--output",
            help="Output format: table, json, ndjson, csv, tsv, markdown.",
            metavar="FORMAT",
        ),
        profile: str = opt(
            "--profile", help="Profile to use (env MONCOMPTE_PROFILE).", metavar="NAME"
        ),
        api_url: str = opt(
            "--api-url", help="API base URL (env MONCOMPTE_API_URL).", metavar="URL"
        ),
        timeout: float = opt("--timeout", help="HTTP timeout in seconds.", metavar="SECONDS"),
        columns: str = opt(
            "--columns", help="Columns to show, comma-separated, in order.", metavar="A,B"
        ),
        token_file: str = opt(
            "--token-file", help="Read the access token from this file.", metavar="PATH"
        ),
        no_color: bool = opt("--no-color", help="No colour (also NO_COLOR, TERM=dumb).", flag=True),
        quiet: bool = opt("-q", "--quiet", help="Only data and errors.", flag=True),
        verbose: bool = opt("-v", "--verbose", help="Debug log on stderr, no secrets.", flag=True),
        version: bool = opt("--version", help="Print the version and exit.", flag=True),
    ) -> None:
        """Manage your subscription account."""
        # The values never arrive here: main() lifts global options out of argv first.
        # They are declared only so that `moncompte --help` documents them.

    return root


def _register(app: typer.Typer, entry: Entry) -> None:
    import typer

    obj = _load(entry)
    if isinstance(obj, typer.Typer):
        app.add_typer(obj, name=entry.name, help=entry.help)
    else:
        app.command(entry.name, help=None)(obj)


def _load(entry: Entry) -> Any:
    import importlib

    try:
        module = importlib.import_module(entry.module)
    except ModuleNotFoundError as exc:
        if exc.name == entry.module:
            raise _unavailable(entry.name) from exc
        raise
    obj = getattr(module, entry.attr, None)
    if obj is None:
        # Tolerate either shape: a group `app`, or a function named after the command.
        obj = getattr(module, "app", None) or getattr(module, entry.name.replace("-", "_"), None)
    if obj is None:
        raise _unavailable(entry.name)

    return obj


def _unavailable(name: str) -> Exception:
    from cli.errors import MoncompteError
    from cli.i18n import _

    return MoncompteError(
        _("command '{command}' is not available in this build").format(command=name)
    )


# --- main ---------------------------------------------------------------------------------------


def main(
    argv: Sequence[str] | None = None,
    env: Env | None = None,
    *,
    streams: tuple[IO[str], IO[str], IO[str]] | None = None,
) -> int:
    """Run `moncompte` with `argv`; return the exit code. `streams` = (stdin, stdout, stderr)."""
    args = list(sys.argv[1:] if argv is None else argv)
    head = args[: args.index("--")] if "--" in args else args
    if "--version" in head:
        out = env.stdout if env is not None else (streams[1] if streams else sys.stdout)
        out.write(f"{PROG} {__version__}\n")
        out.flush()
        return 0

    import contextlib

    from cli.context import Env
    from cli.errors import handle
    from cli.options import scan_globals

    if env is None:
        env = Env(*streams) if streams else Env()
    # The ambient language now, for the global options' errors; _run refines it with the
    # profile's `locale` once the options (--profile) are known.
    _activate_ambient(env)
    try:
        options, rest = scan_globals(args)
        env.options = env.options.merged(options)
        return _run(rest, env)
    except (Exception, KeyboardInterrupt) as exc:  # the one place errors become exit codes
        return handle(exc, env)
    finally:
        with contextlib.suppress(Exception):
            env.close()


def _run(args: list[str], env: Env) -> int:
    import contextlib

    import typer
    import typer.main

    from cli import typer_i18n
    from cli.errors import MoncompteError, handle

    # The language first: the help of the tree built below, Typer's own messages and any
    # text a command module translates when imported are all in it.
    _activate_messages(env)
    completing = bool(os.environ.get(COMPLETE_VAR))
    if completing:
        app = build_app(_available())
    else:
        if not args:
            args = ["--help"]
        first = next((a for a in args if not a.startswith("-")), None)
        root_help = first is None or bool({"-h", "--help"} & set(args[: args.index(first)]))
        if first in BY_NAME and not root_help:
            # Only the root help shows the root options: a command run does without them.
            app = build_app([first], documented=False)
        else:  # the root help (`-h`, `--help COMMAND`), or an unknown command
            app = build_app(stubs=True)
    command = typer.main.get_command(app)
    typer_i18n.localize(command)
    with contextlib.redirect_stdout(env.stdout), contextlib.redirect_stderr(env.stderr):
        try:
            result = command.main(
                args=args,
                prog_name=PROG,
                complete_var=COMPLETE_VAR,
                standalone_mode=completing,
                obj=env,
                default_map=None if completing else _unset_flags(command),
            )
        except SystemExit as exc:  # completion mode, or a library calling sys.exit
            return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except typer.Abort:
            return handle(KeyboardInterrupt(), env)
        except typer.Exit as exc:
            return exc.exit_code
        except MoncompteError:
            raise
        except Exception as exc:
            if _is_click_error(exc):
                return _usage(exc, env)
            raise
    if result == 130:  # Typer turns Ctrl-C into Exit(130); say so like everywhere else
        return handle(KeyboardInterrupt(), env)
    return result if isinstance(result, int) and not isinstance(result, bool) else 0


# Flags Typer adds to every command (--help) and to the root (completion). Unset, their
# value is None, not False, and Typer 0.29 then builds a pydantic TypeAdapter to coerce that
# None, importing pydantic (about 80 ms with annotated_types and the plugin scan). A
# `default_map` (Click's public way to give defaults) of False for them spares it.
_TYPER_FLAGS = ("help", "install_completion", "show_completion")


def _unset_flags(command: Any) -> dict[str, Any]:
    """A `default_map` giving False to Typer's own flags, for `command` and its subcommands."""
    defaults: dict[str, Any] = dict.fromkeys(_TYPER_FLAGS, False)
    for name, sub in (getattr(command, "commands", None) or {}).items():
        defaults[name] = _unset_flags(sub)
    return defaults


def _activate_messages(env: Env) -> None:
    """Select the message catalogue for the run's locale (profile beats LANG)."""
    from cli.errors import MoncompteError

    try:
        locale = env.locale
    except MoncompteError:  # a corrupt config: reported (in LANG's language) by its reader
        _activate_ambient(env)
        return
    from cli import i18n

    i18n.activate(locale)


def _activate_ambient(env: Env) -> None:
    """The language of LC_ALL/LC_MESSAGES/LANG in the run's environment (not a previous
    run's, in-process tests switch it)."""
    from cli import i18n

    i18n.activate(i18n.language_from_environ(dict(env.environ)))


def _available() -> list[str]:
    """Every command whose module imports (completion must see them all)."""
    names = []
    for entry in COMMANDS:
        try:
            _load(entry)
        except Exception:
            continue
        names.append(entry.name)
    return names


def _is_click_error(exc: Exception) -> bool:
    # Typer vendors Click; its exceptions are recognised by shape, not imported by path.
    return hasattr(exc, "exit_code") and hasattr(exc, "format_message")


def _usage(exc: Exception, env: Env) -> int:
    from cli.typer_i18n import error_message

    message = error_message(exc)
    code = int(exc.exit_code)  # type: ignore[attr-defined]
    ctx = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError":  # a group run without its subcommand
        env.stderr.write(message + "\n")
        env.stderr.flush()
        return code
    if message:
        from cli.errors import error_line, hint_line

        env.stderr.write(error_line(message[:1].lower() + message[1:]) + "\n")
        path = getattr(ctx, "command_path", PROG) if ctx is not None else PROG
        env.stderr.write(hint_line(_see_help(path)) + "\n")
        env.stderr.flush()
    return code


def _see_help(path: str) -> str:
    from cli.i18n import _

    return _("see '{command} --help'").format(command=path)


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    run()
