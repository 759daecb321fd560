"""Alembic migrations of the reference server's schema (`python -m server migrate`).

`versions/` holds one file per change, oldest first; `HEAD` below names the newest, so
that starting the server on a database that is already current needs no Alembic at all
(tests/server/test_migrations.py keeps it equal to Alembic's own head, and fails when the
models in server/models.py and the migrations disagree). To change the schema: edit the
models, then

    python -m server migrate --new "what changes"

writes a new file in versions/ from the difference (review it: Alembic's autogenerate
misses renames and some type changes), and set `HEAD` to its revision.
"""

HEAD = "0001"
