"""Deep dream: amplify what a trained CNN's layers already see in a picture, as in the note.

The command lives in cnn_note/cli/deep_dream.py; this file keeps `python deep_dream.py` where the note's readers expect it.
"""

from cnn_note.cli.deep_dream import main

if __name__ == "__main__":
    main()
