"""The root app without a server: global options, lazy imports, usage errors, completion."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cli.app import COMMANDS, main
from cli.context import Env
from cli.errors import UsageError
from cli.options import scan_globals
from commands.completion.scripts import FILES, script

from .helpers import FakeStream, make_env, run

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("keyring", "httpx", "server", "fastapi", "sqlalchemy", "uvicorn", "rich")


def _imports_after(args: list[str]) -> tuple[int, str, set[str]]:
    code = f"""
import io, sys
from cli.app import main
out = io.StringIO()
rc = main({args!r}, streams=(io.StringIO(), out, io.StringIO()))
mods = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r} or m.startswith('commands.'))
print(rc, repr(out.getvalue()[:300]), ' '.join(mods), sep='\\n')
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    rc, out, mods = result.stdout.split("\n")[:3]
    return int(rc), out, set(mods.split())


def test_version_imports_nothing_heavy_not_even_typer() -> None:
    rc, out, mods = _imports_after(["--version"])
    from cli import __version__

    assert rc == 0 and out == repr(f"moncompte {__version__}\n")
    assert mods == set()
    code = (
        "import sys, io; from cli.app import main; "
        "main(['--version'], streams=(io.StringIO(),)*3); assert 'typer' not in sys.modules"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


@pytest.mark.parametrize("args", [["--help"], [], ["-o", "json", "--help"]])
def test_help_imports_no_command_keyring_httpx_or_server(args: list[str]) -> None:
    rc, out, mods = _imports_after(args)
    assert rc == 0 and "Usage: moncompte" in out
    assert mods == set(), mods


def test_help_lists_every_command_and_global_options() -> None:
    result = run("--help")
    for entry in COMMANDS:
        assert entry.name in result.stdout
    for option in (
        "--output",
        "--profile",
        "--api-url",
        "--timeout",
        "--no-color",
        "--quiet",
        "--verbose",
        "--version",
        "--columns",
        "--token-file",
    ):
        assert option in result.stdout


def test_console_script_exits_with_the_code() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cli.app", "--output", "xml", "config", "list"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: invalid output format 'xml'")


def test_global_options_anywhere() -> None:
    opts, rest = scan_globals(
        [
            "-q",
            "invoices",
            "list",
            "--output=csv",
            "--status",
            "unpaid",
            "-v",
            "--profile",
            "work",
            "--no-color",
            "--timeout",
            "2.5",
            "--columns",
            "id,total",
            "--",
            "-o",
            "x",
        ]
    )
    assert rest == ["invoices", "list", "--status", "unpaid", "--", "-o", "x"]
    assert (opts.output, opts.profile, opts.timeout, opts.columns) == (
        "csv",
        "work",
        2.5,
        ["id", "total"],
    )
    assert opts.quiet and opts.verbose and opts.no_color
    opts, rest = scan_globals(["whoami", "-ojson", "-qv"])
    assert (opts.output, opts.quiet, opts.verbose, rest) == ("json", True, True, ["whoami"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o"], "option -o needs a value"),
        (["-o", "xml"], "invalid output format 'xml'"),
        (["--timeout", "0"], "invalid --timeout"),
        (["--profile", "a b"], "invalid profile name"),
        (["--api-url", "http://example.com"], None),  # refused later, by the client
        (["--api-url", "gopher://x"], "invalid value for api_url"),
    ],
)
def test_bad_global_options(args: list[str], message: str | None) -> None:
    if message is None:
        scan_globals(args)
        return
    with pytest.raises(UsageError, match=message):
        scan_globals(args)


def test_usage_errors_exit_2_with_one_line_and_hint() -> None:
    for args in (["nosuchcommand"], ["config", "get"], ["config", "list", "--bogus"]):
        result = run(*args)
        assert result.exit_code == 2, args
        lines = result.stderr.splitlines()
        assert lines[0].startswith("error: ") and lines[1].startswith("hint: see 'moncompte")
        assert "Traceback" not in result.stderr and result.stdout == ""


def test_plain_http_api_url_is_refused(tmp_path: Path) -> None:
    result = run(
        "--api-url",
        "http://api.example",
        "api",
        "GET",
        "/v1/me",
        environ={"MONCOMPTE_TOKEN": "t" * 20, "MONCOMPTE_CONFIG_DIR": str(tmp_path)},
    )
    assert result.exit_code == 2
    assert "refusing plain http:// for api.example" in result.stderr


def test_login_without_terminal_names_the_flags(tmp_path: Path) -> None:
    environ = {"MONCOMPTE_CONFIG_DIR": str(tmp_path)}
    result = run("login", "--api-url", "https://api.example", "--username", "demo", environ=environ)
    assert result.exit_code == 2
    assert "no terminal to ask for the password" in result.stderr
    assert "--password-stdin" in result.stderr and "--with-token" in result.stderr
    result = run("login", "--api-url", "https://api.example", environ=environ)
    assert result.exit_code == 2 and "--username" in result.stderr
    result = run("login", "--password-stdin", "--with-token", environ=environ)
    assert result.exit_code == 2


