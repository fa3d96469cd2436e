"""One `stagewise dev` session: start (or reuse) the cloud, provision, serve, wait, stop.

Data flow: LocalCloud (moto, durable) → secrets the services declare (`SECRETS` in their
stack modules; a local stage gets a stand-in's test value for a secret it lacks) checked before
anything is deployed → the local stand-ins those secrets call for (stagewise/standins.py: the
app's programs on loopback, state in the cloud's state dir; each socket is opened at once and its
process started by the first call) → LocalStage.deploy (templates → the local cloud's
CloudFormation API, the provider `deploy` uses) → RuntimeModel.from_stacks (routes, authorizers,
functions, SNS subscriptions from the DEPLOYED state; functions that read a stand-in's secret get
its URL in its `url_variable`, at run time only, never in a template) → Runtime (API Gateway on
127.0.0.1:<port>, one warm worker per function, SNS → Lambda delivery; a local X-Ray daemon whose
address every worker gets, its traces and the functions' logs kept in the cloud's state dir:
stagewise/tracing).
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from dataclasses import dataclass, field, replace

from stagewise.cloud import LocalCloud
from stagewise.cloud import credentials as cloud_credentials
from stagewise.cloud.accounts import preload
from stagewise.cloud.origins import record_origin
from stagewise.config import Project, StageConfig
from stagewise.errors import UserError
from stagewise.localstage import LocalStage
from stagewise.memory import AfterQuiet
from stagewise.runtime import Runtime, RuntimeModel
from stagewise.runtime.early_templates import provisional_functions, start_templates
from stagewise.runtime.template import Template
from stagewise.secrets import SecretStore
from stagewise.stacks.render import declared_secrets, render_stage
from stagewise.standins import LocalStandin, local_secret_values, standin_dir, standins_for, with_urls
from stagewise.target import target_for
from stagewise.tracing.local import TRACES_PAGE, LocalTracing

# The clients a start makes (secrets, stack state, SNS delivery): their models are read while the cloud boots.
STARTUP_SERVICES = ("ssm", "s3", "sqs", "sns")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class DevSession:
    project: Project
    config: StageConfig
    cloud: LocalCloud
    port: int
    watch: bool
    keep_cloud: bool = False
    traced: bool = True  # run the local X-Ray daemon (`dev --no-tracing` turns it off)
    started_cloud: bool = False
    runtime: Runtime | None = None
    local: LocalStage | None = None
    standins: list[LocalStandin] = field(default_factory=list)
    tracing: LocalTracing | None = None
    templates: dict[str, Template] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> str:
        """Overlap the cloud's boot (it restores its state) with the work that does not need it."""
        began = time.perf_counter()
        if not self.started_cloud:  # `stagewise dev` launches it before importing this module
            self.started_cloud = self.cloud.begin(tied=not self.keep_cloud)
        needed = declared_secrets(self.project, self.config)  # imports the stack modules meanwhile
        self._launch_standins(needed)
        self.tracing = LocalTracing.for_stage(self.cloud.state_dir, self.config.name)
        account_id = self.project.accounts[self.config.account].id
        env = {"AWS_ENDPOINT_URL": self.cloud.endpoint, **cloud_credentials(self.cloud.endpoint, account_id),
               **self.tracing.start(daemon=self.traced)}
        self.templates = self._early_templates(env, account_id)  # they import while the cloud boots
        preload(STARTUP_SERVICES, region=self.config.region)
        self.cloud.wait_ready()
        say(f"local cloud  {self.cloud.endpoint}{'' if self.started_cloud else ' (reused)'}")
        self.local = LocalStage(self.project, self.config, target_for(self.project, self.config, local=True))
        prepare_secrets(self.local, needed)
        states = self.local.deploy(on_stack=lambda name, status: say(f"  {name:<32} {status}"))
        model = RuntimeModel.from_stacks(states, repo_root=self.local.project.root)
        model = replace(model, functions=with_urls(model.functions, self.standins))
        self.runtime = Runtime(
            model, repo_root=self.local.project.root, worker_env=env, region=self.local.region, log=say,
            hot_reload=self.watch, tracing=self.tracing, templates=self.templates,
        )
        self.templates = {}  # the runtime's now (it stops them, or those that do not fit)
        url = self.runtime.start(host="127.0.0.1", port=self.port)
        record_origin(self.cloud.state_dir, url)  # pages of the local API may call the cloud; no other page
        self._announce(url, model, time.perf_counter() - began)
        for standin in self.standins:
            threading.Thread(target=self._report_standin, args=(standin,), name=f"standin-{standin.name}",
                             daemon=True).start()
        return url

    def _early_templates(self, env: dict[str, str], account_id: str) -> dict[str, Template]:
        """Worker templates started from the rendered stacks (`runtime/early_templates.py`)."""
        functions = provisional_functions(render_stage(self.project, self.config), repo_root=self.project.root,
                                          region=self.config.region, account_id=account_id)
        functions = with_urls(functions, self.standins)
        return start_templates(functions, repo_root=self.project.root, base_env=env, region=self.config.region,
                               log=say)

    def _launch_standins(self, secrets: list[str]) -> None:
        """The stand-ins the stage's secrets call for; each process starts on the first call to it (its
        imports, ~0.5 s for some, need not be paid while everything else starts)."""
        for name, settings in standins_for(self.project, secrets).items():
            standin = LocalStandin(name, settings, root=self.project.root,  # survives restarts; `cloud reset` wipes it
                                   state_dir=standin_dir(self.cloud.state_dir, name))
            self.standins.append(standin)
            url = standin.launch(on_first_connection=True)
            say(f"stand-in     {name} {url}   (starts on the first call)")

    def _report_standin(self, standin: LocalStandin) -> None:
        """Say so if a stand-in fails to start once something calls it."""
        try:
            standin.wait_ready()
        except UserError as exc:
            if not self._stop.is_set() and standin in self.standins:
                say(f"error: {exc}; the functions that call it fail until dev is restarted")

    def _announce(self, url: str, model: RuntimeModel, seconds: float) -> None:
        say(f"\nAPI          {url}   (ready in {seconds:.2f} s)")
        api = model.default_api()
        verbs = ("POST", "GET", "PUT", "PATCH", "DELETE", "ANY")
        shown = [r for r in (api.routes if api else []) if r.method != "OPTIONS"]
        for route in sorted(shown, key=lambda r: (r.path, verbs.index(r.method) if r.method in verbs else 9)):
            say(f"  {route.method:<7} {url.rstrip('/')}{route.path}")
        say(f"OpenAPI      {url.rstrip('/')}/openapi.json   docs: {url.rstrip('/')}/docs")
        stage = f" --stage {self.config.name}" if self.config.name != "local" else ""
        say(f"Traces       {url.rstrip('/')}{TRACES_PAGE}   stagewise traces{stage}   logs: stagewise logs FUNCTION{stage}")
        call = "stagewise call GET /notes --as you@example.com"  # SigV4-signed as that user, created if missing
        call += f" --stage {self.config.name}" if self.config.name != "local" else ""
        call += f" --url {url.rstrip('/')}" if url.rstrip("/") != "http://127.0.0.1:3000" else ""
        say(f"Call         {call}")
        if model.subscriptions:
            say(f"SMS          stagewise messages --stage {self.config.name}   (what the local cloud has sent)")
        say("Ctrl-C stops; local data is kept (stagewise cloud reset wipes it).")

    def stop(self) -> None:
        for template in self.templates.values():  # started, and no runtime took them over
            template.stop()
        self.templates = {}
        if self.runtime is not None:
            self.runtime.stop()
            self.runtime = None
        if self.tracing is not None:
            self.tracing.stop()
            self.tracing = None
        for standin in self.standins:
            standin.stop()
        self.standins = []
        if self.started_cloud and self.keep_cloud:
            say(f"local cloud left running at {self.cloud.endpoint} (`stagewise cloud stop` stops it)")
        elif self.started_cloud:
            self.cloud.stop()
        self.started_cloud = False

    def run_forever(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: self._stop.set())
        quiet = AfterQuiet()
        try:
            self.start()
            quiet.done()  # rendering and deploying the stacks freed more than serving will use
            while not self._stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            quiet.cancel()
            say("stopping…")
            self.stop()


def prepare_secrets(local: LocalStage, names: list[str]) -> None:
    """Give the local stage its test secrets if it lacks them, then stop if any declared one is missing.

    Runs before anything is deployed. Values are never printed.
    """
    store = SecretStore(local.client("ssm"), local.project.app.name)
    visible = store.visible(local.stage)
    test_values = local_secret_values(local.project)  # test values that work only with the local stand-ins
    for name in names:
        if name not in visible and name in test_values:
            store.set(local.stage.name, name, test_values[name])
            say(f"secret       {name} set to the local test value for stage {local.stage.name}")
    store.resolve(local.stage, names)

