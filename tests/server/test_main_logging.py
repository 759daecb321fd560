"""`python -m server` writes the database URL to its log: never with the password."""

from __future__ import annotations


def test_server_log_lines_hide_the_database_password() -> None:
    from server.__main__ import _shown

    shown = _shown("postgresql+psycopg://moncompte:s3cret-pw@127.0.0.1:5432/moncompte")
    assert "s3cret-pw" not in shown
    assert shown.startswith("postgresql+psycopg://moncompte:***@127.0.0.1")
