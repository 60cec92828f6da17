"""Run a plugin package's own tests the way its author would: a fresh interpreter, its folder."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

#: A fenced block whose first line names the file it is: "# file: path".
FILE_BLOCK = re.compile(r"```[a-z]*\n# file: (?P<path>[^\n]+)\n(?P<body>.*?)```", re.DOTALL)


def run_its_tests(package: Path, *, site: Path | None = None) -> subprocess.CompletedProcess:
    """Run pytest in ``package`` (uninstalled: its pyproject puts the folder on the path;
    ``site``, a folder of installed distributions, goes on the path too)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    if site is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=package,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def file_blocks(markdown: str) -> dict[str, str]:
    """The files a page's "# file:" blocks make, by path; blocks naming one file are joined."""
    files: dict[str, list[str]] = {}
    for block in FILE_BLOCK.finditer(markdown):
        files.setdefault(block["path"].strip(), []).append(block["body"])
    return {path: "\n".join(parts) for path, parts in files.items()}


def write_file_blocks(markdown: str, target: Path) -> dict[str, str]:
    """Write the files of a page's "# file:" blocks under ``target``; answer them by path."""
    files = file_blocks(markdown)
    for path, text in files.items():
        destination = target / path
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(text)
    return files


def install_metadata(site: Path, dist: str, entry_points: dict[str, str]) -> None:
    """Write the metadata ``pip install -e .`` leaves: the distribution and its
    ``hub.plugins`` entry points (the code stays where it is, on the path)."""
    info = site / f"{dist.replace('-', '_')}-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1.0\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[hub.plugins]\n{lines}")
