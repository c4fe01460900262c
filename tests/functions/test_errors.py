"""One table maps error codes to statuses for both faces: every domain error has a row."""

from __future__ import annotations

from privochat import domain
from privochat.errors import STATUS_BY_CODE, error_body


def _subclasses(cls: type[domain.ChatError]) -> set[type[domain.ChatError]]:
    found = set(cls.__subclasses__())
    return found | {grand for sub in found for grand in _subclasses(sub)}


def test_every_domain_error_has_a_status_and_a_sentence() -> None:
    errors = _subclasses(domain.ChatError)
    assert len(errors) >= 8
    for error in errors:
        assert error.code in STATUS_BY_CODE, error
        assert 400 <= STATUS_BY_CODE[error.code] < 600
        assert error_body(error.code)["message"] != error.code
