"""What the ESL client raises."""

from __future__ import annotations


class EslError(Exception):
    """Base of every ESL client error."""


class ConnectionLost(EslError):
    """The socket to FreeSWITCH is gone (or was never up); the command's outcome is unknown."""


class CommandTimeout(EslError):
    """No reply within the timeout. The connection stays up; a late reply is discarded."""


class AuthFailed(EslError):
    """FreeSWITCH refused the password (or the ACL refused us)."""


class CommandError(EslError):
    """FreeSWITCH answered a command with ``-ERR``."""

    def __init__(self, command: str, reply: str) -> None:
        super().__init__(f"{command}: {reply}")
        self.command = command
        self.reply = reply
