"""One `stagewise dev` session: start (or reuse) the cloud, provision, serve, wait, stop.

Data flow: LocalCloud (moto, durable) → LocalStage.deploy (templates → provisioner)
→ RuntimeModel.from_stacks (routes, authorizers, functions from the DEPLOYED state)
→ Runtime (API Gateway on 127.0.0.1:<port>, one warm worker per function).
"""

from __future__ import annotations

import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field

from stagewise.cloud import LocalCloud, default_state_dir
from stagewise.config import Project, StageConfig
from stagewise.errors import UserError
from stagewise.localstage import LocalStage
from stagewise.options import load_stage
from stagewise.runtime import Runtime, RuntimeModel
from stagewise.target import target_for


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            raise UserError(f"port {port} on 127.0.0.1 is already in use; stop what uses it or pass --port") from exc


@dataclass
class DevSession:
    project: Project
    config: StageConfig
    cloud: LocalCloud
    port: int
    watch: bool
    started_cloud: bool = False
    runtime: Runtime | None = None
    local: LocalStage | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def create(
        cls, *, stage: str, port: int, cloud_port: int, watch: bool, overrides: list[str] | None
    ) -> DevSession:
        project, config = load_stage(stage, overrides)
        check_port_free(port)
        cloud = LocalCloud(default_state_dir(), port=cloud_port)
        return cls(project=project, config=config, cloud=cloud, port=port, watch=watch)

    def start(self) -> str:
        began = time.perf_counter()
        self.started_cloud = self.cloud.ensure_running()
        say(f"local cloud  {self.cloud.endpoint}{'' if self.started_cloud else ' (reused)'}")
        self.local = LocalStage(self.project, self.config, target_for(self.project, self.config, local=True))
        states = self.local.deploy(on_stack=lambda name, status: say(f"  {name:<32} {status}"))
        model = RuntimeModel.from_stacks(states, repo_root=self.local.project.root)
        env = {"AWS_ENDPOINT_URL": self.cloud.endpoint, **self.local.credentials()}
        self.runtime = Runtime(
            model, repo_root=self.local.project.root, worker_env=env, region=self.local.region, log=say,
            hot_reload=self.watch,
        )
        url = self.runtime.start(host="127.0.0.1", port=self.port)
        self._announce(url, model, time.perf_counter() - began)
        return url

    def _announce(self, url: str, model: RuntimeModel, seconds: float) -> None:
        say(f"\nAPI          {url}   (ready in {seconds:.2f} s)")
        api = model.default_api()
        for route in api.routes if api else []:
            if route.method != "OPTIONS":
                say(f"  {route.method:<7} {url.rstrip('/')}{route.path}")
        say(f"OpenAPI      {url.rstrip('/')}/openapi.json   docs: {url.rstrip('/')}/docs")
        say(f'Token        curl -H "Authorization: $(stagewise token you@example.com --stage {self.config.name})" '
            f"{url.rstrip('/')}/notes")
        say("Ctrl-C stops; local data is kept (stagewise cloud reset wipes it).")

    def stop(self) -> None:
        if self.runtime is not None:
            self.runtime.stop()
            self.runtime = None
        if self.started_cloud:
            self.cloud.stop()
            self.started_cloud = False

    def run_forever(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: self._stop.set())
        try:
            self.start()
            while not self._stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            say("stopping…")
            self.stop()
