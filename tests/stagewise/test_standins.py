"""Local stand-ins (stagewise/standins.py): declared in stagewise.toml, run from the project root on
loopback, started by their first caller, their URL given to the functions that read their secret.

The stand-in here is a tiny module each test writes into a temp project: a stdlib HTTP server on
the socket the launcher hands over, counting its calls in its state dir.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlparse

import httpx
import pytest

from stagewise.commands.invoke import local_standins_for
from stagewise.config import Project, load_project
from stagewise.errors import ConfigError, UserError
from stagewise.runtime import Runtime, RuntimeModel
from stagewise.runtime.model import FunctionSpec
from stagewise.standins import LocalStandin, local_secret_values, standin_dir, standins_for, with_urls
from tests.helpers import ends_within, free_port

MANIFEST = """
[app]
name = "shop"

[services]
pay = "services/pay"

[accounts.dev]
id = "111111111111"

[defaults]
account = "dev"

[stages.local]
"""

DECLARATION = """
[local.standins.maps]
module = "fakes.maps"
secret = "MAPS_API_KEY"
secret_value = "local-maps-key"
url_variable = "MAPS_API_BASE"
"""

# Serves GET on the inherited socket: {"calls": N, "cwd": ...}; N counted in the state dir (kept
# across restarts). STANDIN_DELAY makes it slow to start, as a child with heavy imports is.
STANDIN = '''
import argparse, json, os, signal, socket, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--fd", type=int, required=True)
parser.add_argument("--state-dir", type=Path, required=True)
args = parser.parse_args()
args.state_dir.mkdir(parents=True, exist_ok=True)
counter = args.state_dir / "calls"
time.sleep(float(os.environ.get("STANDIN_DELAY", "0")))


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        calls = int(counter.read_text()) + 1 if counter.exists() else 1
        counter.write_text(str(calls))
        body = json.dumps({"calls": calls, "cwd": os.getcwd()}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
server.socket.close()
server.socket = socket.socket(fileno=args.fd)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
print(f"maps listening on http://127.0.0.1:{server.socket.getsockname()[1]}", flush=True)
server.serve_forever()
'''

HANDLER = '''
import json, os, urllib.request


def handler(event, context):
    with urllib.request.urlopen(os.environ["MAPS_API_BASE"] + "/geocode", timeout=10) as reply:
        return json.loads(reply.read())
'''


def write_project(root: Path, declaration: str = DECLARATION, standin: str = STANDIN) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "stagewise.toml").write_text(MANIFEST + declaration)
    service = root / "services" / "pay"
    service.mkdir(parents=True)
    (service / "stack.py").write_text("SECRETS = ('MAPS_API_KEY',)\n")
    (service / "handler.py").write_text(HANDLER)
    (root / "fakes").mkdir()
    (root / "fakes" / "__init__.py").write_text("")
    (root / "fakes" / "maps.py").write_text(standin)
    return root / "stagewise.toml"


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return load_project(write_project(tmp_path / "shop"))


@pytest.fixture
def standin(project: Project, tmp_path: Path) -> Iterator[LocalStandin]:
    local = LocalStandin("maps", project.standins["maps"], state_dir=standin_dir(tmp_path / "cloud", "maps"),
                         root=project.root)
    try:
        yield local
    finally:
        local.stop()


def spec(logical_id: str, environment: dict[str, str], source_dir: Path = Path(".")) -> FunctionSpec:
    return FunctionSpec(logical_id=logical_id, name=logical_id.lower(), handler="handler.handler",
                        arn=f"arn:aws:lambda:us-east-1:111111111111:function:{logical_id}",
                        source_dir=source_dir, environment=environment, timeout_s=10, memory_mb=128)


# ---------------------------------------------------------------- the declaration


def test_the_declaration_is_read(project: Project) -> None:
    maps = project.standins["maps"]
    assert (maps.module, maps.secret, maps.url_variable) == ("fakes.maps", "MAPS_API_KEY", "MAPS_API_BASE")
    assert local_secret_values(project) == {"MAPS_API_KEY": "local-maps-key"}
    assert list(standins_for(project, ["MAPS_API_KEY"])) == ["maps"]
    assert standins_for(project, ["OTHER_KEY"]) == {}


def test_a_project_without_stand_ins_has_none(tmp_path: Path) -> None:
    project = load_project(write_project(tmp_path, declaration=""))
    assert project.standins == {} and local_secret_values(project) == {}


@pytest.mark.parametrize(("declaration", "message"), [
    (DECLARATION.replace('module = "fakes.maps"\n', ""), "[local.standins.maps]: missing key 'module'"),
    (DECLARATION.replace("url_variable", "url_var"), "unknown key 'url_var' (allowed: module"),
    (DECLARATION.replace('"MAPS_API_KEY"', '"maps-key"'), "[local.standins.maps]: secret: String should match"),
    (DECLARATION.replace("[local.standins.maps]", "[local.standins.Maps]"),
     "[local.standins.Maps]: a stand-in's name is lowercase letters"),
    (DECLARATION + DECLARATION.replace("[local.standins.maps]", "[local.standins.geo]"),
     "[local.standins.geo]: secret MAPS_API_KEY is already [local.standins.maps]'s; one stand-in per secret"),
    ('[local]\nstandin = {}\n', "[local]: unknown key(s) ['standin']; allowed: standins"),
])
def test_a_bad_declaration_is_one_line_naming_the_table_and_the_fix(tmp_path: Path, declaration: str,
                                                                   message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_project(write_project(tmp_path, declaration=declaration))
    assert message in str(raised.value) and "stagewise.toml" in str(raised.value)
    assert "\n" not in str(raised.value)


# ---------------------------------------------------------------- the launcher


def test_it_starts_on_the_first_connection_from_the_project_root(standin: LocalStandin, project: Project) -> None:
    url = standin.launch(on_first_connection=True)
    time.sleep(0.5)
    assert not standin.started  # nothing called it yet: no process, no CPU spent
    reply = httpx.get(url + "/geocode", timeout=10).json()
    assert reply == {"calls": 1, "cwd": str(project.root)}
    assert standin.started and standin.wait_ready() == url


def test_it_listens_on_loopback_only(standin: LocalStandin) -> None:
    url = urlparse(standin.start())
    assert url.hostname == "127.0.0.1"
    own_address = _non_loopback_address()
    if own_address is not None:  # a machine with only loopback: the listening address is the whole check
        with socket.socket() as probe:
            probe.settimeout(1)
            assert probe.connect_ex((own_address, url.port)) != 0


def test_a_call_made_right_after_launch_waits_for_a_slow_child(standin: LocalStandin,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANDIN_DELAY", "0.5")  # the child inherits it: half a second before it serves
    url = standin.launch()
    assert httpx.get(url + "/geocode", timeout=10).json()["calls"] == 1  # waited in the backlog, not refused
    assert standin.wait_ready() == url


def test_its_state_survives_a_restart(project: Project, tmp_path: Path) -> None:
    state = standin_dir(tmp_path / "cloud", "maps")
    assert state == tmp_path / "cloud" / "standins" / "maps"  # in the cloud's state dir: `cloud reset` wipes it
    for calls in (1, 2):
        with LocalStandin("maps", project.standins["maps"], state_dir=state, root=project.root) as local:
            assert httpx.get(f"{local.base_url}/geocode", timeout=10).json()["calls"] == calls


def test_a_port_can_be_chosen_and_a_busy_one_is_a_user_error(project: Project, tmp_path: Path) -> None:
    port = free_port()
    with LocalStandin("maps", project.standins["maps"], state_dir=tmp_path, root=project.root, port=port) as local:
        assert local.base_url == f"http://127.0.0.1:{port}"
        with pytest.raises(UserError, match=f"local stand-in maps cannot listen on 127.0.0.1:{port}"):
            LocalStandin("maps", project.standins["maps"], state_dir=tmp_path, root=project.root, port=port).start()


def test_stop_before_any_call_closes_the_socket_and_starts_nothing(standin: LocalStandin) -> None:
    url = standin.launch(on_first_connection=True)
    standin.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=2)
    assert not standin.started
    with pytest.raises(UserError, match="stopped before it started"):
        standin.wait_ready()


def test_stop_ends_the_process_and_frees_the_port(standin: LocalStandin) -> None:
    url = standin.start()
    standin.stop()
    standin.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=2)


# A launcher in a process of its own: starts the stand-in, prints the child's pid, then sleeps.
LAUNCHER = """
import sys, time
from pathlib import Path
from stagewise.config import load_project
from stagewise.standins import LocalStandin

