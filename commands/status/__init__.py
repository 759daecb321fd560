"""`moncompte status`: one screen of everything to keep an eye on.

The package: `command` (the command: options, fetching, choosing the output), `fetch`
(the account data, fetched once as `diagnose` does, and the account checks on it; also
used by `calendar`) and `view` (the screen: contracts, what to do and by when, what
`diagnose` flags as urgent). The overview itself is `domain.overview`.
"""

from __future__ import annotations

from commands.status.command import status

app = status

__all__ = ["app", "status"]
