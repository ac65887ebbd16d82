"""The one exception the package raises for what a user gave it; at the bottom, so every module can import it."""


class InputError(ValueError):
    """A problem with what the user gave us: one line naming it and the fix. The scripts print it on stderr and exit with
    status 2; the Python API (cn.InputError) raises it."""
