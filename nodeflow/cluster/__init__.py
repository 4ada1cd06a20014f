"""Scale-out on Ray: the head process keeps the server, the SQLite queue and history, the websocket
hub and the editor; prompts run on Ray actors (``actor.py``), one per GPU or per ``--worker-cpus``
share. Nothing here is imported unless ``python main.py --ray ...`` asks for it.

- ``policy.py``: which queued prompt a free worker takes (pure function).
- ``identity.py``: model files by content, and what a worker has (its inventory).
- ``needs.py``: which model files a prompt needs.
- ``transfer.py``: input files out to a worker, output files back to the head's folders.
- ``actor.py``: the Ray actor that runs prompts on a NodeFlow runtime of its own.
- ``pool.py``: the head's dispatcher (the same seam as ``nodeflow.server.worker.Worker``).
- ``connect.py``: ``--ray auto | ADDRESS | local:N`` -> ``ray.init``.
"""
