"""One retry policy for every external call: exponential backoff with full jitter.

Only transient failures are retried (429, 5xx, timeouts, resets). Built on tenacity so the
policy is a value that tests can shrink, not a hand-written loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from mlc_assets.errors import ApiError, OutcomeUnknownError

log = logging.getLogger(__name__)
T = TypeVar("T")

TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
# Answers that prove a request was not processed (throttled, or a gateway that never reached
# the application): a write failing with one of them may be sent again as it is.
NOT_PROCESSED_STATUS = frozenset({429, 502, 503, 504})


def is_transient(exc: BaseException) -> bool:
    """Whether a failure is worth another attempt."""
    if isinstance(exc, ApiError):
        return exc.transient
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code in TRANSIENT_STATUS
    # Timeouts, resets, refused connections, truncated bodies.
    return isinstance(exc, httpx.TransportError)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. Defaults suit production; tests pass a fast one."""

    attempts: int = 8
    initial_wait: float = 1.0
    max_wait: float = 60.0
    max_total: float = 600.0

    def retrying(self, *, on_retry: Callable[[RetryCallState], None] | None = None) -> Retrying:
        return Retrying(
            retry=retry_if_exception(is_transient),
            wait=wait_random_exponential(multiplier=self.initial_wait, max=self.max_wait),
            stop=stop_after_attempt(self.attempts) | stop_after_delay(self.max_total),
            reraise=True,
            before_sleep=on_retry or _log_retry,
        )

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` under this policy."""
        return self.retrying()(fn)

    def write_retrying(self) -> Retrying:
        """For writes: retry only failures that prove the request was not processed; a write
        that may have landed (``OutcomeUnknownError``) goes up to the exactly-once poster."""

        def retry_write(exc: BaseException) -> bool:
            return is_transient(exc) and not isinstance(exc, OutcomeUnknownError)

        return Retrying(
            retry=retry_if_exception(retry_write),
            wait=wait_random_exponential(multiplier=self.initial_wait, max=self.max_wait),
            stop=stop_after_attempt(self.attempts) | stop_after_delay(self.max_total),
            reraise=True,
            before_sleep=_log_retry,
        )


FAST_TEST_POLICY = RetryPolicy(attempts=8, initial_wait=0.01, max_wait=0.2, max_total=30.0)


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    # The exception text is ours (ApiError) or httpx's; neither carries credentials.
    log.warning(
        "transient failure, retry %d: %s: %s",
        state.attempt_number,
        type(exc).__name__,
        exc,
    )
