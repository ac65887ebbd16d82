"""Files, pictures and progress: what the tools read and write, and how they report while they work.

Holds: writing (every file lands whole or not at all), imaging (reading and resizing pictures),
progress (bars, log lines, the callback protocol), names (ImageNet's class names, from Keras's
cache). May import: errors, settings, backend. Nothing here knows what a model is.
"""
