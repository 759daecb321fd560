"""`moncompte calendar [--to FILE.ics|-] [--months N]`: an iCalendar (RFC 5545) file of the
upcoming debits, instalments, invoice dates and deadlines, to import into a calendar.

The package: `command` (the command: options, fetching, writing the file atomically) and
`ics` (the events in words, in the user's language, and the iCalendar document built
with the icalendar library). The events themselves, with their stable UIDs, are
`domain.agenda`.
"""

from __future__ import annotations

from commands.calendar.command import calendar

app = calendar

__all__ = ["app", "calendar"]
