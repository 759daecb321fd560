"""`moncompte invoices [list] | show ID [--explain] | download ID [--to FILE|-]`.

`invoices` alone lists, as the README's quick start runs it. The list streams page after
page from the API (`ApiClient.paginate`) into the renderer: JSON lines and CSV never hold
every invoice in memory; only tables, which need the whole set to align columns and add
the totals row, are materialised.

`download` writes the PDF through a temporary file in the destination directory and
`os.replace`/`os.link`, so an interrupted run (Ctrl-C, a dropped connection) never leaves a
half-written PDF behind and an existing file is replaced only with `--force`. The option is
`--to` because `-o` is the global output format.

The package: `command.py` (the Typer app and its commands), `columns.py` (the column
specifications), `views.py` (statuses and kinds in words, the `--explain` text) and
`pdf.py` (fetching the PDF, the default file name, writing it atomically).
"""

from __future__ import annotations

from commands.invoices.command import app

__all__ = ["app"]
