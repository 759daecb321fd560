"""`moncompte terminate CONTRACT`: what ending a contract costs, withdrawal, termination.

- `--quote [--on DATE]` shows the loi Chatel breakdown the server computes (months left in
  year 1 owed in full, 25 % of the months left in year 2, the provider's fee), the end of
  the commitment, the equipment return and whether withdrawal is still possible;
- `--withdraw` withdraws within the 14-day period (everything paid is refunded);
- otherwise the contract is terminated: the quote first, then a confirmation (the contract
  reference typed at a prompt, or `--yes`), then what happens next.

The server decides everything (fee, dates, refusals); this command only shows it. Refusals
exit 5 and name the rule.

The package: `command` (the command: options and the three actions), `requests` (the
contract and its quote, rule refusals named with their code), `confirm` (the contract
reference typed back) and `view` (the quote, the termination and the equipment to return,
as shown).
"""

from __future__ import annotations

from commands.terminate.command import terminate

# cli/app.py names this command's attribute "app" and falls back to `terminate`, the command
# function (one command, not a group), which it registers with `app.command("terminate")`.
__all__ = ["terminate"]
