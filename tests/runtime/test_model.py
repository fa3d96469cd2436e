from pathlib import Path

import pytest

from stagewise.errors import UserError
from stagewise.runtime.model import RuntimeModel
from tests.runtime.stacks import API_ID, AUTHORIZER_ID, FIXTURE_APP, api_stack, billing_stack


@pytest.fixture
def model() -> RuntimeModel:
    return RuntimeModel.from_stacks([api_stack(), billing_stack()], repo_root=FIXTURE_APP)


def test_functions_carry_resolved_settings(model):
    echo = model.functions["Echo"]
    assert echo.name == "dev-t-Echo"
    assert echo.handler == "echo_fn.handlers.echo"
    assert echo.source_dir == (FIXTURE_APP / "services/echo").resolve()
    assert echo.environment == {"ECHO_ONLY": "echo-secret-name"}
    assert (echo.timeout_s, echo.memory_mb, echo.region, echo.account_id) == (3, 256, "us-east-1", "123456789012")
    assert model.functions["Env"].environment["FLAG"] == "true"


def test_routes_get_full_paths_across_stacks(model):
    api = model.apis[API_ID]
    routes = {(r.method, r.path): r for r in api.routes}
    assert routes[("GET", "/items/{item_id}")].function == "Items"
    assert routes[("GET", "/files/{proxy+}")].function == "Echo"
    assert routes[("GET", "/")].function == "Echo"
    assert routes[("ANY", "/echo")].function == "Echo"
    assert routes[("POST", "/billing")].function == "Billing"  # method of another stack, same API
    secure = routes[("GET", "/secure")]
    assert (secure.authorization, secure.authorizer_id) == ("COGNITO_USER_POOLS", AUTHORIZER_ID)
    assert routes[("OPTIONS", "/secure")].mock_headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert api.stage == "dev" and api.stage_variables == {"v": "1"}


def test_authorizers_and_subscriptions(model):
    auth = model.authorizers[AUTHORIZER_ID]
    assert auth.user_pools == (("us-east-1", "us-east-1_pool"),)
    assert auth.header == "Authorization"
    (sub,) = model.subscriptions
    assert sub.function == "Billing" and sub.topic_arn.endswith(":dev-note-purchased")


def test_lookup_by_name_or_arn_and_default_api(model):
    assert model.function("dev-t-Echo").logical_id == "Echo"
    assert model.function(model.functions["Env"].arn).logical_id == "Env"
    with pytest.raises(UserError, match="no function 'Nope'"):
        model.function("Nope")
    assert model.default_api().api_id == API_ID
    assert model.api("dev-t-api").api_id == API_ID


def test_function_without_source_metadata_is_refused():
    stack = api_stack()
    stack.resources["Echo"].metadata = {}
    with pytest.raises(UserError, match="Metadata.stagewise.source"):
        RuntimeModel.from_stacks([stack], repo_root=Path("/tmp"))


def test_method_on_an_api_that_is_not_deployed_is_a_warning():
    model = RuntimeModel.from_stacks([billing_stack()], repo_root=FIXTURE_APP)
    assert model.apis == {}
    assert any("MBilling" in w and "not deployed" in w for w in model.warnings)
