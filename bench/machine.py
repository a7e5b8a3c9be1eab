"""The machine a bench ran on, for the write-ups in BENCHMARKS.md (imported by the bench scripts beside it)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime


def machine() -> str:
    free = subprocess.run(["free", "-g"], capture_output=True, text=True, check=False).stdout.strip()
    return (f"- nproc: {os.cpu_count()}; CPU: {platform.processor() or platform.machine()}\n"
            f"- python: {sys.version.split()[0]} ({platform.platform()})\n"
            f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}\n"
            f"- free -g:\n\n```\n{free}\n```")
