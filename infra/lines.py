"""One line for an operator on stderr (cheap to import: the command line's `--help` uses it)."""

from __future__ import annotations

import sys


class CommandFailed(Exception):
    """A sentence for the operator: the CLI prints it on one line and exits with code 2."""


def say(line: str) -> None:
    """One line on stderr, never wrapped or decorated."""
    sys.stderr.write(line.rstrip("\n") + "\n")
    sys.stderr.flush()
