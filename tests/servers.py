"""Real git servers on 127.0.0.1 for the remote tests: `git daemon`, `git http-backend`, and an ssh stand-in.

Each serves every bare repository under one directory. Tests create the repositories with real
`git init --bare` and talk to them over the network exactly as a user's gitsnap would.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SERVER_ENV_KEEP = ("PATH", "LANG", "LC_ALL")


def server_env(home: Path) -> dict[str, str]:
    """A clean environment for a server: its own HOME, no system git config."""
    env = {key: os.environ[key] for key in SERVER_ENV_KEEP if key in os.environ}
    env.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1", XDG_CONFIG_HOME=str(home / ".config"))
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bare_repo(root: Path, name: str, *config: tuple[str, str]) -> Path:
    """A new, empty bare repository made by the real git, with ``config`` set in it."""
    path = root / name
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
    for key, value in config:
        subprocess.run(["git", "--git-dir", str(path), "config", key, value], check=True)
    return path


class GitDaemon:
    """`git daemon --enable=receive-pack` serving ``root`` on a free port of 127.0.0.1."""

    def __init__(self, root: Path, home: Path):
        self.root = root
        self.port = free_port()
        self.pid_file = root.parent / f"daemon-{self.port}.pid"
        self.process = subprocess.Popen(
            ["git", "daemon", "--reuseaddr", f"--base-path={root}", "--export-all", "--enable=receive-pack",
             "--listen=127.0.0.1", f"--port={self.port}", f"--pid-file={self.pid_file}", "--verbose", str(root)],
            stderr=subprocess.PIPE, env=server_env(home))
        # --verbose logs "Ready to rumble" once the socket listens: read up to it, then drain in the background.
        for line in self.process.stderr:
            if b"Ready to rumble" in line:
                break
        else:
            raise RuntimeError(f"git daemon did not start (exit {self.process.wait()})")
        threading.Thread(target=self.process.stderr.read, daemon=True).start()

    def url(self, name: str) -> str:
        return f"git://127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()


class _CgiBridge(BaseHTTPRequestHandler):
    """Runs `git http-backend` for each request (CGI), as a web server in front of it would."""

    server: HttpBackend.Server

    def do_GET(self) -> None:
        self._run()

    def do_POST(self) -> None:
        self._run()

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                chunk = self.rfile.read(size + 2)[:-2]  # each chunk ends in CRLF
                if size == 0:
                    return b"".join(chunks)
                chunks.append(chunk)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _authorised(self) -> bool:
        credentials = self.server.credentials
        if credentials is None:
            return True
        expected = "Basic " + base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode()
        return self.headers.get("Authorization") == expected

    def _run(self) -> None:
        self.server.requests.append((self.command, self.path, self.headers.get("Authorization")))
        if not self._authorised():
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="gitsnap tests"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path, _, query = self.path.partition("?")
        body = self._body()
        env = {**self.server.env, "GIT_PROJECT_ROOT": str(self.server.root), "GIT_HTTP_EXPORT_ALL": "1",
               "PATH_INFO": path, "QUERY_STRING": query, "REQUEST_METHOD": self.command,
               "CONTENT_TYPE": self.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(len(body)),
               "REMOTE_ADDR": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1"}
        for header, variable in (("Content-Encoding", "HTTP_CONTENT_ENCODING"), ("Git-Protocol", "HTTP_GIT_PROTOCOL")):
            if self.headers.get(header):
                env[variable] = self.headers[header]
        output = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True).stdout
        head, _, content = output.partition(b"\r\n\r\n") if b"\r\n\r\n" in output else output.partition(b"\n\n")
        headers = [line.split(":", 1) for line in head.decode("latin-1").splitlines() if ":" in line]
        status = next((value.strip() for name, value in headers if name.lower() == "status"), "200 OK")
        self.send_response(int(status.split()[0]))
        for name, value in headers:
            if name.lower() != "status":
                self.send_header(name, value.strip())
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)


class HttpBackend:
    """Smart HTTP: `git http-backend` behind a threaded local web server on a free port."""

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        root: Path
        env: dict[str, str]
        credentials: tuple[str, str] | None
        requests: list[tuple[str, str, str | None]]

    def __init__(self, root: Path, home: Path, credentials: tuple[str, str] | None = None):
        self.server = self.Server(("127.0.0.1", 0), _CgiBridge)
        self.server.root, self.server.env = root, server_env(home)
        self.server.credentials, self.server.requests = credentials, []
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str, auth: str = "") -> str:
        return f"http://{auth + '@' if auth else ''}127.0.0.1:{self.port}/{name}"

    @property
    def requests(self) -> list[tuple[str, str, str | None]]:
        return self.server.requests

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


SSH_SCRIPT = r"""#!/bin/sh
# An ssh stand-in: drop ssh's options and the host, run the remote command here.
while [ $# -gt 1 ]; do
  case "$1" in
    -x) shift ;;
    -p|-i) shift 2 ;;
    -o) case "$2" in "SetEnv GIT_PROTOCOL="*) export GIT_PROTOCOL="${2#SetEnv GIT_PROTOCOL=}" ;; esac; shift 2 ;;
    *) echo "$1" >> "$(dirname "$0")/hosts"; shift; break ;;
  esac
done
exec sh -c "$1"
"""


def fake_ssh(directory: Path) -> Path:
    """A script for GIT_SSH_COMMAND that runs the remote git command locally (it logs each host in ./hosts)."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "fake-ssh"
    script.write_text(SSH_SCRIPT)
    script.chmod(0o755)
    return script
