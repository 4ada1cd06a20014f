"""The demo pack's procedural data set: one or two simple shapes in named colours, sizes and
positions on a coloured background, each scene with a caption and exact labels.

    scene = random_scene(random.Random(0))
    image = render(scene, 64)          # PIL RGB image
    text = caption(scene)              # "a large red star on a dark blue background, top left"
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from PIL import Image, ImageDraw

SHAPES = ("circle", "square", "triangle", "star", "ring", "diamond")
COLOURS = {
    "red": (220, 30, 30),
    "green": (30, 170, 50),
    "blue": (40, 80, 230),
    "yellow": (240, 220, 40),
    "orange": (245, 140, 20),
    "purple": (150, 50, 190),
    "white": (245, 245, 245),
    "pink": (245, 120, 190),
}
BACKGROUNDS = {
    "dark blue": (20, 30, 80),
    "light grey": (200, 200, 200),
    "black": (10, 10, 10),
    "dark green": (20, 60, 30),
    "beige": (225, 210, 170),
}
SIZES = {"small": 0.22, "large": 0.42}  # shape extent as a fraction of the image side
POSITIONS = {
    "top left": (0.28, 0.28),
    "top right": (0.72, 0.28),
    "bottom left": (0.28, 0.72),
    "bottom right": (0.72, 0.72),
    "center": (0.5, 0.5),
}


@dataclass(frozen=True)
class Shape:
    kind: str
    colour: str
    size: str
    position: str


@dataclass(frozen=True)
class Scene:
    shapes: tuple[Shape, ...]
    background: str


def _clashes(colour: str, background: str) -> bool:
    """Colours that would be hard to see on a background."""
    pairs = {
        ("white", "light grey"),
        ("white", "beige"),
        ("yellow", "beige"),
        ("green", "dark green"),
        ("blue", "dark blue"),
        ("purple", "dark blue"),
    }
    return (colour, background) in pairs


def random_scene(rng: random.Random, max_shapes: int = 2) -> Scene:
    background = rng.choice(list(BACKGROUNDS))
    count = 1 if max_shapes == 1 or rng.random() < 0.7 else 2
    positions = (
        rng.sample([p for p in POSITIONS if p != "center"], count) if count == 2 else [rng.choice(list(POSITIONS))]
    )
    shapes = []
    for position in positions:
        colour = rng.choice([c for c in COLOURS if not _clashes(c, background)])
        shapes.append(Shape(rng.choice(SHAPES), colour, rng.choice(list(SIZES)), position))
    return Scene(tuple(shapes), background)


def caption(scene: Scene) -> str:
    """ "a large red star on a dark blue background, top left" (two shapes joined by "and")."""
    parts = [f"a {s.size} {s.colour} {s.kind}" for s in scene.shapes]
    where = [s.position for s in scene.shapes]
    if len(parts) == 1:
        return f"{parts[0]} on a {scene.background} background, {where[0]}"
    return f"{parts[0]} and {parts[1]} on a {scene.background} background, {where[0]} and {where[1]}"


def _polygon(kind: str, cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    if kind == "square":
        return [(cx - r, cy - r), (cx + r, cy - r), (cx + r, cy + r), (cx - r, cy + r)]
    if kind == "diamond":
        return [(cx, cy - r * 1.2), (cx + r, cy), (cx, cy + r * 1.2), (cx - r, cy)]
    if kind == "triangle":
        return [
            (cx + r * 1.15 * math.cos(a), cy + r * 1.15 * math.sin(a))
            for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)
        ]
    if kind == "star":
        points = []
        for i in range(10):
            radius = r * 1.2 if i % 2 == 0 else r * 0.5
            angle = -math.pi / 2 + i * math.pi / 5
            points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
        return points
    raise ValueError(f"no polygon for shape {kind!r}")


def render(scene: Scene, size: int = 64, jitter: random.Random | None = None) -> Image.Image:
    """Draw the scene (4x supersampled for smooth edges). ``jitter`` moves shapes a little."""
    scale = 4
    side = size * scale
    image = Image.new("RGB", (side, side), BACKGROUNDS[scene.background])
    draw = ImageDraw.Draw(image)
    for shape in scene.shapes:
        fx, fy = POSITIONS[shape.position]
        if jitter is not None:
            fx += jitter.uniform(-0.06, 0.06)
            fy += jitter.uniform(-0.06, 0.06)
        cx, cy, r = fx * side, fy * side, SIZES[shape.size] * side / 2
        fill = COLOURS[shape.colour]
        if shape.kind == "circle":
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
        elif shape.kind == "ring":
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
            inner = r * 0.55
            draw.ellipse((cx - inner, cy - inner, cx + inner, cy + inner), fill=BACKGROUNDS[scene.background])
        else:
            draw.polygon(_polygon(shape.kind, cx, cy, r), fill=fill)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def shape_mask(scene: Scene, index: int, size: int = 64) -> Image.Image:
    """An L-mode mask (255 inside) of one shape of the scene, for inpainting data."""
    shape = scene.shapes[index]
    white = Scene((Shape(shape.kind, "white", shape.size, shape.position),), "black")
    return render(white, size).convert("L").point(lambda v: 255 if v > 64 else 0)


def parse_caption(text: str) -> Scene | None:
    """The scene a caption describes, or None when the text is not a caption of this data set."""
    import re

    words = "|".join
    one = rf"a ({words(SIZES)}) ({words(COLOURS)}) ({words(SHAPES)})"
    where = words(POSITIONS)
    match = re.fullmatch(
        rf"{one}(?: and {one})? on a ({words(BACKGROUNDS)}) background, ({where})(?: and ({where}))?", text.strip()
    )
    if not match:
        return None
    g = match.groups()
    if (g[3] is None) != (g[8] is None):
        return None
    shapes = [Shape(g[2], g[1], g[0], g[7])]
    if g[3] is not None:
        shapes.append(Shape(g[5], g[4], g[3], g[8]))
    return Scene(tuple(shapes), g[6])
