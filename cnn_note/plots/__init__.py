"""Plots: every figure the scripts save and cn.plot draws, from results alone (matplotlib, no TensorFlow).

Holds: figures. May import: errors, results, io.
"""
