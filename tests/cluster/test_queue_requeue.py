"""The queue operations the Ray pool adds: take a chosen prompt, re-queue it at its old place
after a worker died, count the attempts, and read databases written before the column existed."""

import sqlite3

from nodeflow.server.queue_store import QueuedPrompt, QueueStore


def add(store, pid, number, client="c"):
    store.add(QueuedPrompt(pid, number, {"1": {}}, {}, ["1"], client))


def test_take_a_chosen_prompt_and_requeue_it_at_its_place(tmp_path):
    store = QueueStore(tmp_path / "q.db")
    for i, pid in enumerate(["a", "b", "c"]):
        add(store, pid, float(i))
    assert [item.prompt_id for item, _ in store.pending()] == ["a", "b", "c"]
    assert store.take("b").prompt_id == "b"
    assert store.take("b") is None  # already running
    assert [p.prompt_id for p in store.queue()[0]] == ["b"]
    assert store.requeue("b") == 1
    assert [item.prompt_id for item, _ in store.pending()] == ["a", "b", "c"]
    store.take("b")
    assert store.requeue("b") == 2 and store.attempts("b") == 2
    store.delete_pending(["a"])
    assert store.take("a") is None


def test_an_old_database_gains_the_attempts_column(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE prompts (prompt_id TEXT PRIMARY KEY, number REAL NOT NULL, state TEXT NOT NULL, "
        "prompt TEXT NOT NULL, extra_data TEXT NOT NULL, outputs_to_execute TEXT NOT NULL, client_id TEXT, "
        "created REAL NOT NULL, finished REAL, status TEXT, outputs TEXT, meta TEXT)"
    )
    db.execute("INSERT INTO prompts VALUES ('old', 0, 'pending', '{}', '{}', '[]', NULL, 1.0, NULL, NULL, NULL, NULL)")
    db.commit()
    db.close()
    store = QueueStore(path)
    assert store.attempts("old") == 0
    assert store.take("old").prompt_id == "old"
    assert store.requeue("old") == 1
