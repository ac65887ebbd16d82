"""The note's reproduction: MNIST, the note's DNN and CNN, its training recipe, the distortions, the report.

Holds: data (MNIST from a path, else Keras), models (the two networks), transformer (a small ViT of the digits beside
them, every layer of it one the live page computes),
training (the recipe, seeds, processes), distortions (shifts and row drops), reporting (REPORT.md and
comparison.md). May import: errors, settings, results (Run's compact repr), backend, io, plots.
"""
