"""`python -m server serve`: the server in the foreground, one process or several workers.

What a deployment needs from it (docs/server.md, "Production"):

- logs on stdout, one line each with the time, level and logger (uvicorn's, the access
  log with `--access-log`, and the server's own warnings: pool exhausted, database busy),
  for the container runtime or the journal to collect;
- `--no-demo`: migrate the schema but plant no demo data (a provider's own database);
- with `--workers N` (N > 1) each worker builds its app with `server.app:app_from_env`
  from environment variables set here (`DATABASE_URL` and `MONCOMPTE_SANDBOX_TODAY`), on a
  socket of its own (server/workers.py); where the kernel cannot spread connections over
  such sockets, uvicorn's workers share one socket, which lacks the TCP protocol number,
  so `server.embedded:NoDelayHTTPProtocol` sets TCP_NODELAY on each accepted connection
  (about 40 ms saved per keep-alive request).
"""

from __future__ import annotations

import os
import sys
from datetime import date
from typing import Any

__all__ = ["LOG_LEVELS", "log_config", "run"]

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_ACCESS = '%(asctime)s %(levelname)s access: %(client_addr)s "%(request_line)s" %(status_code)s'


def log_config(level: str) -> dict[str, Any]:
    """`logging.config.dictConfig` settings: every logger of the server on stdout."""
    handler = {"class": "logging.StreamHandler", "stream": "ext://sys.stdout"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "default": {"format": _FORMAT},
            "access": {"()": "uvicorn.logging.AccessFormatter", "fmt": _ACCESS},
        },
        "handlers": {
            "default": {**handler, "formatter": "default"},
            "access": {**handler, "formatter": "access"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.asgi": {"level": level.upper()},
            "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
            "server": {"handlers": ["default"], "level": level.upper(), "propagate": False},
        },
    }


def _say(line: str) -> None:
    print(line, file=sys.stdout, flush=True)


def run(
    url: str,
    shown: str,
    *,
    host: str,
    port: int,
    workers: int,
    today: date | None,
    demo: bool,
    customers: int,
    log_level: str,
    access_log: bool,
) -> int:
    """Prepare the database (migrate; seed the demo unless `demo` is False), then serve
    until Ctrl-C or SIGTERM."""
    from server.embedded import bind_socket, prepare_database, uvicorn_config

    # Each log line out at once: a pipe is block-buffered otherwise, and uvicorn ends a
    # SIGTERM'd process by re-raising the signal, which loses what the buffer held.
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)
    url, engine = prepare_database(url, today=today, seed=demo, customers=customers)
    where = f"http://{host}:{port}"
    logging_settings: dict[str, Any] = {
        # None: uvicorn would set its loggers (the access log's too) to this level after
        # applying `log_config`, silencing the access log below "info".
        "log_level": None,
        "access_log": access_log,
        "log_config": log_config(log_level),
    }
    if workers > 1:
        engine.dispose()
        # The workers are new processes: they learn the database and the date from here.
        # `DATABASE_URL` wins over everything in `server.db.default_database_url`.
        os.environ["DATABASE_URL"] = url
        if today:
            os.environ["MONCOMPTE_SANDBOX_TODAY"] = today.isoformat()
        _say(f"serving {where} with {workers} workers ({shown})")
        settings = {
            "ws": "none",
            "timeout_graceful_shutdown": 2,
            "server_header": False,
            **logging_settings,
        }
        from server.workers import balanced, supervise

        if balanced():
            return supervise(host, port, workers, settings)
        import uvicorn

        uvicorn.run(
            "server.app:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            http="server.embedded:NoDelayHTTPProtocol",
            **settings,
        )
        return 0

    import uvicorn

    from server.app import create_app

    app = create_app(engine=engine, today=today)
    sock = bind_socket(host, port)
    _say(f"serving {where} ({shown}); Ctrl-C to stop")
    try:
        uvicorn.Server(uvicorn_config(app, **logging_settings)).run(sockets=[sock])
    finally:
        sock.close()
        engine.dispose()
    return 0
