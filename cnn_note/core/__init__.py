"""The model as the tools see it: loading, the graph walk in inference mode, heads, checks, the View, batching.

Holds: loading (a model from memory, a file or a network name), traversal (the walk over the user's
layers with training=False), heads (what the output is), checks (what the tools accept), networks
(keras.applications names and pixel conventions), views (the View every method asks its questions of),
inputs (a model, pictures and class names as the tools take them), batching (the memory rule, what a
picture costs, and the loop over batches), tokens (a transformer's tokens as maps on their patch grid), held
(a model of several inputs seen through its picture, the others held), autodiff (the one place that
differentiates, on TensorFlow, JAX or PyTorch).
May import: errors, settings, backend, io. Every method (optvis, attribution, dataset_examples, the atlas)
and the note's reproduction build on this; nothing here imports them.
"""
