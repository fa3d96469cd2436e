"""pytest fixtures of the notify-job tests; they live in notify_fixtures (a unique module name)."""

from notify_fixtures import sms  # noqa: F401
