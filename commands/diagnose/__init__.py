"""`moncompte diagnose`: the checks support asks for before you call, and a support file.

The local checks (config, credentials, proxy, cache) need neither network nor account; the
network checks probe the path to the API; the account checks are evaluated by
`domain.diagnose` on data fetched once.

The package: `command` (the command: options, calling, rendering), `prepare` (config,
cache and API URL before the checks), `runner` (`Run`, `Once`, the checks as jobs, the
threads and their deadline, progress), `fetch` (the service status and the account data,
fetched once), `render` (the findings on stdout), `report` (the support file), `staff`
(the account checks of many customers) and `probes` (the local and network probes,
loaded only when the checks run).
"""

from __future__ import annotations

from commands.diagnose.command import diagnose

# cli/app.py names this command's attribute "app". diagnose is one command, not a group: it
# has no Typer app of its own, and `app` is the command function, which cli/app.py
# registers with `app.command("diagnose")` (as it did when it fell back to `diagnose`).
app = diagnose

__all__ = ["app", "diagnose"]
