"""The one exception the package raises for what a user gave it; at the bottom, so every module can import it.

A message names what the user gave in the words of whoever gave it: the Python API's keyword (`size=5000`) for a
notebook, the script's flag (`--size 5000`) on the command line. One raise serves both: the message is made of text and
`Argument`s, and each voice says the arguments its own way.
"""

from __future__ import annotations

_UNSET = object()


class Argument:
    """Something the user gave, named in a message: a keyword in Python, a flag on the command line.

    Args:
        name: the Python keyword, such as "examples_from"; the flag is the same with dashes (--examples-from).
        value: what was given, shown after the name (`size=5000`, `--size 5000`); leave it out to name the setting alone.
        quoted: show the value in quotes on the command line too (`--layers 'conv1=x'`).
        python: how Python says it, where that is not the keyword (default: `name=value`, or the keyword alone).
        flag: how the command line says it, where that is not the flag (default: `--name value`, or the flag alone).
    """

    def __init__(self, name: str, value: object = _UNSET, *, quoted: bool = False, python: str | None = None,
                 flag: str | None = None) -> None:
        self.name, self.value, self.quoted, self.python, self.flag = name, value, quoted, python, flag

    def said(self, on_command_line: bool) -> str:
        """The argument as the command line (True) or Python (False) names it."""
        given = self.value is not _UNSET
        if on_command_line:
            if self.flag is not None:
                return self.flag
            flag = "--" + self.name.replace("_", "-")
            return f"{flag} {self.value!r}" if given and self.quoted else f"{flag} {self.value}" if given else flag
        if self.python is not None:
            return self.python
        return f"{self.name}={self.value!r}" if given else self.name


class InputError(ValueError):
    """A problem with what the user gave us: one line naming it and the fix.

    The Python API (cn.InputError) raises it, and str() says it in Python's words; the scripts print
    `on_command_line()` on stderr and exit with status 2.

    Args:
        *parts: the message, text and Arguments, joined as they are (spaces included).
    """

    def __init__(self, *parts: str | Argument) -> None:
        self.parts = parts
        super().__init__(self.said(on_command_line=False))

    def said(self, on_command_line: bool) -> str:
        """The message with every argument named as the command line (True) or Python (False) names it."""
        return "".join(part.said(on_command_line) if isinstance(part, Argument) else str(part) for part in self.parts)

    def on_command_line(self) -> str:
        """The message as a script prints it: arguments named by their flags."""
        return self.said(on_command_line=True)


def raised(error: BaseException) -> str:
    """What the user's own code raised, for a line that reports it: its type and its message's first line (at most 200
    characters), such as `TypeError: no such layer` or `KeyError` for an empty message."""
    text = str(error).strip()
    return type(error).__name__ + (": " + text.splitlines()[0][:200] if text else "")
