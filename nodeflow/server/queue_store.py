"""The persistent queue and history, in SQLite (WAL). Pending prompts survive restarts; a
prompt that was running when the server died is recorded as interrupted, never lost."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS prompts (
    prompt_id TEXT PRIMARY KEY,
    number REAL NOT NULL,
    state TEXT NOT NULL,              -- pending | running | done
    prompt TEXT NOT NULL,
    extra_data TEXT NOT NULL,
    outputs_to_execute TEXT NOT NULL,
    client_id TEXT,
    created REAL NOT NULL,
    finished REAL,
    status TEXT,                      -- JSON {status_str, completed, messages}
    outputs TEXT,                     -- JSON {node_id: ui}
    meta TEXT,                        -- JSON {node_id: {node_id, display_node}}
    attempts INTEGER NOT NULL DEFAULT 0  -- runs lost to a dead worker (Ray pool); the prompt is re-queued once
);
CREATE INDEX IF NOT EXISTS prompts_state_number ON prompts(state, number);
CREATE INDEX IF NOT EXISTS prompts_finished ON prompts(finished);
"""


@dataclass
class QueuedPrompt:
    prompt_id: str
    number: float
    prompt: dict
    extra_data: dict
    outputs_to_execute: list[str]
    client_id: str | None

    def as_queue_item(self) -> list:
        """ComfyUI's queue item: [number, prompt_id, prompt, extra_data, outputs_to_execute]."""
        number = int(self.number) if float(self.number).is_integer() else self.number
        return [number, self.prompt_id, self.prompt, self.extra_data, self.outputs_to_execute]


