"""NodeFlow's example plugin pack: a typed native node and a small editor extension.

Copy this folder to start a pack of your own (or run ``python -m nodeflow new-node NAME``).
"""

from nodeflow.api import Float, Image, Node, Output

WEB_DIRECTORY = "web"


class Vignette(Node):
    """Darken the corners of an image."""

    name = "ExampleVignette"
    display_name = "Vignette (example pack)"
    category = "examples"
    version = "1.0"
    inputs = {
        "image": Image(),
        "strength": Float(default=0.5, min=0.0, max=1.0, step=0.05, tooltip="how dark the corners get"),
    }
    outputs = {"IMAGE": Output("IMAGE", "IMAGE", tooltip="the image with darkened corners")}

    def run(self, image, strength):
        import torch

        _, height, width, _ = image.shape
        ys = torch.linspace(-1, 1, height)[:, None]
        xs = torch.linspace(-1, 1, width)[None, :]
        falloff = (1 - strength * (xs**2 + ys**2) / 2).clamp(0, 1)
        return image * falloff[None, :, :, None]


NODES = [Vignette]
