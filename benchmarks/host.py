"""The machine a measurement ran on, named in every report: ratios differ from one to another."""

import platform


def processor_name() -> str:
    """The processor's model name as the kernel reports it, else what Python knows of it."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
