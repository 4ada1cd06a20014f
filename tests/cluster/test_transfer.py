"""Files between head and worker: the inputs a prompt names go out, the worker's new outputs and
shown temp files come back, and the head renames where it already has a file of that name."""

from nodeflow.cluster.transfer import collect_outputs, place_inputs, prompt_inputs, snapshot, store_outputs
from nodeflow.folders import Folders


def folders(path):
    env = Folders(path)
    env.ensure()
    return env


def test_inputs_named_by_a_prompt_travel_and_nothing_else(tmp_path):
    head, worker = folders(tmp_path / "head"), folders(tmp_path / "worker")
    (head.input_dir / "photo.png").write_bytes(b"png-bytes")
    (head.input_dir / "sub").mkdir()
    (head.input_dir / "sub" / "mask.png").write_bytes(b"mask")
    (head.output_dir / "earlier_00001_.png").write_bytes(b"old output")
    (head.input_dir / "unused.png").write_bytes(b"not named")
    prompt = {
        "1": {"class_type": "LoadImage", "inputs": {"image": "photo.png"}},
        "2": {"class_type": "LoadImage", "inputs": {"image": "sub/mask.png"}},
        "3": {"class_type": "LoadImage", "inputs": {"image": "earlier_00001_.png [output]"}},
        "4": {"class_type": "X", "inputs": {"text": "../../etc/passwd", "link": ["1", 0], "n": 3}},
    }
    files = prompt_inputs(head, prompt)
    assert sorted((kind, name) for kind, name, _ in files) == [
        ("input", "photo.png"),
        ("input", "sub/mask.png"),
        ("output", "earlier_00001_.png"),
    ]
    place_inputs(worker, files)
    assert (worker.input_dir / "sub" / "mask.png").read_bytes() == b"mask"
    assert (worker.output_dir / "earlier_00001_.png").read_bytes() == b"old output"


def test_outputs_come_back_renamed_where_the_head_has_the_name(tmp_path):
    head, worker = folders(tmp_path / "head"), folders(tmp_path / "worker")
    (worker.output_dir / "before.png").write_bytes(b"already there")
    before = snapshot(worker.output_dir)
    (worker.output_dir / "NodeFlow_00001_.png").write_bytes(b"new image")
    (worker.output_dir / "run").mkdir()
    (worker.output_dir / "run" / "notes.txt").write_bytes(b"text")
    (worker.temp_dir / "preview_00001_.png").write_bytes(b"preview")
    (worker.temp_dir / "other.png").write_bytes(b"not shown")
    outputs = {
        "9": {"images": [{"filename": "NodeFlow_00001_.png", "subfolder": "", "type": "output"}]},
        "10": {"images": [{"filename": "preview_00001_.png", "subfolder": "", "type": "temp"}]},
        "11": {"text": ["hello"]},
    }
    files = collect_outputs(worker, before, outputs)
    assert sorted((k, n) for k, n, _ in files) == [
        ("output", "NodeFlow_00001_.png"),
        ("output", "run/notes.txt"),
        ("temp", "preview_00001_.png"),
    ]
    (head.output_dir / "NodeFlow_00001_.png").write_bytes(b"the head's own")
    (head.output_dir / "NodeFlow_00002_.png").write_bytes(b"the head's second")
    (head.output_dir / "run").mkdir()
    (head.output_dir / "run" / "notes.txt").write_bytes(b"old notes")
    stored = store_outputs(head, files, outputs)
    assert stored["9"]["images"][0]["filename"] == "NodeFlow_00003_.png"
    assert (head.output_dir / "NodeFlow_00003_.png").read_bytes() == b"new image"
    assert (head.output_dir / "NodeFlow_00001_.png").read_bytes() == b"the head's own"
    assert (head.output_dir / "run" / "notes-2.txt").read_bytes() == b"text"
    assert stored["10"]["images"][0]["filename"] == "preview_00001_.png"
    assert (head.temp_dir / "preview_00001_.png").read_bytes() == b"preview"
    assert stored["11"] == {"text": ["hello"]}
