"""`moncompte contracts [list] | contracts show ID`: what the customer holds.

The list is one row per contract. `show` is a detail page: the contract's fields, then its
equipment, options, shipments, partwork progress and outages, each as its own table. In
`-o json` `show` prints the contract exactly as the API gives it (every field, nested
lists included), so scripts get one stable document whatever the locale.

The package: `command.py` (the Typer app and its commands), `columns.py` (the column
specifications) and `views.py` (kinds and statuses in words, the detail page's sections).
"""

from __future__ import annotations

from commands.contracts.command import app

__all__ = ["app"]
