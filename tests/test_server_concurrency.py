"""Several workers on one repository: 16 clients x 50 version creates of one prompt against
`gitsnap serve --workers 2` give versions 1..800 exactly, no 5xx, and a repository git fsck finds clean."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.conftest import ACME_ID, ALEX_ID, LEASING_PROMPT_ID, fsck, run_cli
from tests.http_service import GitsnapServer, bearer, build_two_orgs, token

CLIENTS, CREATES = 16, 50


def test_sixteen_clients_on_two_workers_number_every_version_once(tmp_path):
    repo = build_two_orgs(tmp_path / "gitsnap.git")
    server = GitsnapServer(repo, tmp_path, "--workers", "2")
    headers = bearer(token(ALEX_ID, [ACME_ID]))

    def client(number: int) -> list[tuple[int, int | None]]:
        answers = []
        with httpx.Client(base_url=server.url, headers=headers, timeout=120) as http:
            for n in range(CREATES):
                response = http.post(f"/api/prompts/{LEASING_PROMPT_ID}/versions",
                                     json={"prompt": f"client {number} text {n}", "label": f"c{number}-{n}"})
                answers.append((response.status_code, response.json().get("version")))
        return answers

    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            answers = [answer for answers in pool.map(client, range(CLIENTS)) for answer in answers]
        workers = {line.split("[")[1].split("]")[0] for line in server.lines if "Started server process" in line}
    finally:
        server.stop()

    assert {status for status, _ in answers} == {201}
    total = CLIENTS * CREATES
    assert sorted(version for _, version in answers) == list(range(1, total + 1))
    listed = run_cli("--json", "prompt", "version", "list", LEASING_PROMPT_ID, "--org", ACME_ID, "--no-preview",
                     repo=repo).json
    assert [version["version"] for version in listed["versions"]] == list(range(total, 0, -1))
    assert len(workers) == 2  # both worker processes served
    fsck(repo)
