"""Folder listing: ``Folders.list_files`` on an unchanged model folder (the cached listing, checked
with one stat per directory) against the full walk it replaces (the baseline, measured in the same
run on the same tree). Each prompt lists a folder once per file input in validation and once in
execution, and /object_info lists every folder.

    python bench/folder_listing.py [--dirs 40] [--files 50] [--repeats 200]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nodeflow.folder_listing import walk
from nodeflow.folders import Folders


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dirs", type=int, default=40)
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = Folders(tmp)
        env.ensure()
        root = env.models_dir / "checkpoints"
        for d in range(args.dirs):
            folder = root / f"set{d:03}" / "sub"
            folder.mkdir(parents=True)
            for f in range(args.files):
                (folder / f"model{f:03}.safetensors").write_bytes(b"")
        old = time.time() - 60  # folders that have not changed in the last seconds
        for dirpath, _dirs, _files in os.walk(root):
            os.utime(dirpath, (old, old))
        exts = env.extensions_of("checkpoints")
        started = time.perf_counter()
        for _ in range(args.repeats):
            names = walk(Path(root), exts)[0]
        walk_s = (time.perf_counter() - started) / args.repeats
        env.list_files("checkpoints")  # the first call walks
        started = time.perf_counter()
        for _ in range(args.repeats):
            listed = env.list_files("checkpoints")
        cached_s = (time.perf_counter() - started) / args.repeats
        assert sorted(names) == listed
    print(
        json.dumps(
            {
                "files": len(listed),
                "directories": args.dirs * 2 + 1,
                "walk_ms": round(walk_s * 1000, 3),
                "cached_list_files_ms": round(cached_s * 1000, 3),
                "speedup_vs_walk": round(walk_s / cached_s, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
