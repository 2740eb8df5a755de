"""Client-side rate limits and adaptive concurrency for a server backend.

Requests per minute and tokens per minute are token buckets scheduled ahead (GCRA, "virtual scheduling"): each
request reserves its share and is told how long to wait, so concurrent requests are paced evenly instead of
bursting and colliding. Tokens are estimated before a request (prompt characters / 4 + max_tokens, which is how
OpenAI counts a request against its limit) and corrected from the answer's `usage`. A server's own
`x-ratelimit-limit-*` headers set a limit the user did not, and `x-ratelimit-remaining-* = 0` pauses sending
until `x-ratelimit-reset-*`; a header that does not parse is reported once and ignored.

Without a configured limit the client adapts (AIMD, as TCP does, because it needs no model of the server and is
stable with many clients sharing one). A 429 caps the request rate at 90 % of the rate the server was seen to
accept over the last seconds (or, before that is measurable, at half the rate it sent); only a 429 for a request
booked after the last decrease counts, so a burst of them is one signal. While requests wait for the cap and no
429 comes, it grows 2 % a second, doubling every 5 s; a cap that stops binding is dropped, and it never goes under
half the best rate accepted, so a server that bounces a share of requests whatever the rate cannot drive it down
without end. A 503, a timeout, or a median latency over 2.5x the best seen (twice in a row, so a heavy-tailed
server does not trip it) halves the concurrency window, which then grows by one per window of successes back to
`concurrency`. Rate and window are separate because a rate limit is not cured by fewer connections, and an
overloaded server is not cured by a slower trickle of them.
"""

from __future__ import annotations

import re
import statistics
import time
from collections import deque
from collections.abc import Callable, Mapping

DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
DECREASE_RATE = 0.9  # the rate cap after a 429, as a share of the accepted rate
GROW_RATE = 0.02  # per second without a 429, doubling every 5 s without one
MAX_GROW_RATE = 0.5
MIN_SUCCESSES = 5  # answers before a rate is measured
MIN_RATE = 0.1  # requests per second: the lowest cap
HORIZON = 1.0  # seconds ahead a request may book its turn
FLOOR_SHARE = 0.5  # the cap never goes under this share of the best accepted rate
LATENCY_SAMPLES = 64  # completions per latency check
LATENCY_RISE = 2.5  # median over the best median seen: the server is queueing


def parse_duration(text: str) -> float:
    """OpenAI's reset durations ('1s', '6m0s', '20ms', '1h2m3.5s') or plain seconds, in seconds."""
    text = text.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    parts = DURATION.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise ValueError(text)
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    return sum(float(number) * scale[unit] for number, unit in parts)


class Bucket:
    """A per-minute limit paced per second: `reserve(amount)` books it and says how long to wait first."""

    def __init__(self, per_minute: float, learned: bool = False) -> None:
        self.learned = learned  # from the server's headers, not the user's config
        self.set(per_minute)
        self.free_at = time.monotonic()  # when every unit booked so far is spent (GCRA's theoretical arrival time)

    def set(self, per_minute: float) -> None:
        self.per_minute = per_minute
        self.rate = per_minute / 60.0  # units per second
        self.burst = 1.0  # seconds of budget that may be spent at once

    def wait(self, amount: float, now: float) -> float:
        """How long a request of `amount` would wait if booked now (0 when the bucket is idle, whatever the
        amount: one request larger than a second's budget still goes)."""
        if self.free_at <= now:
            return 0.0
        return max(0.0, self.free_at + amount / self.rate - now - self.burst)

    def book(self, amount: float, now: float) -> None:
        self.free_at = max(self.free_at, now) + amount / self.rate  # the time all booked units are spent

    def refund(self, amount: float) -> None:
        self.free_at -= amount / self.rate

    def pause_until(self, when: float) -> None:
        self.free_at = max(self.free_at, when + self.burst)


