"""The reference API server of `moncompte`, also the built-in sandbox.

Importing this package must stay cheap: the CLI imports `server.embedded` only when it runs
the sandbox, and nothing here pulls FastAPI, SQLAlchemy or uvicorn at import time.
"""
