"""Prompt version create over HTTP (`gitsnap serve`) against one CLI process per create, in the same run.

    python benchmarks/bench_server.py [--workers 1,2]        (or as part of benchmarks/run.py)

Latency (p50, p99) and requests/s with 1 client and with 16 clients. Each client is a thread with
its own keep-alive connection (the stdlib's http.client: a light client leaves the cores to the
server) and its own prompt; every create has a new text, so every request writes a version. The
CLI rows run `gitsnap prompt version create` as one process per create, 1 at a time and 16 at a
time. Goals on a 2-core machine: p50 under 15 ms, throughput at least 20x the CLI's.
"""

from __future__ import annotations

import argparse
import http.client
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import ACME_ID, ALEX_ID  # noqa: E402
from tests.http_service import GitsnapServer, bearer, build_two_orgs, token  # noqa: E402

PROMPTS = [f"65f9b1c2e8a1d4e001a0c0{n:02x}" for n in range(1, 17)]  # 16 of Acme's prompts, one per client
HTTP_CREATES = 600  # per row, spread over the clients
CLI_CREATES = {1: 15, 16: 48}
WARM_UP = 3  # requests per client before timing (a thread's first request opens its Store)


@dataclass
class Row:
    label: str
    latencies: list[float]
    seconds: float

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 50)

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 99)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds


def percentile(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def text(client: int, n: int) -> str:
    """About 1 KB of prompt, new for every create."""
    rules = "\n".join(f"- Rule {r}: answer in two or three sentences; client {client}, version {n}." for r in range(12))
    return f"<prompt><role>Leasing assistant</role>\n<rules>\n{rules}\n</rules>\n<at>{time.time_ns()}</at>\n</prompt>"


def http_row(server: GitsnapServer, clients: int, label: str) -> Row:
    headers = {**bearer(token(ALEX_ID, [ACME_ID], expires_in=3600)), "Content-Type": "application/json"}

    def client(number: int) -> list[float]:
        connection = http.client.HTTPConnection("127.0.0.1", server.port)
        path = f"/api/prompts/{PROMPTS[number]}/versions?orgId={ACME_ID}"
        latencies = []
        for n in range(WARM_UP + HTTP_CREATES // clients):
            body = json.dumps({"prompt": text(number, n), "label": f"Bench {n}", "source": "checkpoint"})
            start = time.perf_counter()
            connection.request("POST", path, body, headers)
            response = connection.getresponse()
            response.read()
            if response.status != 201:
                raise RuntimeError(f"HTTP {response.status}")
            if n >= WARM_UP:
                latencies.append(time.perf_counter() - start)
        connection.close()
        return latencies

    return timed_clients(client, clients, label)


def cli_row(repo: Path, clients: int) -> Row:
    def client(number: int) -> list[float]:
        latencies = []
        for n in range(CLI_CREATES[clients] // clients):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "gitsnap", "--repo", str(repo), "prompt", "version", "create",
                            PROMPTS[number], "--org", ACME_ID, "--text", text(number, n), "--label", f"CLI {n}"],
                           check=True, stdout=subprocess.DEVNULL)
            latencies.append(time.perf_counter() - start)
        return latencies

    return timed_clients(client, clients, f"CLI process per create, {clients} at a time")


def timed_clients(client, clients: int, label: str) -> Row:
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = [seconds for result in pool.map(client, range(clients)) for seconds in result]
    # the warm-up requests are in the wall time but not in the count: a slight understatement of req/s
    return Row(label, latencies, time.perf_counter() - start)


def measure(work: Path, workers: list[int]) -> list[Row]:
    repo = build_two_orgs(work / "server.git")
    rows = []
    for count in workers:
        server = GitsnapServer(repo, work, "--workers", str(count))
        try:
            for clients in (1, 16):
                rows.append(http_row(server, clients, f"HTTP, {count} worker{'s' if count > 1 else ''}, "
                                                      f"{clients} client{'s' if clients > 1 else ''}"))
        finally:
            server.stop()
    rows += [cli_row(repo, 1), cli_row(repo, 16)]
    return rows


def table(rows: list[Row]) -> str:
    lines = [f"{'version create':42} {'p50':>9} {'p99':>9} {'req/s':>8}"]
    lines += [f"{row.label:42} {row.p50 * 1000:7.1f}ms {row.p99 * 1000:7.1f}ms {row.rate:8.1f}" for row in rows]
    cli = {clients: next(r for r in rows if r.label.startswith("CLI") and f"{clients} at a time" in r.label)
           for clients in (1, 16)}
    for row in rows:
        if row.label.startswith("HTTP"):
            clients = 16 if row.label.endswith("16 clients") else 1
            lines.append(f"  {row.label}: {row.rate / cli[clients].rate:5.1f}x the CLI's requests/s")
    return "\n".join(lines)


def run(work: Path, workers: list[int] | None = None) -> list[tuple[str, float, float | None]]:
    """benchmarks/run.py's rows: each HTTP row's p50 against one CLI process's (the detailed table on stderr)."""
    work.mkdir(parents=True, exist_ok=True)
    rows = measure(work, workers or [2])
    print(table(rows), file=sys.stderr)
    cli = {"1 client": rows[-2], "16 clients": rows[-1]}
    http_rows = [row for row in rows if row.label.startswith("HTTP")]
    return [(f"HTTP version create p50, {clients(row)} (vs CLI)", row.p50, cli[clients(row)].p50)
            for row in http_rows] + refs_rows(work)


def refs_rows(work: Path) -> list[tuple[str, float, float | None]]:
    """One client's p50 over a repository with 100,000 other tenants' refs (packed) against 10 refs."""
    from bench_scale import add_packed

    small = build_two_orgs(work / "refs-small.git")
    large = build_two_orgs(work / "refs-large.git")
    add_packed(large, subprocess.run(["git", "--git-dir", str(large), "rev-parse", f"refs/heads/orgs/{ACME_ID}"],
                                     capture_output=True, text=True, check=True).stdout.strip())
    p50 = {}
    for name, repo in (("small", small), ("large", large)):
        server = GitsnapServer(repo, work, "--workers", "1")
        try:
            p50[name] = http_row(server, 1, name).p50
        finally:
            server.stop()
    return [("HTTP version create p50, 100,000 refs (vs 10 refs)", p50["large"], p50["small"])]


def clients(row: Row) -> str:
    return row.label.rsplit(", ", 1)[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", default="1,2", help="server worker counts to measure, comma-separated")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gitsnap-bench-server-") as directory:
        print(table(measure(Path(directory), [int(n) for n in options.workers.split(",")])))


if __name__ == "__main__":
    main()
