"""The backend's error type."""


class OpenFoamError(RuntimeError):
    """An OpenFOAM utility failed; the message holds the tail of its log."""
