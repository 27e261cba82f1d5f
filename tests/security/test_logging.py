"""Logs are read by more people than the database: a traceback must not carry the password
or token that was in a local variable when something failed."""

from __future__ import annotations

import pytest
import structlog

from madhur_gql.log_config import configure_logging


@pytest.mark.parametrize("json_logs", [True, False])
def test_tracebacks_in_logs_hold_no_local_variables(
    capsys: pytest.CaptureFixture[str], json_logs: bool
) -> None:
    def login(email: str, password: str) -> None:
        raise RuntimeError("the database went away")

    secret = "-".join(["hunter2", "correct", "horse"])  # not in any source line shown
    configure_logging("INFO", json_logs=json_logs)
    try:
        try:
            login("asha@example.com", secret)
        except RuntimeError:
            structlog.get_logger("test").error("unexpected error", exc_info=True)
        logged = capsys.readouterr().err
    finally:
        configure_logging("WARNING", json_logs=False)  # as tests/conftest.py has it
    assert "the database went away" in logged and "login" in logged  # the traceback is there
    assert secret not in logged
