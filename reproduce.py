"""Reproduce the whole note with one command: train both models, look inside the CNN, measure why.

The command lives in cnn_note/cli/reproduce.py; this file keeps `python reproduce.py` where the note's readers expect it.
"""

from cnn_note.cli.reproduce import main

if __name__ == "__main__":
    main()
