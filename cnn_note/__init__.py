"""Shared code for the ML2020 CNN-note reproduction: data, models, training, ascent, images."""
