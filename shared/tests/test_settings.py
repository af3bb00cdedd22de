from __future__ import annotations

import re
from pathlib import Path

import pytest

from switchyard.shared.db import redact_dsn
from switchyard.shared.settings import Settings, SettingsError


def test_settings_come_from_switchyard_variables() -> None:
    s = Settings.from_env(
        {
            "SWITCHYARD_HTTP_PORT": "9000",
            "SWITCHYARD_DATA_DIR": "/var/lib/sy",
            "SWITCHYARD_SERVICES": "config-api, media",
            "HTTP_PORT": "1",
        }
    )
    assert s.http_port == 9000
    assert s.data_dir == Path("/var/lib/sy")
    assert s.service_names == ["config-api", "media"]
    assert Settings.from_env({}).service_names is None
    assert Settings.from_env(s.to_env()) == s


def test_a_bad_value_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="SWITCHYARD_HTTP_PORT"):
        Settings.from_env({"SWITCHYARD_HTTP_PORT": "eighty"})


def test_passwords_are_redacted_from_dsns() -> None:
    assert redact_dsn("postgresql://sy:hunter2@db:5432/sy") == "postgresql://sy:***@db:5432/sy"
    assert redact_dsn("postgresql://postgres@127.0.0.1/x") == "postgresql://postgres@127.0.0.1/x"


ROOT = Path(__file__).resolve().parents[2]


def test_every_switchyard_variable_is_documented() -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text()
    documented = set(re.findall(r"SWITCHYARD_[A-Z_]+", doc))
    sources = [ROOT / "shared" / "src", *(ROOT / "services").glob("*/src"), ROOT / "fssim" / "src"]
    named = {
        name
        for folder in sources
        for path in folder.rglob("*.py")
        for name in re.findall(r"SWITCHYARD_[A-Z_]+", path.read_text())
    }
    # Settings fields are read as ENV_PREFIX + NAME, never spelled out in code.
    named |= set(Settings().to_env())
    assert len(sources) > 3 and "SWITCHYARD_TIMEZONE" in named
    assert named - documented == set()


def test_a_shell_application_in_the_allowlist_setting_stops_the_start() -> None:
    with pytest.raises(SettingsError, match=r"SWITCHYARD_FS_APPLICATIONS: .*system"):
        Settings.from_env({"SWITCHYARD_FS_APPLICATIONS": "valet_park,system"})
    extra = Settings.from_env({"SWITCHYARD_FS_APPLICATIONS": "valet_park, my_app"})
    assert extra.fs_applications == "valet_park, my_app"


def test_routing_settings_are_checked_at_start_and_empty_means_the_default() -> None:
    with pytest.raises(SettingsError, match=r"SWITCHYARD_TIMEZONE: unknown time zone"):
        Settings.from_env({"SWITCHYARD_TIMEZONE": "Mars/Olympus"})
    with pytest.raises(SettingsError, match=r"SWITCHYARD_SIP_DOMAIN: "):
        Settings.from_env({"SWITCHYARD_SIP_DOMAIN": "pbx.example;x"})
    blank = Settings.from_env({"SWITCHYARD_TIMEZONE": "", "SWITCHYARD_SIP_DOMAIN": ""})
    assert (blank.timezone, blank.sip_domain) == ("UTC", "$${domain}")


def test_jetstream_replicas_is_one_to_five() -> None:
    assert Settings.from_env({}).jetstream_replicas == 1
    assert Settings.from_env({"SWITCHYARD_JETSTREAM_REPLICAS": "3"}).jetstream_replicas == 3
    for bad in ("0", "6", "three"):
        with pytest.raises(SettingsError, match="SWITCHYARD_JETSTREAM_REPLICAS"):
            Settings.from_env({"SWITCHYARD_JETSTREAM_REPLICAS": bad})
