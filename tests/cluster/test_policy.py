"""The scheduling policy of the Ray pool, as a pure function: front of queue, fairness between
clients, affinity, demand, starvation guard, and the fifo baseline."""

from nodeflow.cluster.policy import Turn, Waiting, choose

A, B = "ckpt-a", "ckpt-b"


def turn(held=(), running=None, last_served=None, holders=None, now=1000.0):
    return Turn(
        held=frozenset(held), running=running or {}, last_served=last_served or {}, holders=holders or {}, now=now
    )


def waiting(pid, number, client="c", models=(), queued_at=None):
    return Waiting(pid, number, client, 990.0 + number if queued_at is None else queued_at, frozenset(models))


def test_nothing_waiting_gives_none():
    assert choose(turn(), []) is None


def test_a_worker_takes_the_prompt_whose_model_it_holds():
    queue = [waiting("p1", 1, models=[A]), waiting("p2", 2, models=[B]), waiting("p3", 3, models=[A])]
    assert choose(turn(held=[B], holders={B: 1}), queue) == "p2"
    assert choose(turn(held=[A], holders={A: 1}), queue) == "p1"


def test_most_overlap_wins_then_queue_order():
    queue = [
        waiting("p1", 1, models=[A]),
        waiting("p2", 2, models=[A, "lora-x"]),
        waiting("p3", 3, models=[A, "lora-x"]),
    ]
    assert choose(turn(held=[A, "lora-x"]), queue) == "p2"


def test_without_held_models_the_most_demanded_set_not_held_elsewhere_goes_first():
    queue = [
        waiting("p1", 1, models=[A]),
        waiting("p2", 2, models=[B]),
        waiting("p3", 3, models=[A]),
        waiting("p4", 4, models=[B]),
        waiting("p5", 5, models=[B]),
    ]
    assert choose(turn(), queue) == "p2"  # three wait for B, two for A
    # another worker already holds B: A (2 waiting, no holder) beats B (3 waiting / 2)
    assert choose(turn(holders={B: 1}), queue) == "p1"


def test_equal_demand_goes_to_the_older_set():
    queue = [waiting("p1", 1, models=[A]), waiting("p2", 2, models=[B])]
    assert choose(turn(), queue) == "p1"


def test_front_of_queue_beats_affinity_and_fairness():
    queue = [waiting("p1", 1, client="x", models=[A]), waiting("front", -1, client="y", models=[B])]
    assert choose(turn(held=[A], running={"y": 3}), queue) == "front"


def test_one_client_with_many_prompts_does_not_starve_another():
    queue = [waiting(f"a{i}", i, client="alice", models=[A]) for i in range(500)]
    queue.append(waiting("b0", 500, client="bob", models=[B]))
    # alice was served just now, bob never: bob's turn, even though this worker holds alice's model
    assert choose(turn(held=[A], last_served={"alice": 999.0}), queue) == "b0"
    # alice has a prompt running and bob none: bob's turn
    assert choose(turn(held=[A], running={"alice": 1}), queue) == "b0"
    # bob has one running: alice's turn, and affinity picks within her prompts
    assert choose(turn(held=[A], running={"bob": 1}), queue) == "a0"


def test_clients_take_turns_served_longest_ago_first():
    queue = [waiting("a1", 1, client="alice"), waiting("b1", 2, client="bob"), waiting("c1", 3, client="carol")]
    served = {"alice": 10.0, "bob": 30.0, "carol": 20.0}
    assert choose(turn(last_served=served), queue) == "a1"
    assert choose(turn(last_served={**served, "alice": 40.0}), queue) == "c1"


def test_an_overdue_prompt_goes_before_affinity():
    queue = [waiting("old", 1, models=[B], queued_at=0.0), waiting("mine", 2, models=[A], queued_at=990.0)]
    assert choose(turn(held=[A]), queue, max_wait=300.0) == "old"
    assert choose(turn(held=[A]), queue, max_wait=5000.0) == "mine"


def test_fifo_ignores_affinity_but_keeps_fairness():
    queue = [
        waiting("p1", 1, client="alice", models=[B]),
        waiting("p2", 2, client="alice", models=[A]),
        waiting("p3", 3, client="bob", models=[A]),
    ]
    assert choose(turn(held=[A]), queue, affinity=False) == "p1"
    assert choose(turn(held=[A], running={"alice": 1}), queue, affinity=False) == "p3"
