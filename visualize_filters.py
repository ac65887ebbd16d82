"""What does each filter of a trained CNN look for? Gradient ascent on the input, as in the note.

The command lives in cnn_note/cli/visualize_filters.py; this file keeps `python visualize_filters.py` where the note's readers expect it.
"""

from cnn_note.cli.visualize_filters import main

if __name__ == "__main__":
    main()
