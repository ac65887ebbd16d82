"""The command lines: each script's main(argv), which the root scripts and the installed commands both call.

Holds: arguments (flag types, shared flags, one-line failures) and a module per command. May import: everything.
Nothing in the package imports it; the root scripts, the console-script entry points (commands) and the benchmarks
that run a script's main do.
"""
