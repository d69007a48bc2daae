"""`make run`: the whole stack on a bare machine, with embedded defaults.

SecantusDB (data under var/, kept across restarts) unless MONGODB_URL is set; RabbitMQ at AMQP_URL or on
localhost (a stopped local install is started); a local SMTP sink keeping every message under var/mail;
every service that exists as its own uvicorn process on its port (shared.topology). Ctrl-C stops it all.
"""

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.testing.infra import LOCAL_AMQP_URL, SecantusProcess, amqp_host_port
from shared.testing.net import port_open
from shared.testing.smtp import SmtpServer
from shared.topology import SERVICES, default_url

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
MONGO_PORT, SMTP_PORT, MAIL_VIEW_PORT = 27017, 1025, 8025


def say(message: str) -> None:
    print(f"[make run] {message}", flush=True)


def wait_for_port(host: str, port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return True
        time.sleep(0.25)
    return False


def ensure_mongodb(stop_list: list) -> str:
    if os.environ.get("MONGODB_URL"):
        say(f"MongoDB: MONGODB_URL={os.environ['MONGODB_URL']}")
        return os.environ["MONGODB_URL"]
    url = f"mongodb://127.0.0.1:{MONGO_PORT}/?directConnection=true"
    if port_open("127.0.0.1", MONGO_PORT):
        say(f"MongoDB: something already listens on {MONGO_PORT}; using it")
        return url
    (VAR / "mongo").mkdir(parents=True, exist_ok=True)
    process = SecantusProcess(storage_path=str(VAR / "mongo"), port=MONGO_PORT,
                              log_file=VAR / "secantusdb.log").start()
    stop_list.append(process.stop)
    say(f"MongoDB: SecantusDB on 127.0.0.1:{MONGO_PORT}, data in var/mongo")
    return url


def ensure_rabbitmq() -> str:
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


def ensure_jwt_key() -> str:
    path = VAR / "jwt-ed25519.pem"
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        path.chmod(0o600)
    return path.read_text()


def start_mail(stop_list: list) -> None:
    mail_dir = VAR / "mail"
    smtp = SmtpServer(port=SMTP_PORT, store_dir=mail_dir).start()
    stop_list.append(smtp.stop)
    viewer = ThreadingHTTPServer(("127.0.0.1", MAIL_VIEW_PORT),
                                 partial(SimpleHTTPRequestHandler, directory=str(mail_dir)))
    threading.Thread(target=viewer.serve_forever, daemon=True).start()
    stop_list.append(viewer.shutdown)
    say(f"SMTP sink: 127.0.0.1:{SMTP_PORT}; messages kept in var/mail (browse http://127.0.0.1:{MAIL_VIEW_PORT}/)")


def existing_services() -> list[str]:
    present = [name for name in SERVICES if (ROOT / name / "main.py").exists()]
    # user_service first (it serves the JWKS), the gateway last.
    return sorted(present, key=lambda n: (n == "gateway", n != "user_service"))


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    VAR.mkdir(exist_ok=True)
    (VAR / "mail").mkdir(exist_ok=True)
    stop_list: list = []
    children: list[tuple[str, subprocess.Popen]] = []
    host = os.environ.get("HOST", "127.0.0.1")
    try:
        env = dict(os.environ, MONGODB_URL=ensure_mongodb(stop_list), AMQP_URL=ensure_rabbitmq(),
                   JWT_PRIVATE_KEY=ensure_jwt_key(), SMTP_HOST="127.0.0.1", SMTP_PORT=str(SMTP_PORT),
                   ENVIRONMENT=os.environ.get("ENVIRONMENT", "development"))
        start_mail(stop_list)
        for name in existing_services():
            port = SERVICES[name].port
            log = open(VAR / f"{name}.log", "ab")
            child = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--factory", f"{name}.main:create_app", "--host", host,
                 "--port", str(port), "--no-access-log", "--loop", "uvloop", "--http", "httptools"],
                cwd=ROOT, env=dict(env, SERVICE_NAME=name), stdout=log, stderr=subprocess.STDOUT)
            children.append((name, child))
            if not wait_for_port(host, port, 30):
                say(f"{name} did not start; see var/{name}.log")
        for name, _ in children:
            say(f"{name:<22} {default_url(name, host)}   (log: var/{name}.log)")
        gateway = default_url("gateway", host)
        say(f"Gateway listening on {gateway}  — API docs at {gateway}/docs, health at {gateway}/health")
        say("Ctrl-C stops everything")
        signal.signal(signal.SIGTERM, _interrupt)
        while True:
            for name, child in children:
                if child.poll() is not None:
                    say(f"{name} exited with {child.returncode}; see var/{name}.log")
                    children.remove((name, child))
                    break
            time.sleep(1)
    except KeyboardInterrupt:
        say("stopping")
    finally:
        for _, child in reversed(children):
            child.terminate()
        for _, child in reversed(children):
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
        for stop in reversed(stop_list):
            stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
