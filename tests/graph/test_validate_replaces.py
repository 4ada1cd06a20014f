"""Inputs a node's own validation decides (review 5.1-C): ComfyUI V1 inputs named in the
signature of VALIDATE_INPUTS, and native nodes' ``validate_replaces``, skip the built-in
range/list/type checks; LoadImage and LoadImageMask take "x.png [output]" / "[input]" / "[temp]"
and still refuse unknown files and path tricks with a clear error."""

import os
import threading

import pytest
from PIL import Image

from nodeflow.engine.executor import Engine
from nodeflow.engine.job import Job
from nodeflow.graph.validate import validate_prompt
from nodeflow.nodes import image_io
from nodeflow.plugins.comfy_v1 import spec_from_v1
from nodeflow.schema.node import Node, NodeResult
from nodeflow.schema.registry import Registry
from nodeflow.schema.spec import spec_from_node_class
from nodeflow.schema.types import Image as ImageSocket
from nodeflow.schema.types import Int, Mask
from tests.engine import toy_nodes


class V1Wide:
    """A V1 node whose VALIDATE_INPUTS accepts more than INPUT_TYPES declares."""

    RETURN_TYPES = ()
    FUNCTION = "show"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "amount": ("INT", {"default": 1, "min": 0, "max": 10}),
                "choice": (["a", "b"],),
                "strict": ("INT", {"default": 1, "min": 0, "max": 10}),
            }
        }

    @classmethod
    def VALIDATE_INPUTS(cls, amount, choice):
        if amount > 100:
            return f"amount must be at most 100, got {amount}"
        return True

    def show(self, amount, choice, strict):
        return {"ui": {"text": [f"{amount}:{choice}:{strict}"]}}


class Shows(Node):
    category = "test"
    output_node = True
    inputs = {"image": ImageSocket(), "mask": Mask(optional=True)}
    outputs = {}

    def run(self, image, mask=None):
        return NodeResult(ui={"text": [f"{tuple(image.shape)}"]})


class ShowsMask(Node):
    category = "test"
    output_node = True
    inputs = {"mask": Mask()}
    outputs = {}

    def run(self, mask):
        return NodeResult(ui={"text": [f"{tuple(mask.shape)}"]})


@pytest.fixture
def registry():
    reg = Registry()
    reg.add_module(toy_nodes)
    reg.add_module(image_io)
    reg.add_class(Shows, "test")
    reg.add_class(ShowsMask, "test")
    reg.add(spec_from_v1(V1Wide, "V1Wide", None, "test"))
    return reg


def wide(amount=50, choice="c", strict=1):
    return {"1": {"class_type": "V1Wide", "inputs": {"amount": amount, "choice": choice, "strict": strict}}}


def errors(validation, node="1"):
    return validation.node_errors[node]["errors"]


def run(registry, env, prompt):
    validation = validate_prompt(registry, env, prompt)
    assert validation.ok, validation.node_errors
    events = []
    result = Engine(registry, env).execute(
        Job("p", prompt, validation.outputs), lambda t, d: events.append((t, d)), threading.Event()
    )
    assert result.status == "success", result.error
    return result


def test_v1_inputs_named_by_validate_inputs_skip_the_built_in_checks(registry, env):
    assert registry.get("V1Wide").validate_replaces == {"amount", "choice"}
    result = run(registry, env, wide(50, "c"))  # over max, not in the list: VALIDATE_INPUTS decides
    assert result.outputs["1"] == {"text": ["50:c:1"]}
    (err,) = errors(validate_prompt(registry, env, wide(500)))
    assert err["type"] == "custom_validation_failed" and "at most 100" in err["details"]


def test_v1_inputs_not_named_keep_the_built_in_checks(registry, env):
    (err,) = errors(validate_prompt(registry, env, wide(strict=11)))
    assert err["type"] == "value_bigger_than_max" and err["extra_info"]["input_name"] == "strict"


