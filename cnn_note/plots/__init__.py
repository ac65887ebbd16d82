"""Plots: every figure the scripts save and cn.plot draws, from results alone (matplotlib, no TensorFlow).

Holds: figures (each figure the scripts save) and plotting (cn.plot: a result drawn by its type). May import: errors,
results, io, attribution (its registry, which loads no TensorFlow: which methods' maps are signed).
"""
