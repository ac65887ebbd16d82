"""What a run ran on, recorded beside its timings (REPORT.md's Run table, examples.npz)."""

from __future__ import annotations

import os


def machine() -> dict[str, str]:
    """What this ran on: processor, cores, system."""
    import platform

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {"processor": cpu, "cores": str(os.cpu_count()), "system": platform.platform()}
