"""Take README's picture: start NodeFlow on a temporary base folder, open the editor on its default
workflow in headless Chromium, run it, and save a screenshot with the output on the canvas.

    python tools/screenshot_editor.py [docs/images/editor.png]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]


def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as base:
        port = 8199
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), "--port", str(port), "--base-directory", base],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(300):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/prompt", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = browser.new_context(viewport={"width": 1600, "height": 860}, bypass_csp=True).new_page()
                page.goto(f"http://127.0.0.1:{port}/")
                page.wait_for_function("document.body.dataset.ready === 'true'", timeout=30000)
                page.click("#queue-button")
                save = page.evaluate(
                    "() => [...window.nodeflow.graph.nodes.values()].find(n => n.type === 'SaveImage').id"
                )
                page.wait_for_function(
                    "(id) => window.nodeflow.app.state.runtime.images.has(id)", arg=save, timeout=180000
                )
                page.wait_for_timeout(1000)
                out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out))
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    print(out)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "images" / "editor.png")
