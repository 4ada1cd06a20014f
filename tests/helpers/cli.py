"""``python -m nodeflow ...`` in a child process, as a user types it."""

import subprocess
import sys

from tests.helpers.server_process import ROOT


def nodeflow(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "nodeflow", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120
    )
