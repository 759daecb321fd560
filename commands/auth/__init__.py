"""`moncompte login | logout | whoami`.

The package: `command` (the three commands: options, calls, what is shown) and `flows`
(how login gets its credential: the store, the username, the password, a token on stdin,
the password grant with its one-time code).
"""

from __future__ import annotations

from commands.auth.command import login, logout, whoami

__all__ = ["login", "logout", "whoami"]
