# The reference server, for production: PostgreSQL, several workers, logs on stdout.
#
#   docker build -t moncompte-server .
#   docker compose up -d            # with PostgreSQL: compose.yaml, docs/server.md "Production"
#
# It installs the exact versions of requirements/server.txt (hashes checked), runs as an
# unprivileged user, migrates the schema when it starts (one process at a time: the
# migration holds the writers' lock) and seeds no demo data. Settings come from the
# environment: DATABASE_URL (or DATABASE_URL_FILE), DATABASE_PASSWORD_FILE for a secret,
# MONCOMPTE_WORKERS (default 2), MONCOMPTE_LOG_LEVEL (default warning).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /build
COPY requirements/server.txt requirements/server.txt
RUN pip install --require-hashes -r requirements/server.txt
COPY pyproject.toml README.md ./
COPY cli cli
COPY commands commands
COPY domain domain
COPY server server
RUN pip install --no-deps --no-build-isolation . \
    && cd / && rm -rf /build \
    && useradd --system --uid 10001 --home-dir /srv/moncompte --create-home moncompte

USER moncompte
WORKDIR /srv/moncompte
EXPOSE 8765
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8765/readyz', timeout=2)"]
# `exec`: the server replaces the shell as PID 1, so the SIGTERM of `docker stop` reaches it.
CMD ["sh", "-c", "exec python -m server serve --host 0.0.0.0 --port 8765 --workers \"${MONCOMPTE_WORKERS:-2}\" --log-level \"${MONCOMPTE_LOG_LEVEL:-warning}\" --access-log --no-demo"]
