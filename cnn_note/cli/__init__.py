"""The command lines: each script's main(argv), which the root scripts and the installed commands both call.

Holds: arguments (flag types, shared flags, one-line failures) and a module per command. May import
everything; nothing imports it but the root scripts and the console-script entry points.
"""
