"""The cluster drill: what each way loses behind HAProxy when a node or the Redis primary fails.

For each session policy, on a fresh database of its own, every way the server lists runs four
scenarios (testing/cluster.py starts the processes), under wrk's steady load on every way:

1. round robin over three nodes, each with its sessions cache in its own local memory;
2. the same nodes behind a sticky balancer (HAProxy's SERVERID cookie), then one node killed;
3. the nodes sharing Redis through Sentinel, round robin, one node killed mid-load;
4. the same, the Redis primary killed: Sentinel promotes the replica.

Everything counted is a client's answer, and every figure is returned with its unit.
"""

import contextlib
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from http import HTTPStatus

import redis
import requests

from benchmarks.host import machine
from testing.clients import WayHttpClient, ways_served
from testing.cluster import (
    CHECK_TIMEOUT_S,
    HEALTH_INTERVAL_MS,
    NODES,
    PRIMARY_DOWN_AFTER_MS,
    Balancer,
    app_nodes,
    haproxy_balancing,
    redis_with_sentinels,
    work_directory,
)
from testing.servers import demo_database
from testing.wrk import wrk_loading

# Answers as the drill records them: the status as text, or NO_ANSWER when none came (the
# connection failed, or was closed before the answer was whole).
OK, UNAVAILABLE = str(int(HTTPStatus.OK)), str(int(HTTPStatus.SERVICE_UNAVAILABLE))
NO_ANSWER = "error"
POLICIES = ("stock", "managed")
SCENARIOS = {
    "round_robin_local_memory": "round robin, each node's own local-memory cache",
    "sticky_node_killed": "sticky sessions (local memory), then one node killed",
    "shared_redis_node_killed": "shared Redis, no stickiness, one node killed mid-load",
    "redis_primary_killed": "shared Redis, its primary killed: Sentinel promotes the replica",
}
SERVED_BY = "X-Served-By"
KILLED_NODE = "node-1"
PROBE_INTERVAL_S = 0.05
FAILOVER_BOUND_S = 60
# After the balancer saw a node down (scenario 3), clients keep calling this long.
AFTER_KILL_S = 2.0
UNITS = {
    "clients": "clients",
    "*_clients": "clients",
    "logins_lost": "clients",
    "revocations_came_back": "login sessions",
    "share_*": "fraction of the way's clients (0 to 1)",
    "*_seconds": "seconds",
    "*_ms": "milliseconds",
    "requests_per_second": "requests per second",
    "requests": "requests",
    "answers": f"answers, by HTTP status ('{NO_ANSWER}': none)",
    "statuses": "answers, by HTTP status",
    "socket_errors": "requests wrk got no answer to, by kind (timeout: none within 30 s)",
    "unanswered": "requests the drill's clients got no answer to",
    "server_errors": (
        "answers with a 5xx status other than the JSON outage answer 503; for wrk's load, "
        "5xx answers other than 503"
    ),
    "unavailable": "503 answers, the JSON outage answer",
}


@dataclass(frozen=True)
class DrillCounts:
    """How much the drill does: small counts for a test, the defaults for the docs."""

    clients: int = 6  # logged-in clients per way in each scenario
    last_moment_clients: int = 4  # per way, logged in just before the primary is killed
    ended_clients: int = 4  # per way, logged out just before the primary is killed
    load_clients: int = 16  # wrk connections per way, for the whole drill
    nodes: int = NODES


# --- Clients -------------------------------------------------------------------------------


def answer_of(client: WayHttpClient) -> tuple[str, str | None]:
    """(status, node) of one call of the resource; status "error" when nothing answered."""
    try:
        response = client.resource()
    except requests.RequestException:
        return NO_ANSWER, None
    status = str(response.status_code)
    if status == UNAVAILABLE and not outage_answer(response):
        status += " (not the outage answer)"  # HAProxy's own 503 page: no node to send to
    return status, response.headers.get(SERVED_BY)


def outage_answer(response: requests.Response) -> bool:
    """Whether a 503 is the project's JSON answer to a service outage (ways/exceptions.py)."""
    try:
        return response.json()["code"] in {"session_store_unavailable", "database_unavailable"}
    except (ValueError, KeyError, TypeError):
        return False


