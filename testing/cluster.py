"""A cluster on loopback: HAProxy in front of app nodes, Redis with a replica and Sentinels.

Every process is started here, on ports free at the start, with its files in a temporary
directory, and stopped when its context ends. `make cluster`, the cluster drill and its test
all use it. Like testing/servers.py it imports nothing from Django.
"""

import contextlib
import csv
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import redis
import requests

from testing.servers import LOOPBACK, Gunicorn, gunicorn_started

# The commands a cluster needs, and the Debian package of each (scripts/cluster_packages.sh).
COMMANDS = {
    "haproxy": "haproxy",
    "redis-server": "redis-server",
    "redis-sentinel": "redis-sentinel",
}
NODES = 3
SENTINELS = 3
# The name the Sentinels know the primary by: the host of the nodes' REDIS_URL.
PRIMARY_NAME = "scj-cluster"
# The balancer's health check: the listing of ways, anonymous, touching no store.
HEALTH_PATH = "/api/ways/"
HEALTH_INTERVAL_MS = 500
CHECK_TIMEOUT_S = 5
# A Sentinel deems the primary down after this long without an answer, then the Sentinels
# elect one of them to promote the replica.
PRIMARY_DOWN_AFTER_MS = 1000
THREADS_PER_NODE = 8
STARTUP_SECONDS = 60


def missing_commands() -> list[str]:
    return [command for command in COMMANDS if shutil.which(command) is None]


def free_port() -> int:
    """A port free now; the process given it binds it a moment later (haproxy, Redis)."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def process_started(command: list[str], *, log: Path) -> subprocess.Popen:
    """A process in a session of its own (a Ctrl-C meant for the runner does not reach it)."""
    with log.open("ab") as output:
        return subprocess.Popen(  # noqa: S603 - a fixed command of ours, on loopback
            command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )


def process_stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(condition, *, what: str, timeout: float = STARTUP_SECONDS, interval=0.1):
    """condition()'s first true value, polled; RuntimeError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(redis.RedisError, requests.RequestException, OSError):
            if value := condition():
                return value
        time.sleep(interval)
    raise RuntimeError(f"{what}: not within {timeout:.0f} s")


# --- Redis: a primary, a replica, three Sentinels ----------------------------------------


@dataclass
class RedisSet:
    """A Redis primary, its replica and the Sentinels watching them, by port."""

    servers: dict[int, subprocess.Popen]  # port → redis-server, primary and replica
    sentinels: dict[int, subprocess.Popen]  # port → redis-sentinel

    @property
    def node_env(self) -> dict[str, str]:
        """What an app node needs to reach the primary through the Sentinels."""
        return {
            "REDIS_URL": f"redis://{PRIMARY_NAME}/0",
            "REDIS_SENTINELS": ",".join(f"{LOOPBACK}:{port}" for port in self.sentinels),
        }

    def wait_until_ready(self) -> None:
        primary_port = next(iter(self.servers))
        wait_for(lambda: replica_online(primary_port), what="the Redis replica")
        # A failover needs the Sentinels to know each other and the replica: they learn it
        # from the primary, every few seconds.
        wait_for(lambda: sentinels_ready(self), what="the Redis Sentinels", interval=0.5)

    def sentinel(self) -> redis.Redis:
        return redis.Redis(LOOPBACK, next(iter(self.sentinels)), socket_timeout=1)

    def primary_port(self) -> int:
        """The primary's port as the Sentinels say."""
        with self.sentinel() as sentinel:
            return int(sentinel.sentinel_get_master_addr_by_name(PRIMARY_NAME)[1])

    def primary(self) -> redis.Redis:
        return redis.Redis(LOOPBACK, self.primary_port(), socket_timeout=1)

    def primary_kill(self) -> int:
        """SIGKILL the primary, as a crash would; returns its port."""
        port = self.primary_port()
        self.servers[port].kill()
        self.servers[port].wait()
        return port

    def promoted(self, old_port: int) -> int | None:
        """The new primary's port once every Sentinel names one other than old_port."""
        ports = set()
        for port in self.sentinels:
            with redis.Redis(LOOPBACK, port, socket_timeout=1) as sentinel:
                ports.add(int(sentinel.sentinel_get_master_addr_by_name(PRIMARY_NAME)[1]))
        new = ports - {old_port}
        return new.pop() if len(ports) == 1 and new else None


