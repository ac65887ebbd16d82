"""Feature visualisation by gradient ascent on the input, after Lucid's optvis: what a unit or a class looks for.

Holds: objectives (what to maximise, as functions of a batch of pictures), parameterisation (what
moves and the step it takes, one object per way, looked up by name: pixels, fourier), transforms (the
random moves each step scores under), ascent (the render loop, which knows nothing of what it
maximises or moves), render (filter and class pictures, feature maps), dream (deep dream over
octaves and tiles). May import: errors, settings, backend, io, core.
"""
