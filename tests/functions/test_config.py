"""Settings from the environment: one table of variables, the README's; a value the
functions cannot use is refused with its variable's name."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from devkit.events import http_event, ws_event
from privochat import wiring
from privochat.config import ENVIRONMENT, Settings, SettingsError

README = Path(__file__).resolve().parents[2] / "README.md"
NUMBERS = [v for v, f in ENVIRONMENT.items() if isinstance(getattr(Settings(), f), int | float)]


def _readme_variables() -> set[str]:
    """The first column of the README's table under "## Settings"."""
    section = README.read_text().split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z_]+)` \|", section, re.MULTILINE))


def test_the_readme_lists_exactly_the_variables_the_functions_read() -> None:
    assert _readme_variables() == set(ENVIRONMENT)


def test_every_setting_has_its_variable() -> None:
    assert sorted(ENVIRONMENT.values()) == sorted(field.name for field in fields(Settings))


def test_no_variable_gives_the_defaults() -> None:
    assert Settings.from_env({}) == Settings()


def test_each_variable_sets_its_setting() -> None:
    samples = {
        int: "7",
        float: "0.5",
        str: "DEBUG",
        tuple: " https://a.example, ,https://b.example",
    }
    parsed = {int: 7, float: 0.5, str: "DEBUG", tuple: ("https://a.example", "https://b.example")}
    for variable, field in ENVIRONMENT.items():
        kind = type(getattr(Settings(), field))
        settings = Settings.from_env({variable: samples[kind]})
        assert getattr(settings, field) == parsed[kind], variable


@pytest.mark.parametrize("variable", NUMBERS)
@pytest.mark.parametrize("value", ["abc", "", "0", "-5", "nan", "1e400x"])
def test_a_number_that_cannot_be_used_is_refused_with_its_variable(
    variable: str, value: str
) -> None:
    with pytest.raises(SettingsError, match=rf"^{variable} must be .* above 0, not {value!r}$"):
        Settings.from_env({variable: value})


def test_a_log_level_python_does_not_know_is_refused_with_its_variable() -> None:
    with pytest.raises(SettingsError, match=r"^LOG_LEVEL must be one of DEBUG, INFO, .*'LOUD'$"):
        Settings.from_env({"LOG_LEVEL": "LOUD"})


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    """What was logged, tracebacks included, however the handlers format it."""
    return "\n".join(
        record.getMessage()
        + (logging.Formatter().formatException(record.exc_info) if record.exc_info else "")
        for record in caplog.records
    )


def test_a_bad_setting_is_a_json_500_on_both_faces_and_its_log_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, lambda_event_loop: None
) -> None:
    """In AWS a bad value reaches the function only at its first request: the
    answer is the API's JSON 500, and the log says which variable to fix."""
    from privochat import http_api, ws_api

    http: Any = http_api.handler
    on_connect: Any = ws_api.on_connect  # events are plain dicts here
    said = "ROOM_TTL_SECONDS must be a whole number above 0, not 'ten minutes'"
    monkeypatch.setenv("ROOM_TTL_SECONDS", "ten minutes")
    wiring.configure()  # None: the environment's settings, read at the next request
    try:
        with caplog.at_level(logging.ERROR):
            answer = http(http_event("POST", "/api/room/create", body={"verifier": "v"}), None)
            assert said in _logged(caplog)
            caplog.clear()
            connect = on_connect(ws_event("$connect", "c-1", room_id="abcdefgh"), None)
            assert said in _logged(caplog)
    finally:
        wiring.configure()
    assert answer["statusCode"] == 500
    assert json.loads(answer["body"])["error"] == "internal"
    assert connect["statusCode"] == 500
    assert json.loads(connect["body"])["error"] == "internal"
