"""The machine a measurement ran on, named in every report: ratios differ from one to another."""

import platform
from contextlib import suppress


def processor_name() -> str:
    """The processor's model name as the kernel reports it, else what Python knows of it."""
    with suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()
