"""The cloud process keeps one parsed copy of each botocore model, whichever of moto and the
provisioner's clients reads it; a model that loaders merge their own extras into stays theirs."""

from __future__ import annotations

from tests.helpers import run_program_ok

PROGRAM = """
import tempfile
from pathlib import Path
from stagewise.cloud import server
from stagewise.cloud.accounts import shared_client
from moto.core.base_backend import AccountSpecificBackend
from moto.core.utils import get_service_model

server.build_app(Path(tempfile.mkdtemp()))
def client_model(service):
    made = shared_client(service, region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                         aws_access_key_id="x", aws_secret_access_key="x")
    return made.meta.service_model._service_description

moto_session = AccountSpecificBackend.get_session()._session
assert "us-east-1" in moto_session.get_available_regions("dynamodb")
regions_model = moto_session.get_component("data_loader").load_service_model("dynamodb", "service-2")
assert client_model("dynamodb") is get_service_model("dynamodb")._service_description is regions_model
assert type(regions_model) is dict, type(regions_model)

# botocore merges its sdk-extras into S3's model (Expires as a timestamp), moto's loader does not
assert client_model("s3")["shapes"]["Expires"]["type"] == "timestamp"
assert get_service_model("s3")._service_description["shapes"]["Expires"]["type"] != "timestamp"
print("ok")
"""


def test_one_copy_of_each_model_in_the_cloud_process_and_extras_stay_per_loader() -> None:
    run_program_ok(PROGRAM)


CLIENT_PROGRAM = """
import sys
from stagewise.cloud.accounts import shared_client
made = shared_client("dynamodb", region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                     aws_access_key_id="x", aws_secret_access_key="x")
assert type(made.meta.service_model._service_description) is dict
assert "moto" not in sys.modules, "a client outside the cloud imported moto"
assert made.meta.service_model.operation_model("GetItem").documentation == ""  # help() text not kept
s3 = shared_client("s3", region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                   aws_access_key_id="x", aws_secret_access_key="x")
assert s3.meta.service_model.client_context_parameters  # botocore reads their documentation with [...]
print("ok")
"""


def test_stagewise_clients_in_any_process_read_models_as_dicts_without_moto() -> None:
    run_program_ok(CLIENT_PROGRAM)
