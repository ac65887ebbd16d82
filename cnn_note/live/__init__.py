"""The note, live: a page where a reader draws a digit and watches every layer of a model (and the DNN beside it) answer.

Holds: export (a model's walked graph as operations and float32 weights the page computes with
TensorFlow.js, or one line saying why it cannot: a CNN's layers, and a transformer's, its tokens drawn on their
patch grid with the class token's attention beside them) and page (live.html, its scripts and style, with
TensorFlow.js vendored from the npm registry under assets/vendor with its licence). May import:
errors, settings, backend, io, core.
"""
