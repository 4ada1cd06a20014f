"""Prompt expander: loading, seeded sampling, word rules, streaming, instruct mode, the nodes in
the engine. Tiny random GPT-2 models with a tokenizer trained at test time; nothing downloaded."""

from __future__ import annotations

import contextlib
import functools
import json
import random
import shutil
import threading
from pathlib import Path

import pytest
import torch

from nodeflow.engine.context import ExecutionContext
from nodeflow.engine.executor import Engine
from nodeflow.engine.job import Job
from nodeflow.models.expander import DEFAULT_INSTRUCTION, generate, load_expander
from nodeflow.models.expander_words import STOP_WORDS, split_token, words_of
from nodeflow.nodes import display, expander_nodes
from nodeflow.schema.registry import Registry

DEMO = (
    Path(__file__).resolve().parents[2]
    / "nodeflow"
    / "demo"
    / "weights"
    / "prompt_expanders"
    / "nodeflow-demo-expander"
)
SPECIALS = ["<|endoftext|>", "<|user|>", "<|assistant|>", "<|system|>"]
TEMPLATE = (
    "{% for m in messages %}{% if m['role'] == 'system' %}<|system|>{{ m['content'] }}"
    "{% elif m['role'] == 'user' %}<|user|>{{ m['content'] }}"
    "{% else %}<|assistant|>{{ m['content'] }}<|endoftext|>{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
COLOURS = ["red", "blue", "green", "yellow", "purple", "orange", "white", "black"]
SHAPES = ["star", "circle", "square", "triangle", "heart", "cross"]
PLACES = ["top left", "top right", "bottom left", "bottom right", "center"]
PROMPT = "a red star on a blue background"


def captions(count: int = 400, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [
        f"a {rng.choice(['small', 'large', ''])} {rng.choice(COLOURS)} {rng.choice(SHAPES)} on a "
        f"{rng.choice(['dark', 'light', ''])} {rng.choice(COLOURS)} background, {rng.choice(PLACES)}".replace("  ", " ")
        for _ in range(count)
    ]


def build_folder(folder: Path, chat: bool) -> Path:
    """A tiny random GPT-2 with a byte-level BPE tokenizer, saved as a Hugging Face folder."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(captions(), vocab_size=400, min_frequency=1, special_tokens=SPECIALS)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        bos_token=SPECIALS[0],
        eos_token=SPECIALS[0],
        pad_token=SPECIALS[0],
        additional_special_tokens=SPECIALS[1:],
    )
    if chat:
        tokenizer.chat_template = TEMPLATE
    torch.manual_seed(1)
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=128,
        n_embd=32,
        n_layer=2,
        n_head=2,
        bos_token_id=0,
        eos_token_id=0,
        pad_token_id=0,
    )
    model = GPT2LMHeadModel(config).eval()
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def models_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("base") / "models" / "prompt_expanders"
    build_folder(root / "tiny_gpt2", chat=False)
    build_folder(root / "tiny_chat", chat=True)
    return root


@pytest.fixture(scope="module")
def tiny(models_root):
    return load_expander(models_root / "tiny_gpt2")


@pytest.fixture(scope="module")
def chat(models_root):
    return load_expander(models_root / "tiny_chat")


@pytest.fixture
def env_with_models(env, models_root):
    for name in ("tiny_gpt2", "tiny_chat"):
        shutil.copytree(models_root / name, env.models_dir / "prompt_expanders" / name)
    return env


def no_repeats(text: str) -> bool:
    content = [w for w in words_of(text) if w not in STOP_WORDS]
    return len(content) == len(set(content))


# ------------------------------------------------------------------------------------------ loading


def test_folders_list_model_folders_with_config(env_with_models):
    root = env_with_models.models_dir / "prompt_expanders"
    (root / "no_config").mkdir()
    (root / "loose.safetensors").write_bytes(b"x")
    assert env_with_models.list_files("prompt_expanders") == ["tiny_chat", "tiny_gpt2"]
    assert env_with_models.model_path("prompt_expanders", "tiny_gpt2").is_dir()


def test_missing_config_is_a_clear_error(models_root, tmp_path):
    broken = shutil.copytree(models_root / "tiny_gpt2", tmp_path / "broken_expander")
    (broken / "config.json").unlink()
    with pytest.raises(ValueError, match=r"broken_expander.*config\.json"):
        load_expander(broken)


def test_missing_weights_and_non_causal_models_are_refused(models_root, tmp_path):
    no_weights = shutil.copytree(models_root / "tiny_gpt2", tmp_path / "no_weights")
    (no_weights / "model.safetensors").unlink()
    with pytest.raises(ValueError, match=r"no_weights.*no weights"):
        load_expander(no_weights)
    encoder = shutil.copytree(models_root / "tiny_gpt2", tmp_path / "encoder")
    (encoder / "config.json").write_text('{"model_type": "t5", "vocab_size": 400, "d_model": 32, "num_layers": 1}')
    with pytest.raises(ValueError, match=r"encoder.*not a causal language model"):
        load_expander(encoder)
    bigger = shutil.copytree(models_root / "tiny_gpt2", tmp_path / "bigger")
    config = json.loads((bigger / "config.json").read_text())
    (bigger / "config.json").write_text(json.dumps({**config, "n_layer": 3}))
    with pytest.raises(ValueError, match=r"bigger.*do not match config\.json"):
        load_expander(bigger)


class NotATensor:
    pass


def test_pickle_weights_that_need_code_are_refused(models_root, tmp_path):
    folder = shutil.copytree(models_root / "tiny_gpt2", tmp_path / "pickled")
    (folder / "model.safetensors").unlink()
    torch.save({"weight": NotATensor()}, folder / "pytorch_model.bin")
    with pytest.raises(ValueError, match=r"pickled.*refusing pytorch_model\.bin"):
        load_expander(folder)


def test_plain_tensor_pickle_weights_load(models_root, tmp_path, tiny):
    from safetensors.torch import load_file

    folder = shutil.copytree(models_root / "tiny_gpt2", tmp_path / "plain_bin")
    torch.save(load_file(folder / "model.safetensors"), folder / "pytorch_model.bin")
    (folder / "model.safetensors").unlink()
    expander = load_expander(folder)
    args = {"seed": 3, "max_new_tokens": 6, "temperature": 0}
    assert generate(expander, PROMPT, **args).text == generate(tiny, PROMPT, **args).text


# ------------------------------------------------------------------------------------------ sampling


def test_same_seed_same_text_and_seeds_differ(tiny):
    args = {"max_new_tokens": 12, "temperature": 1.0, "top_k": 0, "top_p": 1.0}
    first = generate(tiny, PROMPT, seed=7, **args).text
    assert generate(tiny, PROMPT, seed=7, **args).text == first
    texts = {generate(tiny, PROMPT, seed=s, **args).text for s in range(4)}
    assert len(texts) >= 3
    assert generate(tiny, PROMPT, seed=2**64 - 1, **args).text  # the full seed range works


def test_greedy_ignores_the_seed(tiny):
    texts = {generate(tiny, PROMPT, seed=s, max_new_tokens=10, temperature=0).text for s in (0, 1, 99)}
    assert len(texts) == 1


def test_max_new_tokens_is_honoured(tiny):
    for seed in range(3):
        result = generate(tiny, PROMPT, seed=seed, max_new_tokens=5, temperature=1.0)
        assert len(result.token_ids) <= 5
        assert result.stop != "length" or len(result.token_ids) == 5


@pytest.mark.slow  # 5 s of CPU per case: long generations
@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_continue_never_repeats_a_word(tiny, temperature):
    for seed in range(4):
        result = generate(tiny, PROMPT, seed=seed, max_new_tokens=40, temperature=temperature, top_k=0, top_p=1.0)
        assert result.text.startswith(PROMPT)
        assert no_repeats(result.text), result.text
        prompt_words = set(words_of(PROMPT)) - STOP_WORDS
        assert not prompt_words & set(words_of(result.generated)), result.generated


def test_continuation_starts_a_new_word(tiny):
    """A prompt ending inside a word is not glued onto ("star" never becomes "starx")."""
    for seed in range(4):
        result = generate(tiny, "a red star", seed=seed, max_new_tokens=6, temperature=1.0, top_k=0, top_p=1.0)
        assert words_of(result.text)[:3] == ["a", "red", "star"], result.text


def test_whitelist_respected(tiny):
    allowed = {"red", "blue", "star", "circle", "on", "a", "background", "green", "large", "dark", "top", "left"}
    for seed in range(4):
        result = generate(
            tiny, "a", seed=seed, max_new_tokens=30, temperature=1.0, top_k=0, top_p=1.0, whitelist=allowed
        )
        assert set(words_of(result.generated)) <= allowed, result.generated
    greedy = generate(tiny, "a", seed=0, max_new_tokens=30, temperature=0, whitelist=allowed, mode="continue")
    assert set(words_of(greedy.generated)) <= allowed


def test_whitelist_with_banned_words_has_no_dead_ends(tiny):
    """Prefixes that only lead to words already used ("st" -> "star") are not started."""
    allowed = {"red", "blue", "star", "background", "a", "on"}
    for seed in range(6):
        result = generate(
            tiny, PROMPT, seed=seed, max_new_tokens=20, temperature=1.0, top_k=0, top_p=1.0, whitelist=allowed
        )
        assert result.stop != "no_candidates", result
        assert set(words_of(result.generated)) <= {"a", "on"}, result.generated


def test_whitelist_file_in_the_folder(models_root, tmp_path):
    folder = shutil.copytree(models_root / "tiny_gpt2", tmp_path / "listed")
    (folder / "whitelist.txt").write_text("# colours and shapes\nred\nstar\nblue\ncircle\non\na\n")
    expander = load_expander(folder)
    assert expander.whitelist == frozenset({"red", "star", "blue", "circle", "on", "a"})
    for seed in range(3):
        result = generate(expander, "", seed=seed, max_new_tokens=20, temperature=1.0, top_k=0, top_p=1.0)
        assert set(words_of(result.generated)) <= expander.whitelist, result.generated


def _streamed(model, whitelist):
    """generate() with a callback recording the streamed pieces and step numbers."""
    pieces: list[str] = []
    steps: list[int] = []
    result = generate(
        model,
        PROMPT,
        seed=3,
        max_new_tokens=16,
        temperature=1.0,
        whitelist=whitelist,
        callback=lambda step, total, piece: (pieces.append(piece), steps.append(step)),
    )
    return result, pieces, steps


def test_streamed_pieces_add_up_to_the_text(tiny):
    for whitelist in (None, {"red", "blue", "star", "on", "a", "green"}):
        result, pieces, steps = _streamed(tiny, whitelist)
        assert "".join(pieces) == result.generated
        assert result.text == PROMPT + result.generated
        assert steps[: len(result.token_ids)] == list(range(1, len(result.token_ids) + 1))


def test_interrupt_through_the_callback_stops_generation(tiny):
    calls = []

    def callback(step, total, piece):
        calls.append(step)
        if step == 3:
            raise KeyboardInterrupt("stop")

    with pytest.raises(KeyboardInterrupt):
        generate(tiny, PROMPT, seed=0, max_new_tokens=40, temperature=0, callback=callback)
    assert calls == [1, 2, 3]


# ------------------------------------------------------------------------------------------ instruct


def spy_inputs(expander, monkeypatch) -> list:
    """Record the input ids of every forward call of the expander's model."""
    seen: list = []
    forward = expander.model.forward

    @functools.wraps(forward)
    def spy(*args, **kwargs):
        seen.append(kwargs["input_ids"][0].tolist())
        return forward(*args, **kwargs)

    monkeypatch.setattr(expander.model, "forward", spy)
    return seen


def test_instruct_uses_the_template_and_returns_only_the_reply(chat, monkeypatch):
    seen = spy_inputs(chat, monkeypatch)
    result = generate(
        chat, "red star", seed=0, max_new_tokens=10, temperature=1.0, mode="instruct", instruction="Describe it."
    )
    expected = chat.tokenizer.apply_chat_template(
        [{"role": "system", "content": "Describe it."}, {"role": "user", "content": "red star"}],
        add_generation_prompt=True,
        tokenize=False,
    )
    assert expected.endswith("<|assistant|>")
    assert seen[0] == chat.tokenizer(expected, add_special_tokens=False).input_ids
    reply = chat.tokenizer.decode(result.token_ids, skip_special_tokens=True)
    assert result.text == reply.strip()
    assert "<|" not in result.text and "Describe it." not in result.text


def test_instruct_default_instruction_and_no_template(chat, tiny, monkeypatch):
    seen = spy_inputs(chat, monkeypatch)
    generate(chat, "red star", seed=0, max_new_tokens=2, mode="instruct")
    assert DEFAULT_INSTRUCTION in chat.tokenizer.decode(seen[0])
    with pytest.raises(ValueError, match="tiny_gpt2 has no chat template"):
        generate(tiny, "red star", mode="instruct")


def test_split_token():
    assert (split_token("red").lead, split_token("red").brk) == ("red", False)
    tw = split_token("ed, blue sta")
    assert (tw.lead, tw.brk, tw.inner, tw.trail) == ("ed", True, ("blue",), "sta")
    tw = split_token(" Star")
    assert (tw.lead, tw.inner, tw.trail) == ("", (), "star")


# ------------------------------------------------------------------------------------------ nodes


def run_prompt(env, prompt, interrupt=None):
    registry = Registry()
    registry.add_module(expander_nodes)
    registry.add_module(display)
    events: list = []
    interrupt = interrupt or threading.Event()

    def emit(kind, data):
        events.append((kind, data))
        if kind == "text" and getattr(interrupt, "on_text", False):
            interrupt.set()

    job = Job(prompt_id="p1", prompt=prompt, outputs_to_execute=["3"])
    return Engine(registry, env).execute(job, emit, interrupt), events


def expand_prompt(mode="continue", max_new_tokens=8, model="tiny_gpt2"):
    return {
        "1": {"class_type": "PromptExpanderLoader", "inputs": {"model_name": model}},
        "2": {
            "class_type": "ExpandPrompt",
            "inputs": {
                "expander": ["1", 0],
                "text": "a red star",
                "seed": 5,
                "max_new_tokens": max_new_tokens,
                "temperature": 0.7,
                "top_k": 40,
                "top_p": 0.9,
                "mode": mode,
            },
        },
        "3": {"class_type": "PreviewAny", "inputs": {"source": ["2", 0]}},
    }


def test_nodes_in_the_engine_stream_text(env_with_models):
    result, events = run_prompt(env_with_models, expand_prompt())
    assert result.status == "success", result.error
    streamed = "".join(d["text"] for kind, d in events if kind == "text" and d["node"] == "2")
    shown = [d["output"]["text"][0] for kind, d in events if kind == "executed" and d["node"] == "2"]
    assert shown and shown[0] == "a red star" + streamed
    assert result.outputs["3"]["text"] == shown
    progress = [d for kind, d in events if kind == "progress" and d["node"] == "2"]
    assert progress and all(d["max"] == 8 for d in progress)


def test_nodes_instruct_mode_and_schema(env_with_models):
    result, _ = run_prompt(env_with_models, expand_prompt(mode="instruct", model="tiny_chat"))
    assert result.status == "success", result.error
    info = expander_nodes.ExpandPrompt
    assert info.inputs["seed"].options()["control_after_generate"] is True
    assert info.inputs["seed"].max == 2**64 - 1
    assert expander_nodes.PromptExpanderLoader.inputs["model_name"].resolve(env_with_models) == [
        "tiny_chat",
        "tiny_gpt2",
    ]


def test_node_interrupt(env_with_models):
    interrupt = threading.Event()
    interrupt.on_text = True
    result, events = run_prompt(env_with_models, expand_prompt(max_new_tokens=40), interrupt)
    assert result.status == "interrupted"
    assert sum(1 for kind, d in events if kind == "progress" and d["node"] == "2") <= 2


class FakeModels:
    """The model manager's interface: load(key, factory) caches, use(module) places on the device."""

    device = torch.device("cpu")

    def __init__(self):
        self.cache, self.used = {}, 0

    def load(self, key, factory):
        if key not in self.cache:
            self.cache[key] = factory()
        return self.cache[key]

    @contextlib.contextmanager
    def use(self, module):
        self.used += 1
        yield module


def test_nodes_use_the_model_manager(env_with_models):
    models = FakeModels()
    texts: list = []
    for _ in range(2):
        loader, expand = expander_nodes.PromptExpanderLoader(), expander_nodes.ExpandPrompt()
        for node in (loader, expand):
            node.ctx = ExecutionContext(
                "p", "1", lambda kind, data: texts.append(data), threading.Event(), env=env_with_models, models=models
            )
        expander = loader.run(model_name="tiny_gpt2")
        result = expand.run(
            expander, "a red star", seed=1, max_new_tokens=4, temperature=0.7, top_k=40, top_p=0.9, mode="continue"
        )
        assert result.ui == {"text": [result.outputs[0]]}
    assert len(models.cache) == 1 and models.used == 2


def test_nodes_with_the_real_model_manager(env_with_models):
    from nodeflow.models.manager import ModelManager

    manager = ModelManager(cpu=True)
    loader = expander_nodes.PromptExpanderLoader()
    loader.ctx = ExecutionContext("p", "1", lambda *a: None, threading.Event(), env=env_with_models, models=manager)
    first = loader.run(model_name="tiny_chat")
    assert loader.run(model_name="tiny_chat") is first and first.memory_bytes() > 0
    expand = expander_nodes.ExpandPrompt()
    expand.ctx = loader.ctx
    result = expand.run(first, "red star", seed=0, max_new_tokens=3, temperature=0, top_k=0, top_p=1.0, mode="instruct")
    assert isinstance(result.outputs[0], str)


def test_loader_fingerprint_follows_the_files(env_with_models):
    before = expander_nodes.PromptExpanderLoader.fingerprint(env_with_models, model_name="tiny_gpt2")
    (env_with_models.models_dir / "prompt_expanders" / "tiny_gpt2" / "whitelist.txt").write_text("red\n")
    assert expander_nodes.PromptExpanderLoader.fingerprint(env_with_models, model_name="tiny_gpt2") != before


# ------------------------------------------------------------------------------------------ demo


@pytest.mark.skipif(not (DEMO / "model.safetensors").is_file(), reason="demo prompt expander not built")
def test_demo_expander_rewrites_red_star():
    expander = load_expander(DEMO)
    result = generate(expander, "red star", seed=0, mode="instruct")
    assert "red" in words_of(result.text) and "star" in words_of(result.text), result.text