def redis_conf(directory: Path, port: int) -> list[str]:
    # In memory only: nothing is saved, and a restarted server starts empty.
    return ["--port", str(port), "--bind", LOOPBACK, "--save", "", "--appendonly", "no",
            "--dir", str(directory)]  # fmt: skip


def sentinel_conf(directory: Path, port: int, primary_port: int) -> Path:
    """A Sentinel's configuration file (a Sentinel rewrites it, so each has its own)."""
    path = directory / f"sentinel-{port}.conf"
    path.write_text(
        f"port {port}\n"
        f"bind {LOOPBACK}\n"
        f"dir {directory}\n"
        f"sentinel monitor {PRIMARY_NAME} {LOOPBACK} {primary_port} 2\n"
        f"sentinel down-after-milliseconds {PRIMARY_NAME} {PRIMARY_DOWN_AFTER_MS}\n"
        f"sentinel failover-timeout {PRIMARY_NAME} 10000\n"
        f"sentinel parallel-syncs {PRIMARY_NAME} 1\n"
    )
    return path


@contextlib.contextmanager
def redis_with_sentinels(directory: Path, *, ready: bool = True) -> Iterator[RedisSet]:
    """A primary, one replica and three Sentinels (quorum 2), ready to fail over; started
    only (ready=False), for a caller with other things to do first (RedisSet.wait_until_ready).
    """
    primary_port, replica_port = free_port(), free_port()
    servers, sentinels = {}, {}
    try:
        servers[primary_port] = process_started(
            ["redis-server", *redis_conf(directory, primary_port)], log=directory / "redis.log"
        )
        replica = [*redis_conf(directory, replica_port), "--replicaof", LOOPBACK, str(primary_port)]
        servers[replica_port] = process_started(
            ["redis-server", *replica], log=directory / "redis.log"
        )
        for _ in range(SENTINELS):
            port = free_port()
            conf = sentinel_conf(directory, port, primary_port)
            sentinels[port] = process_started(
                ["redis-sentinel", str(conf)], log=directory / "sentinel.log"
            )
        redis_set = RedisSet(servers, sentinels)
        if ready:
            redis_set.wait_until_ready()
        yield redis_set
    finally:
        for process in [*sentinels.values(), *servers.values()]:
            process_stop(process)


def replica_online(primary_port: int) -> bool:
    with redis.Redis(LOOPBACK, primary_port, socket_timeout=1) as primary:
        return primary.info("replication").get("slave0", {}).get("state") == "online"


def sentinels_ready(redis_set: RedisSet) -> bool:
    for port in redis_set.sentinels:
        with redis.Redis(LOOPBACK, port, socket_timeout=1) as sentinel:
            state = sentinel.sentinel_master(PRIMARY_NAME)
            if state["num-other-sentinels"] < SENTINELS - 1 or state["num-slaves"] < 1:
                return False
    return True


# --- The app nodes and the balancer ------------------------------------------------------


@contextlib.contextmanager
def app_nodes(env: Mapping[str, str], *, count: int = NODES) -> Iterator[dict[str, Gunicorn]]:
    """count gunicorn nodes (one worker each: a node's local memory is one process's), named
    node-1, node-2… in NODE_NAME, with the same settings otherwise.
    """
    with contextlib.ExitStack() as started:
        yield {
            name: started.enter_context(
                gunicorn_started({**env, "NODE_NAME": name}, threads=THREADS_PER_NODE)
            )
            for name in (f"node-{number}" for number in range(1, count + 1))
        }


@dataclass
class Balancer:
    """HAProxy in front of the nodes: where clients go, and its stats page."""

    url: str
    stats_url: str
    sticky: bool
    process: subprocess.Popen = field(repr=False)

    def states(self) -> dict[str, str]:
        """Each node's state as the health check sees it: UP, DOWN…"""
        answer = requests.get(f"{self.stats_url};csv", timeout=5)
        rows = csv.DictReader(io.StringIO(answer.text.lstrip("# ")))
        return {row["svname"]: row["status"] for row in rows if row["svname"].startswith("node-")}

    def wait_until(self, node: str, state: str, *, timeout: float = 30) -> float:
        """Seconds until the health check sees node in state (UP or DOWN)."""
        began = time.monotonic()
        wait_for(
            lambda: self.states().get(node, "").startswith(state),
            what=f"HAProxy seeing {node} {state}",
            timeout=timeout,
            interval=0.05,
        )
        return time.monotonic() - began


