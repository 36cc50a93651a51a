"""Errors of the listener."""


class ListenError(RuntimeError):
    """The listener cannot run at all (a model package is missing); the message says what to do."""
