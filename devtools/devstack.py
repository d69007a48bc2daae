"""`make run`: the whole stack on a bare machine, with embedded defaults.

SecantusDB (data under var/, kept across restarts) unless MONGODB_URL is set; RabbitMQ at AMQP_URL or on
localhost (a stopped local install is started); a local SMTP sink keeping every message under var/mail;
every service that exists as its own uvicorn process on its port (shared.topology). Ctrl-C stops it all.
The Postman run reuses it with an ephemeral database and shifted ports, so it never meets a running `make run`.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from devtools.testing.infra import LOCAL_AMQP_URL, SecantusProcess, amqp_host_port
from devtools.testing.net import free_port, port_open
from devtools.testing.smtp import SmtpServer
from shared.topology import SERVICES

ROOT = Path(__file__).resolve().parent.parent
MONGO_PORT, SMTP_PORT, MAIL_VIEW_PORT = 27017, 1025, 8025


def say(message: str) -> None:
    print(f"[stack] {message}", flush=True)


def wait_for_port(host: str, port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return True
        time.sleep(0.25)
    return False


def existing_services() -> list[str]:
    present = [name for name in SERVICES if (ROOT / name / "main.py").exists()]
    # user_service first (it serves the JWKS), the gateway last.
    return sorted(present, key=lambda n: (n == "gateway", n != "user_service"))


class DevStack:
    def __init__(self, *, var_dir: Path, port_offset: int = 0, ephemeral: bool = False,
                 host: str = "127.0.0.1", quiet_mail_viewer: bool = False) -> None:
        self.var, self.offset, self.ephemeral, self.host = var_dir, port_offset, ephemeral, host
        self.with_mail_viewer = not quiet_mail_viewer
        self._stops: list = []
        self.children: list[tuple[str, subprocess.Popen]] = []

    def url(self, name: str) -> str:
        return f"http://{self.host}:{SERVICES[name].port + self.offset}"

    def _mongodb(self) -> str:
        if os.environ.get("MONGODB_URL") and not self.ephemeral:
            say(f"MongoDB: MONGODB_URL={os.environ['MONGODB_URL']}")
            return os.environ["MONGODB_URL"]
        if self.ephemeral:
            process = SecantusProcess(storage_path=":memory:", log_file=self.var / "secantusdb.log").start()
            self._stops.append(process.stop)
            return process.url
        url = f"mongodb://127.0.0.1:{MONGO_PORT}/?directConnection=true"
        if port_open("127.0.0.1", MONGO_PORT):
            say(f"MongoDB: something already listens on {MONGO_PORT}; using it")
            return url
        (self.var / "mongo").mkdir(parents=True, exist_ok=True)
        process = SecantusProcess(storage_path=str(self.var / "mongo"), port=MONGO_PORT,
                                  log_file=self.var / "secantusdb.log").start()
        self._stops.append(process.stop)
        say(f"MongoDB: SecantusDB on 127.0.0.1:{MONGO_PORT}, data in {self.var / 'mongo'}")
        return url

    @staticmethod
    def _rabbitmq() -> str:
        url = os.environ.get("AMQP_URL", LOCAL_AMQP_URL)
        host, port = amqp_host_port(url)
        if port_open(host, port):
            say(f"RabbitMQ: {host}:{port}")
            return url
        if "AMQP_URL" not in os.environ and shutil.which("rabbitmq-server"):
            say("RabbitMQ: starting the local install (rabbitmq-server -detached)")
            subprocess.run(["rabbitmq-server", "-detached"], check=False)
            if wait_for_port(host, port, 60):
                return url
        say("RabbitMQ: none reachable — install one (apt install rabbitmq-server) or set AMQP_URL; "
            "services start anyway and deliver events once it is up")
        return url

    def _jwt_key(self) -> str:
        path = self.var / "jwt-ed25519.pem"
        if not path.exists():
            key = Ed25519PrivateKey.generate()
            path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
            path.chmod(0o600)
        return path.read_text()

    def _mail(self) -> int:
        mail_dir = self.var / "mail"
        port = SMTP_PORT if not self.ephemeral else free_port()
        smtp = SmtpServer(port=port, store_dir=mail_dir).start()
        self._stops.append(smtp.stop)
        if self.with_mail_viewer:
            viewer = ThreadingHTTPServer(("127.0.0.1", MAIL_VIEW_PORT),
                                         partial(SimpleHTTPRequestHandler, directory=str(mail_dir)))
            threading.Thread(target=viewer.serve_forever, daemon=True).start()
            self._stops.append(viewer.shutdown)
            say(f"SMTP sink: 127.0.0.1:{port}; messages kept in {mail_dir} (http://127.0.0.1:{MAIL_VIEW_PORT}/)")
        return port

    def start(self) -> None:
        self.var.mkdir(parents=True, exist_ok=True)
        (self.var / "mail").mkdir(exist_ok=True)
        urls = {name: self.url(name) for name in SERVICES}
        env = dict(os.environ, MONGODB_URL=self._mongodb(), AMQP_URL=self._rabbitmq(),
                   JWT_PRIVATE_KEY=self._jwt_key(), SMTP_HOST="127.0.0.1", SMTP_PORT=str(self._mail()),
                   ENVIRONMENT=os.environ.get("ENVIRONMENT", "development"),
                   JWKS_URL=f"{urls['user_service']}/.well-known/jwks.json", SERVICE_URLS=json.dumps(urls))
        if self.ephemeral:  # its own exchange and queues, so a running `make run` never sees its events
            env.update(AMQP_EXCHANGE=f"tracker.events.{os.getpid()}", AMQP_QUEUE_PREFIX=f"p{os.getpid()}.")
        for name in existing_services():
            port = SERVICES[name].port + self.offset
            log = open(self.var / f"{name}.log", "ab")  # closed when the process ends
            child = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--factory", f"{name}.main:create_app", "--host", self.host,
                 "--port", str(port), "--no-access-log", "--loop", "uvloop", "--http", "httptools"],
                cwd=ROOT, env=dict(env, SERVICE_NAME=name), stdout=log, stderr=subprocess.STDOUT)
            self.children.append((name, child))
        for name, _ in self.children:
            if not wait_for_port(self.host, SERVICES[name].port + self.offset, 60):
                say(f"{name} did not start; see {self.var / (name + '.log')}")

    def stop(self) -> None:
        for _, child in reversed(self.children):
            child.terminate()
        for _, child in reversed(self.children):
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
        self.children.clear()
        for stop in reversed(self._stops):
            stop()
        self._stops.clear()


def ephemeral_stack(port_offset: int = 100) -> DevStack:
    return DevStack(var_dir=Path(tempfile.mkdtemp(prefix="tracker-stack-")), port_offset=port_offset,
                    ephemeral=True, quiet_mail_viewer=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    stack = DevStack(var_dir=ROOT / "var", host=os.environ.get("HOST", "127.0.0.1"))
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        stack.start()
        for name, _ in stack.children:
            say(f"{name:<22} {stack.url(name)}   (log: var/{name}.log)")
        gateway = stack.url("gateway")
        say(f"Gateway listening on {gateway}  — API docs at {gateway}/docs, health at {gateway}/health")
        say("Ctrl-C stops everything")
        while stack.children:
            for name, child in list(stack.children):
                if child.poll() is not None:
                    say(f"{name} exited with {child.returncode}; see var/{name}.log")
                    stack.children.remove((name, child))
            time.sleep(1)
    except KeyboardInterrupt:
        say("stopping")
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
