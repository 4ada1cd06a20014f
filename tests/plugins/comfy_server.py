"""A real NodeFlow server (main.py in a child process) whose custom_nodes/ holds the test packs of
tests/plugins/packs, with the files they read: a tiny SD1 checkpoint, state-dict files, an input
picture. Shared by the test modules that run those packs through POST /prompt."""

from __future__ import annotations

import asyncio
import json
import shutil
import struct
import time
from pathlib import Path

import torch
from PIL import Image

from tests.helpers.server_process import ServerProcess, free_port, start
from tests.sd.tiny import write_tiny_sd1

PACKS = Path(__file__).resolve().parent / "packs"


class Server(ServerProcess):
    """A started server with the test packs: JSON calls, prompts run to their history, websocket events."""

    def get(self, path: str):
        return self.request("GET", path)[1]

    def queue(self, prompt: dict, client_id: str | None = None) -> str:
        status, body = self.request(
            "POST", "/prompt", {"prompt": prompt, **({"client_id": client_id} if client_id else {})}
        )
        assert status == 200, body
        return body["prompt_id"]

    def wait_history(self, prompt_id: str, timeout: float = 120) -> dict:
        end = time.time() + timeout
        while time.time() < end:
            history = self.get(f"/history/{prompt_id}")
            if prompt_id in history:
                return history[prompt_id]
            time.sleep(0.1)
        raise AssertionError(f"prompt {prompt_id} did not finish; server log:\n{self.log()[-3000:]}")

    def run(self, prompt: dict) -> dict:
        entry = self.wait_history(self.queue(prompt))
        assert entry["status"]["status_str"] == "success", entry["status"]["messages"]
        return entry["outputs"]

    def output_image(self, ui_image: dict) -> Image.Image:
        folder = self.base / ui_image.get("type", "output") / ui_image.get("subfolder", "")
        return Image.open(folder / ui_image["filename"])

    def events(self, prompt: dict, client_id: str = "tester", linger: float = 0.5) -> tuple[str, list]:
        """Queue ``prompt`` with a websocket open; returns (prompt_id, messages up to the end of the
        prompt and ``linger`` seconds after): ("json", type, data) or ("binary", event, payload)."""
        import aiohttp

        async def go():
            async with (
                aiohttp.ClientSession() as session,
                session.ws_connect(f"http://127.0.0.1:{self.port}/ws?clientId={client_id}") as ws,
            ):
                await ws.receive(timeout=10)  # status
                prompt_id = await asyncio.get_running_loop().run_in_executor(
                    None, lambda: self.queue(prompt, client_id)
                )
                seen, done_at = [], None
                while done_at is None or time.time() < done_at + linger:
                    try:
                        msg = await ws.receive(timeout=0.2 if done_at else 120)
                    except TimeoutError:
                        if done_at is None:
                            raise
                        continue
                    if msg.type == aiohttp.WSMsgType.BINARY:
                        seen.append(("binary", struct.unpack(">I", msg.data[:4])[0], msg.data[4:]))
                    elif msg.type == aiohttp.WSMsgType.TEXT:
                        data = json.loads(msg.data)
                        seen.append(("json", data["type"], data["data"]))
                        if (
                            data["type"] == "executing"
                            and data["data"]["node"] is None
                            and data["data"].get("prompt_id") == prompt_id
                        ):
                            done_at = time.time()
                    else:
                        break
                return prompt_id, seen

        return asyncio.run(go())


def prepare_base(base: Path) -> None:
    """custom_nodes with the test packs and the files they use."""
    shutil.copytree(PACKS, base / "custom_nodes", ignore=shutil.ignore_patterns("__pycache__", "*.md"))
    write_tiny_sd1(base / "models" / "checkpoints" / "tiny_sd1.safetensors")
    pack_models = base / "models" / "pack_models"
    pack_models.mkdir(parents=True)
    from safetensors.torch import save_file

    save_file(
        {"layer.weight": torch.full((2, 3), 2.0), "layer.bias": torch.ones(3)},
        str(pack_models / "weights.safetensors"),
        metadata={"format": "pt", "note": "hello"},
    )
    torch.save({"state_dict": {"layer.weight": torch.full((4,), 0.5)}}, pack_models / "plain.bin")
    torch.save({"weights": torch.ones(1), "payload": Exploit()}, pack_models / "evil.bin")
    (base / "input").mkdir(parents=True, exist_ok=True)
    picture = Image.new("RGB", (48, 40))
    picture.putdata([((x * 5) % 256, (y * 6) % 256, (x * y) % 256) for y in range(40) for x in range(48)])
    picture.save(base / "input" / "pic.png")


class Exploit:
    """A pickled object that would run code when unpickled without weights_only."""

    def __reduce__(self):
        return (print, ("unsafe pickle executed",))


def start_server(base: Path) -> Server:
    prepare_base(base)
    port = free_port()
    return Server(base, port, start(base, port, custom_nodes=True, extra_args=("--cpu",)))
