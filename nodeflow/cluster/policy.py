"""Which queued prompt a free worker takes: a small pure function, tested on its own.

In this order:
1. front of the queue: prompts queued with ``front`` (negative numbers) go first, in queue order;
2. fairness: clients take turns. The client with the fewest running prompts, and among those the one
   served longest ago, supplies the candidates, so one client's 500 prompts never starve another's one;
3. a candidate waiting longer than ``max_wait`` seconds goes next (affinity never starves a prompt);
4. affinity: the candidate needing most of the models this worker already holds (no second load);
5. demand: otherwise the candidate whose model set most prompts wait for, divided by the workers that
   already hold it, plus its age; so a model is loaded on as few workers as the queue needs;
6. ties: queue order.
``affinity=False`` turns 3-5 off (plain queue order within the fairness turn: the baseline of the bench).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Waiting:
    prompt_id: str
    number: float  # queue position (negative: queued at the front)
    client: str | None
    queued_at: float  # time.time() when queued
    models: frozenset[str] = frozenset()  # content identities of the model files it needs


@dataclass(frozen=True)
class Turn:
    """What the pool knows when a worker is free."""

    held: frozenset[str]  # model identities loaded on this worker
    running: Mapping[str | None, int]  # client -> prompts running on any worker
    last_served: Mapping[str | None, float]  # client -> time its last prompt was handed out
    holders: Mapping[str, int]  # model identity -> workers holding it
    now: float


def choose(turn: Turn, waiting: Sequence[Waiting], affinity: bool = True, max_wait: float = 300.0) -> str | None:
    """The prompt id the free worker should take, or None when nothing waits."""
    if not waiting:
        return None
    front = [w for w in waiting if w.number < 0]
    if front:
        return min(front, key=_order).prompt_id
    candidates = _fair_share(turn, waiting)
    if not affinity:
        return min(candidates, key=_order).prompt_id
    overdue = [w for w in candidates if turn.now - w.queued_at > max_wait]
    if overdue:
        return min(overdue, key=_order).prompt_id
    best_overlap = max(len(w.models & turn.held) for w in candidates)
    if best_overlap:
        return min((w for w in candidates if len(w.models & turn.held) == best_overlap), key=_order).prompt_id
    return max(candidates, key=lambda w: (_demand(turn, waiting, w, max_wait), -w.number, -w.queued_at)).prompt_id


def _order(w: Waiting) -> tuple[float, float]:
    return (w.number, w.queued_at)


def _fair_share(turn: Turn, waiting: Sequence[Waiting]) -> list[Waiting]:
    clients = {w.client for w in waiting}
    fewest = min(turn.running.get(c, 0) for c in clients)
    tied = [c for c in clients if turn.running.get(c, 0) == fewest]
    # served longest ago first; never served counts as -inf; then whose first prompt is oldest
    first = {c: min(_order(w) for w in waiting if w.client == c) for c in tied}
    chosen = min(tied, key=lambda c: (turn.last_served.get(c, float("-inf")), first[c]))
    return [w for w in waiting if w.client == chosen]


def _demand(turn: Turn, waiting: Sequence[Waiting], w: Waiting, max_wait: float) -> float:
    same = Counter(x.models for x in waiting)[w.models]
    holders = min((turn.holders.get(m, 0) for m in w.models), default=0)
    return same / (1 + holders) + (turn.now - w.queued_at) / max_wait
