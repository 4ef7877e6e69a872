"""The machine a measurement ran on, named in every report: ratios differ from one to another."""

import os
import platform
from contextlib import suppress

import django


def machine() -> dict:
    """The processor (as the kernel names it), its cores, and the Python and Django running."""
    processor = platform.processor() or platform.machine()
    with suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        names = (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
        processor = next(names, processor)
    return {
        "processor": processor,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "django": django.get_version(),
    }
