"""The native node base class: a node declares its schema as class attributes and does its
one job in ``run``.

    class ImageInvert(Node):
        '''Invert the colours of an image.'''
        category = "image"
        inputs = {"image": Image()}
        outputs = {"IMAGE": Image()}

        def run(self, image):
            return 1.0 - image

``run`` returns one value per output: a tuple, a single value when there is one output,
or ``NodeResult(outputs, ui)`` when the node also shows something in the editor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .types import Hidden, Input, Output


@dataclass
class NodeResult:
    """What a node returns when it shows something in the editor (``ui``) besides outputs."""

    outputs: tuple = ()
    ui: dict | None = None
    # An API-format graph of ephemeral nodes that runs in place of this node; ``outputs`` may then
    # hold links ``[node_id, index]`` into it (ComfyUI's node expansion, see engine/expansion.py).
    expand: dict | None = None


class Node:
    """Base class for built-in and native plugin nodes.

    Class attributes (all data, read by the registry):
      name            registry key; defaults to the class name
      display_name    label in the editor; defaults to name
      category        library path, "image/upscaling"
      description     defaults to the docstring
      version         bumped when inputs or behaviour change
      inputs          {name: descriptor}; ``optional=True`` descriptors go under "optional",
                      ``Hidden(...)`` ones under "hidden"
      outputs         {name: Socket | Output}
      output_node     True for nodes that save or show results (they are what a prompt runs)
      input_is_list   receive every input as a whole list (ComfyUI's INPUT_IS_LIST)
      deterministic   False: never served from the output cache
      idempotent      False: the output is cached per node id (two nodes with the same inputs
                      never share it); nodes with a ``Hidden("UNIQUE_ID")`` input are keyed so too
      validate_replaces  names of widget inputs whose values only ``validate`` checks (the
                      built-in range/list/type checks are skipped; ``run`` gets the value as given).
                      E.g. LoadImage also takes "x.png [output]", which is not in its file list.
    """

    name: ClassVar[str | None] = None
    display_name: ClassVar[str | None] = None
    category: ClassVar[str] = "misc"
    description: ClassVar[str | None] = None
    version: ClassVar[str] = "1.0"
    inputs: ClassVar[dict[str, Input | Hidden]] = {}
    outputs: ClassVar[dict[str, Any]] = {}
    output_node: ClassVar[bool] = False
    input_is_list: ClassVar[bool] = False
    deterministic: ClassVar[bool] = True
    idempotent: ClassVar[bool] = True
    validate_replaces: ClassVar[tuple[str, ...]] = ()
    deprecated: ClassVar[bool] = False
    experimental: ClassVar[bool] = False

    # Set by the engine before run(): progress, interrupt, model manager, folders.
    ctx: Any = None

    def run(self, **inputs: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__}.run is not implemented")

    @classmethod
    def fingerprint(cls, env: Any, **inputs: Any) -> Any:
        """Extra cache-key material for nodes that read files (e.g. the file's hash).

        ``inputs`` holds the node's literal (widget) inputs. Return None when the literal
        inputs say everything; return float("nan") to never cache.
        """
        return None

    @classmethod
    def validate(cls, env: Any, **inputs: Any) -> bool | str:
        """Extra validation of literal inputs; return True or a message naming the fix."""
        return True

    def check_lazy(self, **inputs: Any) -> list[str]:
        """For nodes with ``lazy`` inputs: the names of lazy inputs that must be evaluated,
        given the inputs available so far (unevaluated lazy inputs are None)."""
        return [name for name, desc in self.inputs.items() if getattr(desc, "lazy", False)]


def output_list(outputs: dict[str, Any]) -> list[Output]:
    """Normalise a node's ``outputs`` mapping into Output records."""
    result = []
    for name, desc in outputs.items():
        if isinstance(desc, Output):
            result.append(Output(desc.type_name, desc.name or name, desc.is_list, desc.tooltip))
        elif isinstance(desc, Input):
            result.append(Output(desc.type_name, name, False, desc.tooltip))
        elif isinstance(desc, str):
            result.append(Output(desc, name))
        else:
            raise TypeError(f"output {name!r}: expected a Socket, Output or type name, got {desc!r}")
    return result