class QueueStore:
    """All methods are thread-safe; each call is one short transaction."""

    def __init__(self, path: Path, max_history: int = 10_000) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.max_history = max_history
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(prompts)")}
        if "attempts" not in columns:  # a database written before the Ray pool existed
            self._db.execute("ALTER TABLE prompts ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0")
        self.recovered = self._recover()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _recover(self) -> list[str]:
        """Prompts left 'running' by a dead server become interrupted history entries."""
        with self._lock:
            rows = self._db.execute("SELECT prompt_id FROM prompts WHERE state='running'").fetchall()
            now = time.time()
            for (prompt_id,) in rows:
                status = {
                    "status_str": "error",
                    "completed": False,
                    "messages": [
                        [
                            "execution_interrupted",
                            {
                                "prompt_id": prompt_id,
                                "node_id": None,
                                "node_type": None,
                                "executed": [],
                                "timestamp": int(now * 1000),
                                "reason": "the server stopped while this prompt was running; queue it again to rerun it",
                            },
                        ]
                    ],
                }
                self._db.execute(
                    "UPDATE prompts SET state='done', finished=?, status=?, outputs='{}', meta='{}' WHERE prompt_id=?",
                    (now, json.dumps(status), prompt_id),
                )
            return [r[0] for r in rows]

    def next_number(self, front: bool = False) -> float:
        with self._lock:
            if front:
                low = self._db.execute("SELECT MIN(number) FROM prompts WHERE state='pending'").fetchone()[0]
                return (low if low is not None and low < 0 else 0) - 1
            high = self._db.execute("SELECT MAX(number) FROM prompts").fetchone()[0]
            return (high if high is not None and high >= 0 else -1) + 1

    def add(self, item: QueuedPrompt) -> bool:
        """Queue ``item``; False (and nothing changed) when its prompt_id is taken."""
        with self._lock:
            return (
                self._db.execute(
                    "INSERT OR IGNORE INTO prompts (prompt_id, number, state, prompt, extra_data, outputs_to_execute, client_id, created) "
                    "VALUES (?, ?, 'pending', ?, ?, ?, ?, ?)",
                    (
                        item.prompt_id,
                        item.number,
                        json.dumps(item.prompt),
                        json.dumps(item.extra_data),
                        json.dumps(item.outputs_to_execute),
                        item.client_id,
                        time.time(),
                    ),
                ).rowcount
                == 1
            )

    def exists(self, prompt_id: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM prompts WHERE prompt_id=?", (prompt_id,)).fetchone() is not None

    def _item(self, row: tuple) -> QueuedPrompt:
        return QueuedPrompt(row[0], row[1], json.loads(row[2]), json.loads(row[3]), json.loads(row[4]), row[5])

    def take_next(self) -> QueuedPrompt | None:
        """Mark the first pending prompt running and return it."""
        with self._lock:
            row = self._db.execute(
                "SELECT prompt_id, number, prompt, extra_data, outputs_to_execute, client_id FROM prompts "
                "WHERE state='pending' ORDER BY number, created LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            self._db.execute("UPDATE prompts SET state='running' WHERE prompt_id=?", (row[0],))
            return self._item(row)

    def pending(self, limit: int = 5000) -> list[tuple[QueuedPrompt, float]]:
        """The first ``limit`` pending prompts in queue order, each with the time it was queued."""
        with self._lock:
            rows = self._db.execute(
                "SELECT prompt_id, number, prompt, extra_data, outputs_to_execute, client_id, created FROM prompts "
                "WHERE state='pending' ORDER BY number, created LIMIT ?",
                (limit,),
            ).fetchall()
        return [(self._item(r), r[6]) for r in rows]

    def take(self, prompt_id: str) -> QueuedPrompt | None:
        """Mark this pending prompt running and return it (None if it was deleted or taken meanwhile)."""
        with self._lock:
            row = self._db.execute(
                "SELECT prompt_id, number, prompt, extra_data, outputs_to_execute, client_id FROM prompts "
                "WHERE state='pending' AND prompt_id=?",
                (prompt_id,),
            ).fetchone()
            if row is None:
                return None
            self._db.execute("UPDATE prompts SET state='running' WHERE prompt_id=?", (prompt_id,))
            return self._item(row)

    def requeue(self, prompt_id: str) -> int:
        """Put a running prompt back in the queue at its old place; returns how often that happened."""
        with self._lock:
            self._db.execute(
                "UPDATE prompts SET state='pending', attempts=attempts+1 WHERE prompt_id=? AND state='running'",
                (prompt_id,),
            )
            row = self._db.execute("SELECT attempts FROM prompts WHERE prompt_id=?", (prompt_id,)).fetchone()
            return row[0] if row else 0

    def attempts(self, prompt_id: str) -> int:
        with self._lock:
            row = self._db.execute("SELECT attempts FROM prompts WHERE prompt_id=?", (prompt_id,)).fetchone()
            return row[0] if row else 0

    def queue(self) -> tuple[list[QueuedPrompt], list[QueuedPrompt]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT prompt_id, number, prompt, extra_data, outputs_to_execute, client_id, state FROM prompts "
                "WHERE state IN ('pending', 'running') ORDER BY number, created"
            ).fetchall()
        running = [self._item(r) for r in rows if r[6] == "running"]
        pending = [self._item(r) for r in rows if r[6] == "pending"]
        return running, pending

    def remaining(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM prompts WHERE state IN ('pending','running')").fetchone()[0]

    def delete_pending(self, prompt_ids: list[str] | None = None) -> int:
        with self._lock:
            if prompt_ids is None:
                return self._db.execute("DELETE FROM prompts WHERE state='pending'").rowcount
            return sum(
                self._db.execute("DELETE FROM prompts WHERE state='pending' AND prompt_id=?", (p,)).rowcount
                for p in prompt_ids
            )

    def finish(self, prompt_id: str, status: dict, outputs: dict, meta: dict) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE prompts SET state='done', finished=?, status=?, outputs=?, meta=? WHERE prompt_id=?",
                (time.time(), json.dumps(status), json.dumps(outputs, default=str), json.dumps(meta), prompt_id),
            )
            self._trim()

    def _trim(self) -> None:
        count = self._db.execute("SELECT COUNT(*) FROM prompts WHERE state='done'").fetchone()[0]
        if count > self.max_history:
            self._db.execute(
                "DELETE FROM prompts WHERE prompt_id IN (SELECT prompt_id FROM prompts WHERE state='done' "
                "ORDER BY finished LIMIT ?)",
                (count - self.max_history,),
            )

    def history(self, prompt_id: str | None = None, max_items: int | None = None, offset: int = 0) -> dict:
        query = (
            "SELECT prompt_id, number, prompt, extra_data, outputs_to_execute, client_id, status, outputs, meta "
            "FROM prompts WHERE state='done'"
        )
        args: list[Any] = []
        if prompt_id is not None:
            query += " AND prompt_id=?"
            args.append(prompt_id)
        if max_items is not None:  # the newest max_items after skipping `offset`, oldest first
            query += " ORDER BY finished DESC, rowid DESC LIMIT ? OFFSET ?"
            args += [max_items, offset]
        else:
            query += " ORDER BY finished, rowid"
        with self._lock:
            rows = self._db.execute(query, args).fetchall()
        if max_items is not None:
            rows.reverse()
        result = {}
        for row in rows:
            item = self._item(row[:6])
            result[row[0]] = {
                "prompt": item.as_queue_item(),
                "outputs": json.loads(row[7] or "{}"),
                "status": json.loads(row[6] or "{}"),
                "meta": json.loads(row[8] or "{}"),
            }
        return result

    def delete_history(self, prompt_ids: list[str] | None = None) -> None:
        with self._lock:
            if prompt_ids is None:
                self._db.execute("DELETE FROM prompts WHERE state='done'")
            else:
                for p in prompt_ids:
                    self._db.execute("DELETE FROM prompts WHERE state='done' AND prompt_id=?", (p,))
