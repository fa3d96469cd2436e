"""pytest fixtures of the billing-api tests; they live in billing_fixtures (a unique module name, so
test modules can import its helpers while other suites have their own conftest)."""

from billing_fixtures import stripe_server, world  # noqa: F401