def logged_in(url: str, way: Mapping, count: int) -> list[tuple[WayHttpClient, str]]:
    """count clients of the way logged in through the balancer, with the node that served."""
    clients = []
    for _ in range(count):
        client = WayHttpClient(url, way)
        answer = client.login()
        if answer.status_code != HTTPStatus.OK:
            raise RuntimeError(f"{way['name']}: login answered {answer.status_code}")
        clients.append((client, answer.headers.get(SERVED_BY)))
    return clients


def every_way(ways: Mapping[str, Mapping], work: Callable[[str, Mapping], object]) -> dict:
    """work(name, way) for every way at once, a thread each: the scenario hits them together."""
    with ThreadPoolExecutor(max_workers=len(ways)) as pool:
        futures = {name: pool.submit(work, name, way) for name, way in ways.items()}
        return {name: future.result() for name, future in futures.items()}


@contextlib.contextmanager
def steady_load(url: str, ways: Mapping[str, Mapping], *, clients: int) -> Iterator[dict]:
    """wrk's clients on every way's resource, each way logged in once, until the context ends;
    the dict yielded receives each way's figures then.
    """
    figures: dict[str, dict] = {}
    if not clients:
        yield figures
        return
    logins = every_way(ways, lambda name, way: logged_in(url, way, 1)[0][0])
    with contextlib.ExitStack() as loads:
        for name, way in ways.items():
            # The Cookie header carries HAProxy's SERVERID too: behind a sticky balancer the
            # load sticks to the node its login landed on, as a browser would.
            headers = logins[name].resource_headers()
            figures[name] = loads.enter_context(
                wrk_loading(url + way["resource"], headers, connections=clients)
            )
        began = time.monotonic()
        yield figures
        seconds = round(time.monotonic() - began, 1)
    for load in figures.values():
        statuses = load.pop("statuses")
        load |= {
            "seconds": seconds,
            "statuses": statuses,
            "server_errors": server_errors(statuses),
        }
        load.pop("errors")  # wrk counts 401s among them: the statuses say what they were


def server_errors(statuses: Mapping[str, int]) -> int:
    """5xx answers other than 503, the outage answer a client is told to retry."""
    return sum(count for status, count in statuses.items() if is_server_error(status))


def is_server_error(status: str) -> bool:
    return status.startswith("5") and status != UNAVAILABLE


# --- The scenarios -------------------------------------------------------------------------


def round_robin(url: str, ways: Mapping, counts: DrillCounts) -> dict:
    """Each client calls the resource until every node has served it: logged in everywhere?"""

    def work(name, way):
        stayed, answers = 0, Counter()
        for client, _ in logged_in(url, way, counts.clients):
            nodes, statuses = set(), []
            while len(nodes) < counts.nodes and len(statuses) < 20 * counts.nodes:
                status, node = answer_of(client)
                statuses.append(status)
                nodes.add(node)
            answers.update(statuses)
            stayed += len(nodes) == counts.nodes and set(statuses) == {OK}
            client.close()
        return {
            "clients": counts.clients,
            "logged_in_on_every_node_clients": stayed,
            "answers": dict(answers),
        }

    return every_way(ways, work)


def sticky_node_killed(balancer: Balancer, nodes: Mapping, ways: Mapping, counts) -> dict:
    """Clients stuck to their node call it; one node dies; who must log in again?"""
    logins = every_way(ways, lambda name, way: logged_in(balancer.url, way, counts.clients))

    def before(name, way):
        return sum(answer_of(client)[0] == OK for client, _ in logins[name])

    logged_in_before = every_way(ways, before)
    # The node most clients stuck to: which one that is depends on how the logins interleaved.
    served = Counter(node for clients in logins.values() for _, node in clients)
    victim = max(sorted(nodes), key=lambda node: served[node])
    nodes[victim].kill()
    noticed = balancer.wait_until(victim, "DOWN")

    def after(name, way):
        on_killed = [client for client, node in logins[name] if node == victim]
        statuses = [answer_of(client)[0] for client, _ in logins[name]]
        lost = sum(status != OK for status in statuses)
        for client, _ in logins[name]:
            client.close()
        return {
            "clients": counts.clients,
            "logged_in_before_kill_clients": logged_in_before[name],
            "on_killed_node_clients": len(on_killed),
            "logins_lost": lost,
            "share_logins_lost": round(lost / counts.clients, 3),
            "answers_after_kill": dict(Counter(statuses)),
        }

    return {
        "killed_node": victim,
        "balancer_noticed_seconds": round(noticed, 2),
        "ways": every_way(ways, after),
    }


