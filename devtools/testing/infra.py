"""Where tests (and the dev launcher) find MongoDB and RabbitMQ, as ARCHITECTURE.md orders it.

MongoDB: MONGODB_URL, else a testcontainers replica set where a Docker engine answers, else SecantusDB.
RabbitMQ: AMQP_URL, else localhost:5672, else testcontainers, else a clear failure — never a silent skip.
"""

import os
import shutil
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlparse

from devtools.testing.net import free_port, port_open

LOCAL_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


def docker_engine_answers() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=5).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def secantus_binary() -> str:
    candidate = Path(sys.executable).parent / "secantusd-py"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("secantusd-py")
    if not found:
        raise RuntimeError("secantusd-py not found: install the dev extras (pip install -e '.[dev]')")
    return found


class SecantusProcess:
    """SecantusDB: the MongoDB wire protocol over WiredTiger, as a child process."""

    def __init__(self, storage_path: str = ":memory:", port: int | None = None,
                 log_file: Path | None = None) -> None:
        self.port = port or free_port()
        self.storage_path = storage_path
        self.log_file = log_file
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self, timeout: float = 30.0) -> "SecantusProcess":
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [secantus_binary(), "--host", "127.0.0.1", "--port", str(self.port),
             "--storage-path", self.storage_path, "--log-level", "WARNING"],
            stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not port_open("127.0.0.1", self.port):
            if self.process.poll() is not None:
                raise RuntimeError(f"SecantusDB exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError("SecantusDB did not start listening in time")
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def provide_mongodb(stack: ExitStack) -> tuple[str, str]:
    """(url, how) for the test session; resources are released when the ExitStack closes."""
    if os.environ.get("MONGODB_URL"):
        return os.environ["MONGODB_URL"], "MONGODB_URL"
    if docker_engine_answers():
        from testcontainers.mongodb import MongoDbContainer

        # A replica set, because transactions need one.
        container = MongoDbContainer("mongo:8.0").with_command("--replSet rs0 --bind_ip_all")
        stack.enter_context(container)
        host, port = container.get_container_host_ip(), container.get_exposed_port(27017)
        container.exec(["mongosh", "--quiet", "--eval",
                        "rs.initiate({_id:'rs0',members:[{_id:0,host:'localhost:27017'}]})"])
        return f"mongodb://{host}:{port}/?directConnection=true", "testcontainers"
    process = SecantusProcess().start()
    stack.callback(process.stop)
    return process.url, "secantusdb"


def provide_amqp(stack: ExitStack) -> tuple[str, str]:
    if os.environ.get("AMQP_URL"):
        return os.environ["AMQP_URL"], "AMQP_URL"
    if port_open("127.0.0.1", 5672):
        return LOCAL_AMQP_URL, "localhost:5672"
    if docker_engine_answers():
        from testcontainers.rabbitmq import RabbitMqContainer

        container = stack.enter_context(RabbitMqContainer("rabbitmq:4-management"))
        host, port = container.get_container_host_ip(), container.get_exposed_port(5672)
        return f"amqp://guest:guest@{host}:{port}/", "testcontainers"
    raise RuntimeError(
        "No RabbitMQ: set AMQP_URL, start a broker on localhost:5672 (apt install rabbitmq-server; "
        "rabbitmq-server -detached), or run a Docker engine for testcontainers.")


def amqp_host_port(url: str) -> tuple[str, int]:
    parsed = urlparse(url)
    return parsed.hostname or "127.0.0.1", parsed.port or 5672
