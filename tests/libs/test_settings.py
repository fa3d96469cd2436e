"""libs.settings: typed settings from the environment, read once, with errors naming the variable."""

from __future__ import annotations

import dataclasses

import pytest

from libs.settings import CommonSettings, NotesSettings, SettingsError, env_field, load, read

FULL = {
    "STAGE": "dev",
    "POWERTOOLS_SERVICE_NAME": "notes-api",
    "TABLE_NAME": "dev-notes-table",
    "BUCKET_NAME": "dev-notes-uploads-abc",
}


def test_reads_every_field_with_defaults():
    # GIVEN the variables a notes function gets WHEN read THEN typed settings, LOG_LEVEL defaulted
    settings = read(NotesSettings, FULL)
    assert settings == NotesSettings(
        stage="dev",
        service_name="notes-api",
        log_level="INFO",
        table_name="dev-notes-table",
        bucket_name="dev-notes-uploads-abc",
    )


@pytest.mark.parametrize("missing", ["TABLE_NAME", "BUCKET_NAME", "STAGE"])
def test_missing_variable_is_named(missing):
    # GIVEN one required variable unset (or empty) WHEN read THEN the error names it and the field
    for environ in ({k: v for k, v in FULL.items() if k != missing}, {**FULL, missing: ""}):
        with pytest.raises(SettingsError, match=missing):
            read(NotesSettings, environ)


def test_typed_conversion_and_its_errors():
    # GIVEN a service's own settings with int and bool fields
    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Billing(CommonSettings):
        rate: int = env_field("RATE")
        live: bool = env_field("LIVE", default=False)

    base = {"STAGE": "dev", "POWERTOOLS_SERVICE_NAME": "billing-api"}
    # WHEN read THEN values are converted; malformed values are refused naming the variable
    assert read(Billing, {**base, "RATE": "4", "LIVE": "true"}).rate == 4
    assert read(Billing, {**base, "RATE": "4"}).live is False
    with pytest.raises(SettingsError, match="RATE='four' is not an integer"):
        read(Billing, {**base, "RATE": "four"})
    with pytest.raises(SettingsError, match="LIVE"):
        read(Billing, {**base, "RATE": "4", "LIVE": "maybe"})


def test_load_reads_the_environment_once(monkeypatch):
    # GIVEN the environment of a function
    for name, value in FULL.items():
        monkeypatch.setenv(name, value)
    load.cache_clear()
    try:
        first = load(NotesSettings)
        # WHEN the environment changes later in the container THEN the first reading is kept
        monkeypatch.setenv("TABLE_NAME", "changed")
        assert load(NotesSettings) is first
        assert first.table_name == "dev-notes-table"
    finally:
        load.cache_clear()
