"""An atlas of a whole network: a browsable static web site with a page for every unit of every conv layer.

The command lives in cnn_note/cli/atlas.py; this file keeps `python atlas.py` where the note's readers expect it.
"""

from cnn_note.cli.atlas import main

if __name__ == "__main__":
    main()