class Prober(threading.Thread):
    """Calls the resource with its clients in turn until stopped, noting each answer's time."""

    def __init__(self, clients: list[WayHttpClient]):
        super().__init__(daemon=True)
        self.clients, self.answers = clients, []
        self.stopping = threading.Event()

    def run(self):
        turn = 0
        while not self.stopping.is_set():
            status, _ = answer_of(self.clients[turn % len(self.clients)])
            self.answers.append((time.monotonic(), status))
            turn += 1
            time.sleep(PROBE_INTERVAL_S)

    def stop(self) -> list[tuple[float, str]]:
        self.stopping.set()
        self.join()
        return self.answers


def shared_redis_node_killed(balancer: Balancer, nodes: Mapping, ways: Mapping, counts) -> dict:
    """Clients call through the balancer while a node is killed: logins lost, errors met."""
    logins = every_way(ways, lambda name, way: logged_in(balancer.url, way, counts.clients))
    probers = {name: Prober([client for client, _ in logins[name]]) for name in ways}
    for prober in probers.values():
        prober.start()
    time.sleep(AFTER_KILL_S / 2)
    killed_at = time.monotonic()
    nodes[KILLED_NODE].kill()
    noticed = balancer.wait_until(KILLED_NODE, "DOWN")
    time.sleep(AFTER_KILL_S)
    results = {}
    for name, prober in probers.items():
        during = Counter(status for moment, status in prober.stop() if moment >= killed_at)
        final = [answer_of(client)[0] for client, _ in logins[name]]
        results[name] = {
            "clients": counts.clients,
            "logins_lost": sum(status != OK for status in final),
            "answers_during_kill": dict(during),
            "server_errors": server_errors(during),
            "unanswered": during.get(NO_ANSWER, 0),
        }
        for client, _ in logins[name]:
            client.close()
    return {
        "killed_node": KILLED_NODE,
        "balancer_noticed_seconds": round(noticed, 2),
        "ways": results,
    }


def redis_primary_killed(balancer: Balancer, redis_set, ways: Mapping, counts) -> dict:
    """Logins long before, logins and logouts just before, the primary killed: what is lost?"""
    earlier = every_way(ways, lambda name, way: logged_in(balancer.url, way, counts.clients))

    def just_before(name, way):
        ended = []
        for client, _ in logged_in(balancer.url, way, counts.ended_clients):
            copy = client.copy()  # the credential as it was before the logout
            client.logout()
            ended.append((copy, answer_of(copy)[0]))  # refused at once, as every test says?
            client.close()
        last_moment = logged_in(balancer.url, way, counts.last_moment_clients)
        return {
            "ended": ended,
            "last_moment": [client for client, _ in last_moment],
            "written_at": time.monotonic(),
        }

    written = every_way(ways, just_before)
    old_port = redis_set.primary_kill()
    killed_at = time.monotonic()
    probers = {name: Prober([client for client, _ in earlier[name]]) for name in ways}
    for prober in probers.values():
        prober.start()
    promoted_after = None
    while time.monotonic() - killed_at < FAILOVER_BOUND_S:
        with contextlib.suppress(redis.RedisError):
            if promoted_after is None and redis_set.promoted(old_port):
                promoted_after = time.monotonic() - killed_at
        answering = all(
            prober.answers and prober.answers[-1][1] == OK for prober in probers.values()
        )
        if promoted_after is not None and answering:
            break
        time.sleep(0.1)
    time.sleep(0.5)  # a few answers after the last way came back
    results = {}
    for name, prober in probers.items():
        answers = prober.stop()
        statuses = Counter(status for _, status in answers)
        came_back = sum(
            before != OK and answer_of(copy)[0] == OK for copy, before in written[name]["ended"]
        )
        last_moment = written[name]["last_moment"]
        results[name] = {
            "clients": counts.clients,
            "answered_again_seconds": answered_again_seconds(answers, killed_at),
            "answers_during_failover": dict(statuses),
            "unavailable": statuses.get(UNAVAILABLE, 0),
            "server_errors": server_errors(statuses),
            "unanswered": statuses.get(NO_ANSWER, 0),
            "logins_lost": sum(answer_of(client)[0] != OK for client, _ in earlier[name]),
            "last_moment_clients": len(last_moment),
            "last_moment_logins_lost": sum(answer_of(client)[0] != OK for client in last_moment),
            "last_moment_written_before_kill_ms": round(
                (killed_at - written[name]["written_at"]) * 1000, 1
            ),
            "ended_clients": len(written[name]["ended"]),
            "revocations_came_back": came_back,
        }
        for client, _ in earlier[name]:
            client.close()
    return {
        "sentinel_promoted_seconds": round(promoted_after, 2) if promoted_after else None,
        "ways": results,
    }


