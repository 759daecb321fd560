"""httpx, imported without its optional command-line client.

httpx/__init__.py runs `from ._main import main` inside `try/except ImportError`; when click
is installed (uvicorn brings it in with the sandbox extra), that imports click, rich and
pygments: about 40 ms of every run, for a command-line client we never call. A None entry
in sys.modules makes that one import fail, which httpx expects and answers with a stub
`httpx.main`. The entry is removed right after, so nothing else ever sees it, and nothing
changes when httpx was imported before (tests) or no longer has that module.

Import httpx from here (`from cli.httpx_lite import httpx`) where start-up time matters.
"""

from __future__ import annotations

import sys

_CLI = "httpx._main"


def _import_without_cli() -> None:
    if "httpx" in sys.modules or _CLI in sys.modules:
        return
    sys.modules[_CLI] = None  # type: ignore[assignment]
    try:
        import httpx  # noqa: F401
    except ImportError:  # a future httpx that needs it: the plain import below does it
        pass
    finally:
        if _CLI in sys.modules and sys.modules[_CLI] is None:
            del sys.modules[_CLI]


_import_without_cli()

import httpx as httpx  # noqa: E402  (re-exported)

__all__ = ["httpx"]
