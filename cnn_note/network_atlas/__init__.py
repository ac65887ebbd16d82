"""The atlas of a whole network: a static web site with a page for every unit of every conv layer.

Holds: make (the plan, the units, the dataset scan, the arrays), wiring (weights and class
contributions), on_ray (the same work as Ray tasks), site (the pages). May import everything below the
api: errors, settings, backend, io, core, optvis, dataset_examples, note, and the api's public calls.
"""

from cnn_note.network_atlas.make import atlas, make, plan

__all__ = ["atlas", "make", "plan"]
