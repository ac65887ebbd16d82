"""The one exception the package raises for what a user gave it; at the bottom, so every module can import it.

A message names what the user gave in the words of whoever gave it: the Python API's keyword (`size=5000`) for a
notebook, the script's flag (`--size 5000`) on the command line. One raise serves both: the message is made of text and
`Argument`s, and each voice says the arguments its own way.

May import: nothing.
"""

from __future__ import annotations

import os
import sys

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


class Command:
    """One of the project's eight commands, named as the user runs them: `python train_cnn.py` in a clone (the root
    scripts beside the package), `cnn-note-train-cnn` where the package is installed without them or where this
    process is itself an installed command. Messages that send the user to another command name it so, and each
    script's usage line and error prefix use `prog`.

    Args:
        script: the root script's name without .py, such as "train_cnn".
        args: flags to give it, such as "--train" (default: none).
    """

    def __init__(self, script: str, args: str = "") -> None:
        self.script, self.args = script, args

    @property
    def prog(self) -> str:
        """The command's own name: `cnn-note-train-cnn` installed, `train_cnn.py` in a clone (as argparse shows it)."""
        return "cnn-note-" + self.script.replace("_", "-") if installed() else f"{self.script}.py"

    def said(self, on_command_line: bool = True) -> str:
        """The command as typed, its flags included; the same in Python's words (it is a command either way)."""
        typed = self.prog if installed() else f"python {self.prog}"
        return f"{typed} {self.args}" if self.args else typed

    __str__ = said


def installed() -> bool:
    """Whether the user runs the installed commands: this process is one (cnn-note-...), or the package was imported
    from where no root script lies beside it (site-packages, not a clone)."""
    launched = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if launched.startswith("cnn-note-"):
        return True
    return not os.path.isfile(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "train_cnn.py"))


class InputError(ValueError):
    """A problem with what the user gave us: one line naming it and the fix.

    The Python API (cn.InputError) raises it, and str() says it in Python's words; the scripts print
    `on_command_line()` on stderr and exit with status 2.

    Args:
        *parts: the message, text, Arguments and Commands, joined as they are (spaces included).
    """

    def __init__(self, *parts: str | Argument | Command) -> None:
        self.parts = parts
        super().__init__(self.said(on_command_line=False))

    def said(self, on_command_line: bool) -> str:
        """The message with every argument named as the command line (True) or Python (False) names it."""
        return "".join(part.said(on_command_line) if isinstance(part, (Argument, Command)) else str(part) for part in self.parts)

    def on_command_line(self) -> str:
        """The message as a script prints it: arguments named by their flags."""
        return self.said(on_command_line=True)


def raised(error: BaseException) -> str:
    """What the user's own code raised, for a line that reports it: its type and its message's first line (at most 200
    characters), such as `TypeError: no such layer` or `KeyError` for an empty message."""
    text = str(error).strip()
    return type(error).__name__ + (": " + text.splitlines()[0][:200] if text else "")
