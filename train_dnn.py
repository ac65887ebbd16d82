"""Train the note's DNN (784-500-500-500-10) on the first 10,000 MNIST images; prints Train/Test Acc.

The command lives in cnn_note/cli/train_dnn.py; this file keeps `python train_dnn.py` where the note's readers expect it.
"""

from cnn_note.cli.train_dnn import main

if __name__ == "__main__":
    main()
