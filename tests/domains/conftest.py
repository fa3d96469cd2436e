"""Fixtures: the pipeline tests' project plus `web` (a published API with a function), with prod owning
`api.example.com` and dev `dev.api.example.com`; a real local cloud on a free port; the CLI against it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.pipeline.conftest import FIXTURE, cloud  # noqa: F401  (a real local cloud on a free port)
from tests.pipeline.test_cli import cli  # noqa: F401  (the CLI as a user runs it, against that cloud)

WEB = Path(__file__).parent / "web"
PROD_DOMAIN, DEV_DOMAIN = "api.example.com", "dev.api.example.com"
DEV_ACCOUNT, PROD_ACCOUNT = "111111111111", "222222222222"


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    dest = tmp_path / "project"
    shutil.copytree(FIXTURE, dest)
    shutil.copytree(WEB, dest / "services" / "web", ignore=shutil.ignore_patterns("__pycache__"))
    manifest = dest / "stagewise.toml"
    text = manifest.read_text().replace('job = "services/job"', 'job = "services/job"\nweb = "services/web"')
    text = text.replace('[stages.dev]\n', f'[stages.dev]\ndomain = "{DEV_DOMAIN}"\n')
    text = text.replace('[stages.prod]\n', f'[stages.prod]\ndomain = "{PROD_DOMAIN}"\n')
    manifest.write_text(text)
    return dest
