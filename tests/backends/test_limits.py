"""Client-side limits: pacing under a per-minute limit, the token estimate corrected from usage, a server's
x-ratelimit headers (learned, honoured, or reported once when they do not parse), and the adaptive window."""

from __future__ import annotations

import itertools
import time

import pytest

from synthloop.backends.limits import Limits, parse_duration


def test_reset_durations_parse_as_openai_writes_them() -> None:
    assert parse_duration("1s") == 1.0 and parse_duration("6m0s") == 360.0 and parse_duration("20ms") == 0.02
    assert parse_duration("1h2m3.5s") == 3723.5 and parse_duration("0.25") == 0.25
    for bad in ("soon", "1x", "", "1s2"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_requests_are_paced_evenly_under_the_limit() -> None:
    limits = Limits(concurrency=100, requests_per_minute=600)  # 10 per second, a burst of one second's worth
    waits = [limits.reserve(10) for _ in range(21)]
    assert waits[:10] == [0.0] * 10  # the burst
    assert waits[10] == pytest.approx(0.1, abs=0.01) and waits[19] == pytest.approx(1.0, abs=0.01)
    assert all(b - a == pytest.approx(0.1, abs=1e-3) for a, b in itertools.pairwise(waits[10:20]))  # type: ignore[operator]
    assert waits[20] is None  # more than a second ahead: it asks again later rather than holding a place


def test_tokens_are_booked_at_the_estimate_and_corrected_from_usage() -> None:
    limits = Limits(concurrency=10, tokens_per_minute=6000)  # 100 tokens per second
    assert limits.reserve(100) == 0.0
    assert limits.reserve(100) == pytest.approx(1.0, abs=0.01)  # the second estimate waits a second
    limits.settle(estimated=100, used=20)  # the first used only 20: 80 come back
    assert limits.reserve(50) == pytest.approx(0.7, abs=0.02)


def test_a_servers_headers_set_the_limit_and_pause_when_none_remains() -> None:
    limits = Limits(concurrency=64)
    assert limits.adaptive and limits.requests is None
    limits.success(
        0.1,
        {
            "x-ratelimit-limit-requests": "600",
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": "2s",
        },
    )
    assert not limits.adaptive and limits.requests is not None and limits.requests.per_minute == 600
    assert limits.reserve(1) is None  # nothing remains until the reset, two seconds away
    assert limits.requests.free_at - time.monotonic() == pytest.approx(3.0, abs=0.05)


def test_headers_that_do_not_parse_are_reported_once_and_ignored() -> None:
    said: list[str] = []
    limits = Limits(concurrency=8, warn=said.append)
    for _ in range(3):
        limits.success(0.1, {"x-ratelimit-limit-requests": "lots", "x-ratelimit-remaining-requests": "1"})
    assert len(said) == 1 and "\n" not in said[0] and "lots" in said[0] and limits.adaptive


def test_adaptive_rate_cap_follows_what_the_server_accepted() -> None:
    limits = Limits(concurrency=64)
    start = time.monotonic()
    limits.started = start - 9.0
    limits.successes.extend(start - 9.0 + i * 0.1 for i in range(90))  # 10 per second accepted over 9 s
    limits.throttle({}, sent_at=start)
    assert limits.rate_cap is not None and limits.rate_cap.rate == pytest.approx(9.0, rel=0.05)
    limits.throttle({}, sent_at=start)  # sent before that decrease: the same signal, nothing changes
    assert limits.rate_cap.rate == pytest.approx(9.0, rel=0.05) and limits.throttled == 2


def test_before_any_answer_a_429_halves_the_rate_that_was_sent() -> None:
    limits = Limits(concurrency=64)
    for _ in range(64):
        limits.reserve(10)  # a start-up burst of 64, all within the first second
    limits.throttle({}, sent_at=time.monotonic())
    assert limits.rate_cap is not None and limits.rate_cap.rate == pytest.approx(32.0)
    assert (limits.reserve(10) or 0.0) > 0  # paced from now on: no second burst


def test_overload_halves_the_window_and_successes_grow_it_back() -> None:
    limits = Limits(concurrency=64)
    limits.overload()
    assert limits.window() == 32
    for _ in range(32 * 60):
        limits.success(0.1, {})
    assert limits.window() == 64
    fixed = Limits(concurrency=64, requests_per_minute=600)  # a configured limit: no adapting
    fixed.overload()
    assert fixed.window() == 64


def test_a_server_that_bounces_a_share_of_requests_cannot_drive_the_cap_down_without_end() -> None:
    limits = Limits(concurrency=64)
    now = time.monotonic()
    limits.started = now - 10.0
    limits.successes.extend(now - 10.0 + i * 0.05 for i in range(200))  # 20 per second accepted
    for step in range(50):  # a 429 after every decrease, whatever the rate
        limits.throttle({}, sent_at=time.monotonic())
        limits.last_decrease -= 1.0  # (each one fresh)
        assert limits.rate_cap is not None and limits.rate_cap.rate >= 0.5 * 20.0 - 1e-9, step