def test_login_needs_an_api_url(tmp_path: Path) -> None:
    result = run("login", "--with-token", environ={"MONCOMPTE_CONFIG_DIR": str(tmp_path)})
    assert result.exit_code == 2 and "no API URL" in result.stderr


class InterruptingStdin(FakeStream):
    def read(self, size: int | None = -1) -> str:
        raise KeyboardInterrupt


def test_ctrl_c_while_reading_stdin_exits_130(tmp_path: Path) -> None:
    env = Env(
        stdin=InterruptingStdin(),
        stdout=FakeStream(),
        stderr=FakeStream(),
        environ={"MONCOMPTE_CONFIG_DIR": str(tmp_path)},
    )
    code = main(
        [
            "login",
            "--api-url",
            "https://api.example",
            "--username",
            "demo",
            "--password-stdin",
            "--insecure-storage",
        ],
        env,
    )
    assert code == 130
    assert env.stderr.getvalue().splitlines()[-1] == "interrupted"  # type: ignore[attr-defined]
    assert not (tmp_path / "config.toml").exists()


def test_sandbox_without_the_extra_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "server.embedded", None)  # as if not installed
    result = run(
        "whoami",
        environ={
            "MONCOMPTE_CONFIG_DIR": str(tmp_path),
            "MONCOMPTE_SANDBOX_DB": str(tmp_path / "s.db"),
            "MONCOMPTE_SANDBOX": "inprocess",
        },
    )
    assert result.exit_code == 2
    assert result.stderr == (
        "error: the built-in sandbox needs the sandbox extra: pip install 'moncompte[sandbox]'\n"
    )


def test_no_terminal_no_colour_in_env() -> None:
    env = make_env({"TERM": "xterm"}, tty=False)
    assert not env.color and not env.can_prompt
    env = make_env({"TERM": "xterm"}, tty=True)
    assert env.color and env.can_prompt


def test_locale_and_clock() -> None:
    assert make_env({"LANG": "fr_FR.UTF-8"}).locale == "fr"
    assert make_env({"LC_ALL": "fr_CA", "LANG": "en_US"}).locale == "fr"
    assert make_env({"LANG": "C.UTF-8"}).locale == "en"
    env = make_env({"MONCOMPTE_TODAY": "2026-11-24"})
    assert env.today().isoformat() == "2026-11-24"
    assert env.now().date().isoformat() == "2026-11-24" and env.now().tzinfo is not None
    with pytest.raises(UsageError):
        make_env({"MONCOMPTE_TODAY": "24/11/2026"}).today()


@pytest.mark.parametrize("shell", sorted(FILES))
def test_committed_completion_scripts_are_current(shell: str) -> None:
    committed = ROOT / "completions" / FILES[shell]
    assert committed.exists(), f"missing {committed}: python -m commands.completion completions"
    assert committed.read_text() == script(shell), (
        f"{committed} is stale: regenerate with python -m commands.completion completions"
    )


def test_completion_command_prints_the_script() -> None:
    result = run("completion", "bash")
    assert result.exit_code == 0
    assert "_MONCOMPTE_COMPLETE=complete_bash" in result.stdout
    assert run("completion", "tcsh").exit_code == 2


def test_tab_completion_lists_commands() -> None:
    env = {
        "_MONCOMPTE_COMPLETE": "complete_bash",
        "COMP_WORDS": "moncompte conf",
        "COMP_CWORD": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "cli.app"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**__import__("os").environ, **env},
    )
    assert result.returncode == 0
    assert result.stdout.split() == ["config"]


def test_unexpected_error_exit_1_with_debug_log(tmp_path: Path) -> None:
    """A closed stdout is a bug-shaped failure: short message, traceback in the log."""
    stdout = FakeStream()
    stdout.close()
    env = Env(
        stdin=FakeStream(),
        stdout=stdout,
        stderr=FakeStream(),
        environ={"MONCOMPTE_CONFIG_DIR": str(tmp_path), "MONCOMPTE_LOG_DIR": str(tmp_path)},
    )
    assert main(["config", "list"], env) == 1
    err = env.stderr.getvalue()  # type: ignore[attr-defined]
    assert err.startswith("error: unexpected ValueError: I/O operation on closed file")
    assert "hint: details were written to " + str(tmp_path) in err
    assert "Traceback" not in err
    assert len(list(tmp_path.glob("debug-*.log"))) == 1


def test_sandbox_status_of_a_missing_database(tmp_path: Path) -> None:
    result = run("sandbox", "status", "--db", str(tmp_path / "none.db"), "-o", "json")
    assert result.exit_code == 0
    assert '"exists": false' in result.stdout and '"seeded": false' in result.stdout


def test_typer_cli_runner_with_an_injected_env(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli.app import build_app
    from cli.context import GlobalOptions

    env = make_env({"MONCOMPTE_CONFIG_DIR": str(tmp_path)}, options=GlobalOptions(output="json"))
    result = CliRunner().invoke(build_app(["config"]), ["config", "list"], obj=env)
    assert result.exit_code == 0, result.output
    rows = __import__("json").loads(env.stdout.getvalue())  # type: ignore[attr-defined]
    assert {r["key"] for r in rows} >= {"api_url", "output", "timeout"}
