from stagewise.runtime.model import RouteSpec
from stagewise.runtime.routing import Match, RouteTable


def route(path: str, method: str = "GET") -> RouteSpec:
    return RouteSpec(api_id="a", path=path, method=method, resource_id="r", function="F",
                     integration_type="AWS_PROXY", authorization="NONE")


TABLE = RouteTable([
    route("/"), route("/notes"), route("/notes", "POST"), route("/notes/{id}"), route("/notes/{id}", "DELETE"),
    route("/notes/special"), route("/files/{proxy+}"), route("/any", "ANY"),
])


def test_full_match_with_decoded_parameters():
    found = TABLE.match("GET", "/notes/a%20b")
    assert found.kind is Match.FULL
    assert found.route.path == "/notes/{id}"
    assert found.path_parameters == {"id": "a b"}


def test_literal_beats_parameter():
    assert TABLE.match("GET", "/notes/special").route.path == "/notes/special"


def test_path_match_with_wrong_method_is_partial():
    found = TABLE.match("PATCH", "/notes/1")
    assert found.kind is Match.PARTIAL
    assert found.allowed == ("DELETE", "GET")


def test_unknown_path_is_none():
    assert TABLE.match("GET", "/nope").kind is Match.NONE
    assert TABLE.match("GET", "/notes/1/extra").kind is Match.NONE
    assert TABLE.match("GET", "/files").kind is Match.NONE  # {proxy+} needs at least one segment


def test_greedy_proxy_takes_the_rest():
    found = TABLE.match("GET", "/files/a/b%2Fc/d.txt")
    assert found.path_parameters == {"proxy": "a/b/c/d.txt"}


def test_any_root_and_trailing_slash():
    assert TABLE.match("PATCH", "/any").kind is Match.FULL
    assert TABLE.match("GET", "/").route.path == "/"
    assert TABLE.match("POST", "/notes/").route.method == "POST"
