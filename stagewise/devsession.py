"""One `stagewise dev` session: start (or reuse) the cloud, provision, serve, wait, stop.

Data flow: LocalCloud (moto, durable) → secrets the services declare (`SECRETS` in their
stack modules; local stages get a test Stripe key if they have none) checked before anything is
deployed → LocalStripe (patched localstripe on loopback, state in the cloud's state dir; its
socket is opened at once and its process started by the first call) → LocalStage.deploy
(templates → the local cloud's CloudFormation API, the provider `deploy` uses)
→ RuntimeModel.from_stacks (routes, authorizers, functions, SNS subscriptions from the DEPLOYED
state; functions that read a Stripe key get STRIPE_API_BASE = the local Stripe, at run time only,
never in a template) → Runtime (API Gateway on 127.0.0.1:<port>, one warm worker per function,
SNS → Lambda delivery; a local X-Ray daemon whose address every worker gets, its traces and the
functions' logs kept in the cloud's state dir: stagewise/tracing).
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
from stagewise.cloud.layout import STRIPE_DIR
from stagewise.cloud.origins import record_origin
from stagewise.config import Project, StageConfig
from stagewise.errors import UserError
from stagewise.localstage import LocalStage
from stagewise.runtime import Runtime, RuntimeModel
from stagewise.runtime.early_templates import provisional_functions, start_templates
from stagewise.runtime.model import FunctionSpec
from stagewise.runtime.template import Template
from stagewise.secrets import SecretStore
from stagewise.stacks.render import declared_secrets, render_stage
from stagewise.stripe_local import LOCAL_SECRET_KEY, LocalStripe
from stagewise.target import target_for
from stagewise.tracing.local import TRACES_PAGE, LocalTracing

STRIPE_SECRET = "STRIPE_SECRET_KEY"
# Secrets a local stage gets automatically when it has none: test values that work only locally.
LOCAL_TEST_SECRETS = {STRIPE_SECRET: LOCAL_SECRET_KEY}
STRIPE_KEY_VARIABLE = "STRIPE_SECRET_PARAMETER"  # a function with this variable calls Stripe
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
    stripe: LocalStripe | None = None
    tracing: LocalTracing | None = None
    templates: dict[str, Template] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> str:
        """Overlap the cloud's boot (it restores its state) with the work that does not need it."""
        began = time.perf_counter()
        if not self.started_cloud:  # `stagewise dev` launches it before importing this module
            self.started_cloud = self.cloud.begin()
        needed = declared_secrets(self.project, self.config)  # imports the stack modules meanwhile
        stripe_url = self._launch_stripe() if STRIPE_SECRET in needed else None
        self.tracing = LocalTracing.for_stage(self.cloud.state_dir, self.config.name)
        account_id = self.project.accounts[self.config.account].id
        env = {"AWS_ENDPOINT_URL": self.cloud.endpoint, **cloud_credentials(self.cloud.endpoint, account_id),
               **self.tracing.start(daemon=self.traced)}
        self.templates = self._early_templates(env, account_id, stripe_url)  # they import while the cloud boots
        preload(STARTUP_SERVICES, region=self.config.region)
        self.cloud.wait_ready()
        say(f"local cloud  {self.cloud.endpoint}{'' if self.started_cloud else ' (reused)'}")
        self.local = LocalStage(self.project, self.config, target_for(self.project, self.config, local=True))
        prepare_secrets(self.local, needed)
        states = self.local.deploy(on_stack=lambda name, status: say(f"  {name:<32} {status}"))
        model = RuntimeModel.from_stacks(states, repo_root=self.local.project.root)
        if stripe_url is not None:
            model = with_stripe_api_base(model, stripe_url)
        self.runtime = Runtime(
            model, repo_root=self.local.project.root, worker_env=env, region=self.local.region, log=say,
            hot_reload=self.watch, tracing=self.tracing, templates=self.templates,
        )
        self.templates = {}  # the runtime's now (it stops them, or those that do not fit)
        url = self.runtime.start(host="127.0.0.1", port=self.port)
        record_origin(self.cloud.state_dir, url)  # pages of the local API may call the cloud; no other page
        self._announce(url, model, time.perf_counter() - began)
        if self.stripe is not None:
            threading.Thread(target=self._report_stripe, args=(self.stripe,), name="local-stripe", daemon=True).start()
        return url

    def _early_templates(self, env: dict[str, str], account_id: str, stripe_url: str | None) -> dict[str, Template]:
        """Worker templates started from the rendered stacks (`runtime/early_templates.py`)."""
        functions = provisional_functions(render_stage(self.project, self.config), repo_root=self.project.root,
                                          region=self.config.region, account_id=account_id)
        if stripe_url is not None:
            functions = stripe_base_functions(functions, stripe_url)
        return start_templates(functions, repo_root=self.project.root, base_env=env, region=self.config.region,
                               log=say)

    def _launch_stripe(self) -> str:
        """The local Stripe's URL; its process starts on the first call to it (~0.5 s of imports that
        a start of dev need not pay while everything else starts: stripe_local.py)."""
        self.stripe = LocalStripe(self.cloud.state_dir / STRIPE_DIR)  # survives restarts; `cloud reset` wipes it
        url = self.stripe.launch(on_first_connection=True)
        say(f"local Stripe {url}   (starts on the first call)")
        return url

    def _report_stripe(self, stripe: LocalStripe) -> None:
        """Say so if the local Stripe fails to start once something calls it."""
        try:
            stripe.wait_ready()
        except UserError as exc:
            if not self._stop.is_set() and self.stripe is stripe:
                say(f"error: {exc}; POST /billing answers 502 until dev is restarted")

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
        if self.stripe is not None:
            self.stripe.stop()
            self.stripe = None
        if self.started_cloud and self.keep_cloud:
            say(f"local cloud left running at {self.cloud.endpoint} (`stagewise cloud stop` stops it)")
        elif self.started_cloud:
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


def prepare_secrets(local: LocalStage, names: list[str]) -> None:
    """Give the local stage its test secrets if it lacks them, then stop if any declared one is missing.

    Runs before anything is deployed. Values are never printed.
    """
    store = SecretStore(local.client("ssm"), local.project.app.name)
    visible = store.visible(local.stage)
    for name in names:
        if name not in visible and name in LOCAL_TEST_SECRETS:
            store.set(local.stage.name, name, LOCAL_TEST_SECRETS[name])
            say(f"secret       {name} set to the local test value for stage {local.stage.name}")
    store.resolve(local.stage, names)


def with_stripe_api_base(model: RuntimeModel, url: str) -> RuntimeModel:
    """The model with STRIPE_API_BASE=`url` in the environment of the functions that call Stripe only."""
    return replace(model, functions=stripe_base_functions(model.functions, url))


def stripe_base_functions(functions: dict[str, FunctionSpec], url: str) -> dict[str, FunctionSpec]:
    return {key: replace(spec, environment={**spec.environment, "STRIPE_API_BASE": url})
            if STRIPE_KEY_VARIABLE in spec.environment else spec for key, spec in functions.items()}