def answered_again_seconds(answers: list[tuple[float, str]], since: float) -> float | None:
    """Seconds from since to the first 200 after the last failure: 0.0 if nothing failed,
    None if the failures never ended.
    """
    failed = [moment for moment, status in answers if status != OK]
    if not failed:
        return 0.0
    back = next(
        (moment for moment, status in answers if moment > failed[-1] and status == OK), None
    )
    return round(back - since, 2) if back is not None else None


# --- The drill -------------------------------------------------------------------------------


def cluster_drill(
    env: Mapping[str, str], *, counts: DrillCounts, command: str, say=lambda line: None
) -> dict:
    """Every scenario, in both session policies; the results as plain data."""
    return {
        "meta": {
            "command": command,
            "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": machine(),
            "software": software(),
            "counts": asdict(counts),
            "health_check_interval_ms": HEALTH_INTERVAL_MS,
            "health_check_timeout_seconds": CHECK_TIMEOUT_S,
            "primary_down_after_ms": PRIMARY_DOWN_AFTER_MS,
            "scenarios": SCENARIOS,
            "units": UNITS,
        },
        "profiles": {
            policy: profile_drill({**env, "SESSION_POLICY": policy}, counts=counts, say=say)
            for policy in POLICIES
        },
    }


def software() -> dict[str, str]:
    """The balancer's and Redis's versions, as they print them."""
    return {
        name: subprocess.run(  # noqa: S603 - fixed commands
            command, capture_output=True, text=True, check=True
        ).stdout.splitlines()[0]
        for name, command in {
            "haproxy": ["haproxy", "-v"],
            "redis": ["redis-server", "--version"],
        }.items()
    }


def profile_drill(env: Mapping[str, str], *, counts: DrillCounts, say) -> dict:
    """The four scenarios on one session policy, on a database of their own."""
    policy = env["SESSION_POLICY"]
    scenarios, loads = {}, {}
    local_memory = {k: v for k, v in env.items() if k not in {"REDIS_URL", "REDIS_SENTINELS"}}
    with (
        demo_database(local_memory, label="cluster") as database_url,
        work_directory() as directory,
        # Started first: its Sentinels take seconds to find each other, meanwhile 1 and 2 run.
        redis_with_sentinels(directory, ready=False) as redis_set,
    ):
        local_memory |= {"DATABASE_URL": database_url, "CACHE_KEY_PREFIX": "scj-cluster"}

        def run(scenario: str, balancer: Balancer, ways: Mapping, drill: Callable[[], dict]):
            say(f"{policy}: {SCENARIOS[scenario]}")
            with steady_load(balancer.url, ways, clients=counts.load_clients) as load:
                scenarios[scenario] = drill()
            loads[scenario] = load

        with app_nodes(local_memory, count=counts.nodes) as nodes:
            ways = ways_served(nodes[KILLED_NODE].base_url)
            with haproxy_balancing(nodes, directory) as balancer:
                run("round_robin_local_memory", balancer, ways,
                    lambda: {"ways": round_robin(balancer.url, ways, counts)})  # fmt: skip
            with haproxy_balancing(nodes, directory, sticky=True) as balancer:
                run("sticky_node_killed", balancer, ways,
                    lambda: sticky_node_killed(balancer, nodes, ways, counts))  # fmt: skip
        redis_set.wait_until_ready()
        with (
            app_nodes({**local_memory, **redis_set.node_env}, count=counts.nodes) as nodes,
            haproxy_balancing(nodes, directory) as balancer,
        ):
            # The primary first, on every node; then a node, on the promoted primary.
            run("redis_primary_killed", balancer, ways,
                lambda: redis_primary_killed(balancer, redis_set, ways, counts))  # fmt: skip
            run("shared_redis_node_killed", balancer, ways,
                lambda: shared_redis_node_killed(balancer, nodes, ways, counts))  # fmt: skip
    return {
        "ways": list(ways),
        "scenarios": {name: scenarios[name] for name in SCENARIOS},
        "load": {name: loads[name] for name in SCENARIOS},
    }
