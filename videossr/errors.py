"""User-facing errors: a mistake in what the user asked for (bad argument, bad recipe, bad path).

The CLI prints ``error: <message>`` on one line and exits 2 for these; library callers catch
``UserError`` like any ``ValueError``.
"""

from __future__ import annotations


class UserError(ValueError):
    """Something the user can fix by changing the command, a file or a folder."""
