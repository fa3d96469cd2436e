"""The tracing tests run against the same real `stagewise dev` fixture as tests/e2e (own cloud, free ports)."""

from tests.e2e.conftest import alice_credentials, app_copy, dev  # noqa: F401 - fixtures used by this folder