project = load_project(Path(sys.argv[1]))
standin = LocalStandin("maps", project.standins["maps"], state_dir=sys.argv[2], root=project.root)
standin.start()
print(standin._process.pid, standin.base_url, flush=True)
time.sleep(600)
"""


def test_a_launcher_killed_outright_takes_its_stand_in_with_it(project: Project, tmp_path: Path) -> None:
    # SIGKILL leaves the launcher no chance to stop() its child: the child must see it is gone
    launcher = subprocess.Popen([sys.executable, "-c", LAUNCHER, str(project.root / "stagewise.toml"),
                                 str(tmp_path / "state")], stdout=subprocess.PIPE, text=True)
    try:
        pid_text, url = (launcher.stdout.readline() if launcher.stdout else "").split()
        assert httpx.get(url + "/geocode", timeout=10).json()["calls"] == 1
        launcher.kill()
        launcher.wait()
        assert ends_within(int(pid_text), seconds=5), "the stand-in outlived its launcher"
        with pytest.raises(httpx.ConnectError):
            httpx.get(url, timeout=2)
    finally:
        launcher.kill()
        launcher.wait()
        if launcher.stdout:
            launcher.stdout.close()


def test_a_module_not_under_the_root_stops_the_launch_naming_the_fix(tmp_path: Path) -> None:
    # checked at launch, not when stagewise.toml is read: a deploy or a CI job need not carry the app's tools
    project = load_project(write_project(tmp_path, declaration=DECLARATION.replace('"fakes.maps"', '"fakes.mapz"')))
    local = LocalStandin("maps", project.standins["maps"], state_dir=tmp_path / "state", root=project.root)
    with pytest.raises(UserError) as raised:
        local.launch(on_first_connection=True)
    assert "local stand-in maps: module 'fakes.mapz' is not under" in str(raised.value)
    assert "fix [local.standins.maps] module in stagewise.toml" in str(raised.value)
    assert local.base_url is None  # no socket was opened


def test_a_child_that_never_says_it_listens_is_a_user_error(tmp_path: Path) -> None:
    project = load_project(write_project(tmp_path, standin="import sys\nprint('no socket for me')\nsys.exit(1)\n"))
    local = LocalStandin("maps", project.standins["maps"], state_dir=tmp_path / "state", root=project.root)
    with pytest.raises(UserError, match=r"local stand-in maps \(fakes.maps\) did not start on http://127.0.0.1:\d+ "
                                        r"\(it printed 'no socket for me\\n'\)"):
        local.start()


# ---------------------------------------------------------------- the functions' environment


def test_only_the_functions_that_read_the_secret_get_the_url(standin: LocalStandin) -> None:
    url = standin.launch(on_first_connection=True)
    functions = {
        "Lookup": spec("Lookup", {"MAPS_KEY_PARAMETER": "/shop/local/MAPS_API_KEY"}),
        "Fallback": spec("Fallback", {"OWN": "/shop/pr-1/OTHER", "FALLBACK": "/shop/dev/MAPS_API_KEY"}),
        "Notify": spec("Notify", {"ADMIN_PHONE": "+15555550100", "NOTE": "MAPS_API_KEY"}),
    }
    changed = with_urls(functions, [standin])
    assert changed["Lookup"].environment["MAPS_API_BASE"] == url
    assert changed["Fallback"].environment["MAPS_API_BASE"] == url
    assert "MAPS_API_BASE" not in changed["Notify"].environment  # names the secret, not its parameter
    assert "MAPS_API_BASE" not in functions["Lookup"].environment  # the deployed model is untouched
    assert not standin.started


def test_a_local_invoke_runs_the_stand_in_for_a_function_that_reads_its_secret(
        project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAGEWISE_STATE_DIR", str(tmp_path / "cloud"))
    service = project.services["pay"].path
    model = RuntimeModel(
        functions={"Lookup": spec("Lookup", {"MAPS_KEY_PARAMETER": "/shop/local/MAPS_API_KEY"}, service),
                   "Notify": spec("Notify", {}, service)},
        apis={}, authorizers={}, subscriptions=[], user_pool_clients={},
    )
    local = SimpleNamespace(project=project)
    with local_standins_for(local, model, "Notify") as unchanged:
        assert unchanged.functions == model.functions  # no stand-in for a function that does not call it
    with local_standins_for(local, model, "Lookup") as running:
        runtime = Runtime(running, repo_root=project.root, worker_env={}, region="us-east-1", hot_reload=False,
                          log=lambda line: print(line, file=sys.stderr))
        try:
            assert runtime.invoke("Lookup", {})["calls"] == 1
        finally:
            runtime.stop()
        url = running.functions["Lookup"].environment["MAPS_API_BASE"]
    assert (tmp_path / "cloud" / "standins" / "maps" / "calls").read_text() == "1"
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=2)  # stopped with the invoke


def _non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address