class Limits:
    def __init__(
        self,
        concurrency: int,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        adaptive: bool = True,
        warn: Callable[[str], None] = print,
    ) -> None:
        self.concurrency = concurrency
        self.requests = Bucket(requests_per_minute) if requests_per_minute else None
        self.tokens = Bucket(tokens_per_minute) if tokens_per_minute else None
        self.adaptive = adaptive and not (requests_per_minute or tokens_per_minute)
        self.warn = warn
        self.warned: set[str] = set()
        self.current = float(concurrency)  # the adaptive window
        self.rate_cap: Bucket | None = None  # learned from 429s
        self.successes: deque[float] = deque()  # times of recent successes (the accepted rate)
        self.started: float | None = None  # the first request
        self.sends: deque[float] = deque()  # times of recent requests (the send rate)
        self.best_accepted = 0.0  # the highest accepted rate measured (requests/s)
        self.last_decrease = 0.0
        self.last_grow = time.monotonic()
        self.latencies: list[float] = []
        self.best_median = float("inf")
        self.high_checks = 0
        self.throttled = 0  # 429s seen
        self.overloaded = 0  # 503s and timeouts seen

    def window(self) -> int:
        return max(1, int(self.current))

    def reserve(self, tokens: int) -> float | None:
        """Book one request of about `tokens` tokens: the seconds to wait before sending it, or None when its turn
        is more than HORIZON away (ask again after a while: a request never holds a place far ahead, so a changed
        limit applies to every request not yet sent)."""
        now = time.monotonic()
        self.started = self.started or now
        buckets = [(b, a) for b, a in ((self.requests, 1.0), (self.rate_cap, 1.0), (self.tokens, float(tokens))) if b]
        wait = max((bucket.wait(amount, now) for bucket, amount in buckets), default=0.0)
        if wait > HORIZON:
            return None
        for bucket, amount in buckets:
            bucket.book(amount, now)
        if self.adaptive:
            self.sends.append(now)
            while self.sends[0] < now - 10.0:
                self.sends.popleft()
        return wait

    def settle(self, estimated: int, used: int | None) -> None:
        """The answer's usage is known: give back (or take) the difference from the estimate."""
        if self.tokens is not None and used is not None:
            self.tokens.refund(estimated - used)

    def success(self, latency: float, headers: Mapping[str, str]) -> None:
        now = time.monotonic()
        self.read_headers(headers, now)
        if not self.adaptive:
            return
        self.successes.append(now)
        while self.successes and self.successes[0] < now - 10.0:
            self.successes.popleft()
        if self.current < self.concurrency:
            self.current = min(float(self.concurrency), self.current + 1.0 / self.current)
        if self.rate_cap is not None and now - self.last_grow >= 1.0:
            self.grow_rate(now)
        self.latencies.append(latency)
        if len(self.latencies) >= LATENCY_SAMPLES:
            self.check_latency(now)

    def grow_rate(self, now: float) -> None:
        """While requests wait for the cap and no 429 comes, raise it: 2 % a second, doubling every 5 s without a
        429 (so an estimate made too low recovers in seconds, and a right one is probed gently)."""
        cap = self.rate_cap
        assert cap is not None
        quiet = now - self.last_decrease
        accepted = self.accepted_rate(now) or 0.0
        if cap.free_at <= now or accepted < 0.8 * cap.rate:  # demand is below the cap (or not yet served at it)
            if quiet > 30.0 and cap.free_at <= now:
                self.rate_cap = None  # the cap no longer binds: the server's limit is elsewhere
            self.last_grow = now
            return
        growth = min(MAX_GROW_RATE, GROW_RATE * 2 ** int(quiet / 5.0))
        cap.set(cap.per_minute * (1 + growth) ** (now - self.last_grow))
        self.last_grow = now

    def check_latency(self, now: float) -> None:
        median = statistics.median(self.latencies)
        self.latencies.clear()
        if median > LATENCY_RISE * self.best_median:
            self.high_checks += 1
            if self.high_checks >= 2:
                self.shrink(now)
                self.high_checks = 0
        else:
            self.high_checks = 0
        self.best_median = min(self.best_median, median)

    def throttle(self, headers: Mapping[str, str], sent_at: float) -> None:
        """A 429 for a request booked at `sent_at`: pace requests under what the server accepts. As TCP reacts
        once per loss of a packet sent after its last decrease, a 429 for a request booked before the last
        decrease says nothing new and changes nothing."""
        now = time.monotonic()
        self.throttled += 1
        self.read_headers(headers, now)
        if not self.adaptive or sent_at < self.last_decrease:
            return
        self.last_decrease = self.last_grow = now
        accepted = self.accepted_rate(now)  # what the server let through; before it is measurable, half what
        target = DECREASE_RATE * accepted if accepted else 0.5 * self.send_rate(now)  # was sent is the guess
        # Never under half the best rate the server has accepted: a server that bounces a share of requests
        # whatever the rate would otherwise drive the cap down without end.
        target = max(target, FLOOR_SHARE * self.best_accepted)
        if self.rate_cap is None:
            self.rate_cap = Bucket(60.0 * max(target, MIN_RATE))
            self.rate_cap.free_at = now + self.rate_cap.burst  # paced from now on, no burst first
        else:
            self.rate_cap.set(60.0 * max(MIN_RATE, min(target, self.rate_cap.rate)))

    def accepted_rate(self, now: float) -> float | None:
        """Successes per second over the last 10 s; None before a second and MIN_SUCCESSES successes have been
        seen (a start-up burst is not a rate)."""
        span = min(10.0, now - (self.started or now))
        count = sum(1 for t in self.successes if t >= now - span)
        if span < 1.0 or count < MIN_SUCCESSES:
            return None
        self.best_accepted = max(self.best_accepted, count / span)
        return count / span

    def send_rate(self, now: float) -> float:
        """Requests booked per second over the last 10 s (at least over one second)."""
        span = max(1.0, min(10.0, now - (self.started or now)))
        return sum(1 for t in self.sends if t >= now - span) / span

    def overload(self) -> None:
        """A 503 or a timeout: fewer requests at once."""
        self.overloaded += 1
        if self.adaptive:
            self.shrink(time.monotonic())

    def shrink(self, now: float) -> None:
        """Halve the window, at most once a second."""
        if now - self.last_decrease >= 1.0:
            self.current = max(1.0, self.current / 2)
            self.last_decrease = now

    def read_headers(self, headers: Mapping[str, str], now: float) -> None:
        """x-ratelimit-limit/remaining/reset-{requests,tokens}: learn a limit, pause when none remains."""
        for kind in ("requests", "tokens"):
            limit = headers.get(f"x-ratelimit-limit-{kind}")
            remaining = headers.get(f"x-ratelimit-remaining-{kind}")
            if limit is None and remaining is None:
                continue
            try:
                per_minute = float(limit) if limit is not None else None
                left = float(remaining) if remaining is not None else None
                reset = headers.get(f"x-ratelimit-reset-{kind}")
                wait = parse_duration(reset) if reset is not None else None
            except ValueError:
                self.unparsed(kind, headers)
                continue
            bucket = self.bucket(kind, per_minute)
            if bucket is not None and left is not None and left < 1 and wait is not None:
                bucket.pause_until(now + wait)

    def bucket(self, kind: str, per_minute: float | None) -> Bucket | None:
        bucket = self.requests if kind == "requests" else self.tokens
        if per_minute is None or per_minute <= 0:
            return bucket
        if bucket is None:
            bucket = Bucket(per_minute, learned=True)
            self.adaptive = False  # the server says its limit: no need to guess it
            self.rate_cap = None
            self.current = float(self.concurrency)
            if kind == "requests":
                self.requests = bucket
            else:
                self.tokens = bucket
        elif bucket.learned and bucket.per_minute != per_minute:
            bucket.set(per_minute)
        return bucket

    def unparsed(self, kind: str, headers: Mapping[str, str]) -> None:
        if kind in self.warned:
            return
        self.warned.add(kind)
        values = {k: v for k, v in headers.items() if k.lower().startswith("x-ratelimit-") and kind in k.lower()}
        self.warn(f"openai: rate-limit headers {values} do not parse; they are ignored (backing off on 429s instead)")
