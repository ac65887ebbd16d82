"""The atlas of a whole network: a static web site with a page for every unit of every conv layer.

Holds: plan (the layers, units, settings and folder, checked before anything is written), units (each unit's
pictures, in pieces, a file each), responses (the dataset scan and the histograms), wiring (weights and class
contributions), on_ray (the same work as Ray tasks), make (all of it in order: cn.atlas), pages (the HTML) and
site (the pictures and pages written), live (the live page: cnn_note.live for the atlas). May import: errors, settings,
results, backend, io, core, optvis, dataset_examples, live, and api (its public calls).
"""

from cnn_note.network_atlas.live import beside_view
from cnn_note.network_atlas.make import atlas, make
from cnn_note.network_atlas.plan import plan

__all__ = ["atlas", "beside_view", "make", "plan"]