def test_native_validate_replaces_must_name_inputs_and_have_a_validate():
    class NoValidate(Node):
        inputs = {"n": Int()}
        validate_replaces = ("n",)

    class Unknown(Node):
        inputs = {"n": Int()}
        validate_replaces = ("m",)

        @classmethod
        def validate(cls, env, n):
            return True

    with pytest.raises(TypeError, match="needs a validate"):
        spec_from_node_class(NoValidate)
    with pytest.raises(TypeError, match=r"\['m'\]"):
        spec_from_node_class(Unknown)


@pytest.mark.parametrize("folder", ["input", "output", "temp"])
def test_load_image_takes_annotated_names(registry, env, folder):
    Image.new("RGB", (6, 5), (0, 0, 255)).save(env.directory(folder) / "pic.png")
    prompt = {
        "1": {"class_type": "LoadImage", "inputs": {"image": f"pic.png [{folder}]"}},
        "2": {"class_type": "Shows", "inputs": {"image": ["1", 0], "mask": ["1", 1]}},
        "3": {"class_type": "LoadImageMask", "inputs": {"image": f"pic.png [{folder}]", "channel": "blue"}},
        "4": {"class_type": "ShowsMask", "inputs": {"mask": ["3", 0]}},
    }
    result = run(registry, env, prompt)
    assert result.outputs["2"] == {"text": ["(1, 5, 6, 3)"]} and result.outputs["4"] == {"text": ["(1, 5, 6)"]}


def test_load_image_still_takes_listed_names_and_subfolders(registry, env):
    (env.input_dir / "sub").mkdir()
    Image.new("RGB", (3, 3)).save(env.input_dir / "sub" / "a.png")
    prompt = {
        "1": {"class_type": "LoadImage", "inputs": {"image": "sub/a.png"}},
        "2": {"class_type": "Shows", "inputs": {"image": ["1", 0]}},
    }
    assert run(registry, env, prompt).outputs["2"] == {"text": ["(1, 3, 3, 3)"]}


@pytest.mark.parametrize(
    "name, says",
    [
        ("nope.png [output]", "not found"),
        ("nope.png", "not found"),
        ("pic.png [other]", "not found"),
        ("../pic.png", "safe"),
        ("../output/pic.png", "safe"),
        ("sub/../../pic.png [output]", "safe"),
        ("/etc/passwd", "safe"),
        ("a\\..\\pic.png", "safe"),
        ("pic.png\x00 [output]", "safe"),
        ("", "file name"),
        (5, "file name"),
        ({"name": "pic.png"}, "file name"),
    ],
)
def test_load_image_refuses_unknown_files_and_path_tricks(registry, env, name, says):
    Image.new("RGB", (2, 2)).save(env.output_dir / "pic.png")
    for node in ("LoadImage", "LoadImageMask"):
        inputs = {"image": name} if node == "LoadImage" else {"image": name, "channel": "alpha"}
        prompt = {
            "1": {"class_type": node, "inputs": inputs},
            "2": {
                "class_type": "Shows" if node == "LoadImage" else "ShowsMask",
                "inputs": {"image" if node == "LoadImage" else "mask": ["1", 0]},
            },
        }
        (err,) = errors(validate_prompt(registry, env, prompt))
        assert err["type"] == "custom_validation_failed" and says in err["details"], err


def test_load_image_refuses_a_symlink_out_of_its_folder(registry, env, tmp_path):
    outside = tmp_path / "secret.png"
    Image.new("RGB", (2, 2)).save(outside)
    os.symlink(outside, env.output_dir / "link.png")
    prompt = {
        "1": {"class_type": "LoadImage", "inputs": {"image": "link.png [output]"}},
        "2": {"class_type": "Shows", "inputs": {"image": ["1", 0]}},
    }
    (err,) = errors(validate_prompt(registry, env, prompt))
    assert "resolves outside" in err["details"]
