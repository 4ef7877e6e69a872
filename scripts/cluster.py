"""`make cluster`: HAProxy in front of three app nodes, Redis with Sentinel, on loopback.

It runs in the foreground and Ctrl-C stops every process it started. One started in the
background (`make cluster &`) is stopped by `make cluster-stop`, from the state file it keeps.
The nodes serve DATABASE_URL's database, which must be migrated (the Makefile does it).

    python scripts/cluster.py [--sticky] [--local-memory] [--nodes N]
    python scripts/cluster.py stop
"""

import argparse
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path

# Run as a script, this file's directory is on the path, not the project it belongs to.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from testing.cluster import NODES, cluster_running, missing_commands, process_group_kill
from testing.servers import BASE_DIR

STATE = BASE_DIR / ".cluster" / "state.json"


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop() -> int:
    """Ask the runner to stop its cluster; end whatever it left behind."""
    if not STATE.exists():
        print("No cluster is running (no state file).")
        return 0
    state = json.loads(STATE.read_text())
    if running(state["runner"]):
        os.kill(state["runner"], signal.SIGTERM)
        deadline = time.monotonic() + 30
        while running(state["runner"]) and time.monotonic() < deadline:
            time.sleep(0.2)
    # Every process of the cluster leads a process group of its own (gunicorn's workers
    # are in their master's): a runner killed outright left them running.
    for pid in state["processes"]:
        if running(pid):
            process_group_kill(pid)
    STATE.unlink(missing_ok=True)
    print("Cluster stopped.")
    return 0


def serve(*, sticky: bool, local_memory: bool, nodes: int) -> int:
    if missing := missing_commands():
        print(f"Missing {', '.join(missing)}: run scripts/cluster_packages.sh.", file=sys.stderr)
        return 1
    if STATE.exists() and running(json.loads(STATE.read_text())["runner"]):
        print("A cluster is already running: make cluster-stop first.", file=sys.stderr)
        return 1

    def stop_on_term(signum, frame):
        raise KeyboardInterrupt

    # Ctrl-C too, even where a shell started this with SIGINT ignored (in the background).
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop_on_term)
    env = {"LOG_LEVEL": "ERROR", **os.environ}
    try:
        with cluster_running(
            env, sticky=sticky, shared_redis=not local_memory, nodes=nodes
        ) as cluster:
            STATE.parent.mkdir(exist_ok=True)
            STATE.write_text(json.dumps({"runner": os.getpid(), "processes": cluster.pids()}))
            print(
                f"The balanced site:  {cluster.balancer.url}/  (user demo, password demo-password)"
            )
            print(f"HAProxy's stats:    {cluster.balancer.stats_url}")
            for name, node in cluster.nodes.items():
                print(f"{name}:             {node.base_url}/  (X-Served-By: {name})")
            if cluster.redis:
                print(f"Redis through Sentinel: {cluster.redis.node_env}")
            print(f"Sticky sessions: {'on' if sticky else 'off'}. Ctrl-C stops everything.")
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)
    finally:
        STATE.unlink(missing_ok=True)
    print("Cluster stopped.")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", nargs="?", choices=["serve", "stop"], default="serve")
    parser.add_argument("--sticky", action="store_true", help="HAProxy's SERVERID cookie")
    parser.add_argument(
        "--local-memory", action="store_true", help="each node its own cache, no Redis"
    )
    parser.add_argument("--nodes", type=int, default=NODES)
    args = parser.parse_args()
    if args.action == "stop":
        return stop()
    return serve(sticky=args.sticky, local_memory=args.local_memory, nodes=args.nodes)


if __name__ == "__main__":
    sys.exit(main())
