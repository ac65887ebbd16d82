"""Why did the CNN decide this? Attribution maps: saliency, SmoothGrad, Integrated Gradients, Grad-CAM, occlusion, LIME.

The command lives in cnn_note/cli/explain.py; this file keeps `python explain.py` where the note's readers expect it.
"""

from cnn_note.cli.explain import main

if __name__ == "__main__":
    main()
