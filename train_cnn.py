"""Train the note's CNN on the first 10,000 MNIST images; prints Train/Test Acc and saves the model.

The command lives in cnn_note/cli/train_cnn.py; this file keeps `python train_cnn.py` where the note's readers expect it.
"""

from cnn_note.cli.train_cnn import main

if __name__ == "__main__":
    main()
