"""Measure the note's three reasons for CNNs with the trained DNN and CNN.

The command lives in cnn_note/cli/why_cnn.py; this file keeps `python why_cnn.py` where the note's readers expect it.
"""

from cnn_note.cli.why_cnn import main

if __name__ == "__main__":
    main()
