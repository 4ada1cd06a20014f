"""A prompt whose output cannot be written (disk full, read-only or blocked output folder) ends in
the history as an error naming the folder, and the prompts queued behind it still run."""

import os

import pytest

from tests.helpers.server_process import call, free_port, start, wait

pytestmark = pytest.mark.slow  # server processes on a full disk


def saving(node, prefix, seed, slow_steps=1):
    return {
        "1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": seed}},
        "2": {"class_type": node, "inputs": {"images": ["1", 0], "filename_prefix": prefix}},
        "3": {"class_type": "Const", "inputs": {"value": seed}},
        "4": {"class_type": "Slow", "inputs": {"value": ["3", 0], "steps": slow_steps}},
        "5": {"class_type": "Show", "inputs": {"value": ["4", 0]}},
    }


def unwritable_folder(folder):
    """A folder in output/ that refuses writes: read-only when chmod works (not as root); as root,
    where permissions do not stop writes, a file stands where the folder should be."""
    folder.mkdir()
    os.chmod(folder, 0o555)
    try:
        (folder / "probe").write_bytes(b"")
    except PermissionError:
        return "Permission denied"
    (folder / "probe").unlink()
    os.chmod(folder, 0o755)
    folder.rmdir()
    folder.write_bytes(b"not a folder")
    return "File exists"


def error_of(entry):
    status = entry["status"]
    assert status["status_str"] == "error" and status["completed"] is False
    kind, data = status["messages"][-1]
    assert kind == "execution_error"
    return data


def test_unwritable_output_fails_the_prompt_and_the_queue_goes_on(tmp_path):
    port = free_port()
    proc = start(tmp_path, port, extra_args=["--extra-node-module", "tests.server.disk_full_nodes"])
    output = tmp_path / "output"
    reason = unwritable_folder(output / "blocked")
    try:
        ids = [
            call(port, "POST", "/prompt", {"prompt": prompt})["prompt_id"]
            for prompt in (
                saving("SaveImageDiskFull", "full/img", 1, slow_steps=20),
                saving("SaveImage", "blocked/img", 2),
                saving("SaveImage", "fine/img", 3),
            )
        ]
        history = wait(lambda: (h := call(port, "GET", "/history")) and all(p in h for p in ids) and h, timeout=60)
        assert [p for p in history if p in ids] == ids  # ran in queue order

        full = error_of(history[ids[0]])
        assert full["node_id"] == "2" and full["exception_type"] == "OSError"
        assert "No space left on device" in full["exception_message"]
        assert str(output / "full") in full["exception_message"]

        blocked = error_of(history[ids[1]])
        assert blocked["node_id"] == "2"
        assert f"cannot write images to {output / 'blocked'}" in blocked["exception_message"]
        assert reason in blocked["exception_message"]

        fine = history[ids[2]]
        assert fine["status"]["status_str"] == "success", fine["status"]
        images = fine["outputs"]["2"]["images"]
        assert images == [{"filename": "img_00001_.png", "subfolder": "fine", "type": "output"}]
        assert (output / "fine" / "img_00001_.png").is_file()
        assert fine["outputs"]["5"] == {"text": ["3"]}
        assert call(port, "GET", "/queue") == {"queue_running": [], "queue_pending": []}
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        if (output / "blocked").is_dir():
            os.chmod(output / "blocked", 0o755)