def haproxy_conf(nodes: Mapping[str, Gunicorn], *, port: int, stats_port: int, sticky: bool):
    # Sticky sessions by a cookie HAProxy inserts, naming the node, not by a hash of the
    # session cookie: Django changes the session key at login (cycle_key), which would move
    # the user to another node at the very moment they logged in.
    stickiness = "    cookie SERVERID insert indirect nocache\n" if sticky else ""
    servers = "".join(
        f"    server {name} {node.base_url.removeprefix('http://')} check"
        + (f" cookie {name}" if sticky else "")
        + "\n"
        for name, node in nodes.items()
    )
    return (
        "global\n"
        "    maxconn 4096\n"
        "defaults\n"
        "    mode http\n"
        "    timeout connect 1s\n"
        "    timeout client 60s\n"
        "    timeout server 30s\n"
        # A request a dead node refused, or dropped unanswered, goes to another node; a
        # sticky client's too, rather than waiting for its node.
        "    retries 3\n"
        "    option redispatch 1\n"
        "    retry-on conn-failure empty-response response-timeout\n"
        f"frontend balanced\n    bind {LOOPBACK}:{port}\n    default_backend nodes\n"
        "backend nodes\n"
        "    balance roundrobin\n"
        # A POST dropped unanswered may have been done: only reads are sent again.
        "    http-request disable-l7-retry unless METH_GET\n"
        "    option httpchk\n"
        f"    http-check send meth GET uri {HEALTH_PATH} ver HTTP/1.1 hdr Host {LOOPBACK}\n"
        "    http-check expect status 200\n"
        f"    default-server inter {HEALTH_INTERVAL_MS}ms fall 2 rise 1\n"
        # A node busy under load answers a check slowly; only one that does not answer at
        # all, or refuses the connection (a dead one, at once), is taken out.
        f"    timeout check {CHECK_TIMEOUT_S}s\n"
        f"{stickiness}{servers}"
        f"listen stats\n    bind {LOOPBACK}:{stats_port}\n"
        "    stats enable\n    stats uri /\n    stats refresh 2s\n"
    )


@contextlib.contextmanager
def haproxy_balancing(
    nodes: Mapping[str, Gunicorn], directory: Path, *, sticky: bool = False
) -> Iterator[Balancer]:
    """HAProxy on a free port, round robin over the nodes, sticky by its cookie if asked."""
    port, stats_port = free_port(), free_port()
    conf = directory / f"haproxy-{port}.cfg"
    conf.write_text(haproxy_conf(nodes, port=port, stats_port=stats_port, sticky=sticky))
    process = process_started(["haproxy", "-db", "-f", str(conf)], log=directory / "haproxy.log")
    balancer = Balancer(
        f"http://{LOOPBACK}:{port}", f"http://{LOOPBACK}:{stats_port}/", sticky, process
    )
    try:
        wait_for(
            lambda: process.poll() is None and set(balancer.states().values()) == {"UP"},
            what="HAProxy seeing every node up",
        )
        yield balancer
    except RuntimeError:
        sys.stderr.write((directory / "haproxy.log").read_text(errors="replace")[-2000:])
        raise
    finally:
        process_stop(process)


@contextlib.contextmanager
def work_directory() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="scj-cluster-") as directory:
        yield Path(directory)


@dataclass
class Cluster:
    balancer: Balancer
    nodes: dict[str, Gunicorn]
    redis: RedisSet | None
    directory: Path

    def pids(self) -> list[int]:
        processes = [self.balancer.process, *(node.process for node in self.nodes.values())]
        if self.redis:
            processes += [*self.redis.servers.values(), *self.redis.sentinels.values()]
        return [process.pid for process in processes]


@contextlib.contextmanager
def cluster_running(
    env: Mapping[str, str], *, sticky: bool = False, shared_redis: bool = True, nodes=NODES
) -> Iterator[Cluster]:
    """HAProxy in front of app nodes on env's database; their cache Redis through Sentinel,
    or each node's local memory.
    """
    with contextlib.ExitStack() as started:
        directory = started.enter_context(work_directory())
        redis_set = started.enter_context(redis_with_sentinels(directory)) if shared_redis else None
        node_env = {key: value for key, value in env.items() if key != "REDIS_URL"}
        node_env |= redis_set.node_env if redis_set else {}
        app = started.enter_context(app_nodes(node_env, count=nodes))
        balancer = started.enter_context(haproxy_balancing(app, directory, sticky=sticky))
        yield Cluster(balancer, app, redis_set, directory)


def process_group_kill(pid: int) -> None:
    """End a process of a cluster started elsewhere (make cluster-stop), its children too."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
