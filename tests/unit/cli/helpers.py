"""Fake streams and an in-process runner for unit tests that need no server."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from cli.app import main
from cli.context import Env, GlobalOptions


class FakeStream(io.StringIO):
    def __init__(self, text: str = "", *, tty: bool = False) -> None:
        super().__init__(text)
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str


def make_env(
    environ: dict[str, str] | None = None,
    *,
    tty: bool = False,
    stdin: str = "",
    options: GlobalOptions | None = None,
) -> Env:
    return Env(
        stdin=FakeStream(stdin, tty=tty),
        stdout=FakeStream(tty=tty),
        stderr=FakeStream(tty=tty),
        environ=dict(environ or {}),
        options=options or GlobalOptions(),
    )


def run(*args: str, environ: dict[str, str] | None = None, **kw: Any) -> Run:
    env = make_env(environ, **kw)
    code = main(list(args), env)
    out = env.stdout.getvalue()  # type: ignore[attr-defined]
    err = env.stderr.getvalue()  # type: ignore[attr-defined]
    return Run(code, out, err)
