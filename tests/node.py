"""Node packages for the tests that run a real client none of our code wrote (npm)."""
import shutil
import subprocess
from pathlib import Path

import pytest


def installed(directory: Path, package: str) -> str:
    """The node executable, once ``package`` is installed in ``directory``; else skip, saying why."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip(f"node and npm are needed to run {package}")
    if not (directory / "node_modules" / package).exists():
        done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=directory,
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:  # the set-up installs it: a failure here is a broken set-up, not a skip
            pytest.fail(f"npm could not install {package}: {done.stderr.strip()[-300:]}")
    return node
