"""Prompt expansion nodes: load a small local language model from models/prompt_expanders/<folder>
and let it extend ("continue") or rewrite ("instruct") a prompt, streaming the text as it comes."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from nodeflow.models.expander import DEFAULT_INSTRUCTION, MODES, Expander, generate, load_expander
from nodeflow.models.expander_words import parse_whitelist
from nodeflow.schema.node import Node, NodeResult
from nodeflow.schema.types import Combo, Float, Int, Output, Socket, String

KIND = "prompt_expanders"
SEED_MAX = 0xFFFFFFFFFFFFFFFF


def folder_fingerprint(folder: Path) -> tuple:
    """(relative name, size, mtime_ns) of every file in the folder: changes when a file does."""
    entries = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            stat = os.stat(os.path.join(root, name))
            entries.append((os.path.relpath(os.path.join(root, name), folder), stat.st_size, stat.st_mtime_ns))
    return tuple(entries)


class PromptExpanderLoader(Node):
    """Load a prompt expander: a Hugging Face causal language model folder (config.json,
    model.safetensors, tokenizer files) in models/prompt_expanders. An optional whitelist.txt
    in the folder limits generated words to the words it lists."""

    display_name = "Load Prompt Expander"
    category = "loaders"
    inputs = {"model_name": Combo(files=KIND, tooltip="a model folder in models/prompt_expanders")}
    outputs = {"PROMPT_EXPANDER": Socket("PROMPT_EXPANDER")}

    @classmethod
    def fingerprint(cls, env: Any, model_name: str) -> tuple:
        return folder_fingerprint(env.model_path(KIND, model_name))

    def run(self, model_name: str) -> Expander:
        folder = self.ctx.env.model_path(KIND, model_name)
        models = self.ctx.models
        if models is None:
            return load_expander(folder)
        key = ("prompt_expander", str(folder), folder_fingerprint(folder))
        return models.load(key, lambda: load_expander(folder))


class ExpandPrompt(Node):
    """Expand a short prompt with a prompt expander. "continue" extends the text with descriptive
    phrases and never repeats a word already present; "instruct" rewrites it through the model's
    chat template with the instruction as system message. Tokens stream to the editor."""

    display_name = "Expand Prompt"
    category = "conditioning/prompt"
    inputs = {
        "expander": Socket("PROMPT_EXPANDER"),
        "text": String(default="", multiline=True, dynamic_prompts=True),
        "seed": Int(default=0, min=0, max=SEED_MAX, control_after_generate=True),
        "max_new_tokens": Int(default=48, min=1, max=512, step=1),
        "temperature": Float(default=0.7, min=0.0, max=2.0, step=0.05, tooltip="0 = always the likeliest token"),
        "top_k": Int(default=40, min=0, max=1000, step=1, tooltip="0 = off"),
        "top_p": Float(default=0.9, min=0.0, max=1.0, step=0.01),
        "mode": Combo(choices=list(MODES), default="continue"),
        "instruction": String(
            default=DEFAULT_INSTRUCTION, multiline=True, optional=True, tooltip="system message in instruct mode"
        ),
        "whitelist": String(
            default="",
            multiline=True,
            optional=True,
            tooltip="allowed words, one per line; empty = the folder's whitelist.txt or none",
        ),
    }
    outputs = {"text": Output("STRING", "text")}

    def run(
        self,
        expander: Expander,
        text: str,
        seed: int,
        max_new_tokens: int,
        temperature: float,
        top_k: int,
        top_p: float,
        mode: str,
        instruction: str | None = None,
        whitelist: str | None = None,
    ) -> NodeResult:
        ctx = self.ctx
        words = parse_whitelist(whitelist) if whitelist and whitelist.strip() else None

        def on_token(step: int, total: int, piece: str) -> None:
            if piece:
                ctx.send_text(piece)
            ctx.progress(step, total)  # also where an interrupt stops generation

        models = getattr(ctx, "models", None)
        placement = models.use(expander.model) if models is not None else contextlib.nullcontext()
        result = generate(
            expander,
            text,
            seed=seed,
            max_new_tokens=max_new_tokens,
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            mode=mode,
            whitelist=words,
            instruction=instruction,
            callback=on_token,
            placement=placement,
        )
        return NodeResult(outputs=(result.text,), ui={"text": [result.text]})
