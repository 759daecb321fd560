"""`serve --workers N`: N server processes, each with a listening socket of its own.

uvicorn's workers share one listening socket, and asyncio accepts up to 100 waiting
connections per wake-up: 32 keep-alive clients connecting together all landed on one
worker about one run in two, leaving the other idle (bench/README.md, "Load": 200 req/s
instead of 600). With `SO_REUSEPORT` (Linux) each worker binds the port itself and the
kernel spreads new connections over them. Elsewhere, uvicorn's own workers
(`uvicorn.run(workers=N)`) are used instead.

This parent only supervises: it starts the workers (the `spawn` method: fresh
interpreters, as uvicorn does), starts again one that dies (at most once a second), and on
SIGTERM or SIGINT asks each to stop gracefully, then waits for them.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
import time
from typing import Any

__all__ = ["balanced", "supervise"]

_RESTART_PAUSE_S = 1.0
_STOP_GRACE_S = 10.0


def balanced() -> bool:
    """Whether the kernel spreads connections over sockets sharing a port (Linux)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _bind(host: str, port: int, *, listen: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        if listen:
            sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def _worker(host: str, port: int, settings: dict[str, Any]) -> None:
    """One worker process: its own socket on the shared port, one uvicorn server."""
    import uvicorn

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides; SIGTERM stops us
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)
    sock = _bind(host, port, listen=True)
    config = uvicorn.Config("server.app:app_from_env", factory=True, **settings)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()


def supervise(host: str, port: int, workers: int, settings: dict[str, Any]) -> int:
    """Run `workers` worker processes on host:port until SIGTERM or SIGINT; exit code."""
    # Fail here, with one line, when the port is taken (a socket that never listens
    # receives no connection, so holding it meanwhile takes nothing from the workers).
    probe = _bind(host, port, listen=False)
    context = multiprocessing.get_context("spawn")
    stopping: list[int] = []
    previous = {
        sig: signal.signal(sig, lambda number, _frame: stopping.append(number))
        for sig in (signal.SIGTERM, signal.SIGINT)
    }

    def start() -> Any:
        process = context.Process(target=_worker, args=(host, port, settings), daemon=False)
        process.start()
        return process

    processes = [start() for _ in range(workers)]
    try:
        while not stopping:
            for index, process in enumerate(processes):
                if not process.is_alive() and not stopping:
                    print(
                        f"worker {process.pid} ended ({process.exitcode}): starting another",
                        flush=True,
                    )
                    time.sleep(_RESTART_PAUSE_S)
                    processes[index] = start()
            time.sleep(0.2)
    finally:
        for process in processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + _STOP_GRACE_S
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        probe.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
