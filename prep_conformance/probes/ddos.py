"""A short, bounded burst from one client (II.2.d.ddos): does anything in front start limiting the rate?

At most ``requests`` GETs, ``concurrency`` at a time, for at most ``max_s`` seconds, stopping early once
``stop_after_limited`` answers were rate limited. What is kept: status counts, the ``Retry-After``
values, challenge pages (a WAF/CDN interstitial), connection errors, and the header lines of the
first answer and of the first limited one (for CDN/WAF detection). requests + threads, with the
profile's pinning and trust (``probes.http.PinnedAdapter``).
"""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Mapping


# Markers of an interstitial challenge page or cookie (Cloudflare, Imperva, Sucuri, DDoS-Guard, AWS WAF,
# Akamai, generic CAPTCHA). Looked for in the first 64 KiB of 403/429/503 bodies and in Set-Cookie names.
CHALLENGE_BODY = re.compile(
    r"cf-chl|challenge-platform|cf_chl_opt|Just a moment\.\.\.|Attention Required! \| Cloudflare|"
    r"_Incapsula_Resource|Incapsula incident|sucuri_cloudproxy|Sucuri WebSite Firewall|ddos-guard|"
    r"aws-waf-token|AwsWafIntegration|Reference&#32;&#35;|g-recaptcha|h-captcha|hcaptcha\.com|captcha", re.I)
CHALLENGE_COOKIES = ("cf_clearance", "__cf_chl", "incap_ses", "visid_incap", "sucuri_cloudproxy", "__ddg",
                     "aws-waf-token", "ak_bmsc", "bm_sz")


@dataclass(frozen=True)
class BurstObservation:
    """What a bounded burst from one client met.

    Attributes:
        url: what was requested; ``planned`` requests, ``sent`` of them actually sent in ``elapsed_s``.
        statuses: status code (as text) -> count; ``errors``: connection error kind -> count.
        retry_after: distinct ``Retry-After`` values seen on 429/503 answers.
        limited: answers that were 429, or 503 with ``Retry-After``, or a challenge.
        first_limited_at: how many requests had been answered when the first limit came (None: never).
        challenges: markers of a challenge page/cookie found.
        first_headers, limited_headers: header lines of the first answer and of the first limited one.
        stopped_early: the burst stopped because rate limiting was already clear.
        unhinted_5xx: 5xx answers without ``Retry-After`` (overload, or a limit that gives no retry hint).
    """

    url: str
    planned: int
    sent: int
    elapsed_s: float
    statuses: Mapping[str, int]
    errors: Mapping[str, int] = field(default_factory=dict)
    retry_after: tuple[str, ...] = ()
    limited: int = 0
    first_limited_at: int | None = None
    challenges: tuple[str, ...] = ()
    first_headers: tuple[tuple[str, str], ...] = ()
    limited_headers: tuple[tuple[str, str], ...] = ()
    stopped_early: bool = False
    concurrency: int = 0
    unhinted_5xx: int = 0
    recovered_after_s: float | None = None

    @property
    def answered(self) -> int:
        return sum(self.statuses.values())

    def to_evidence(self) -> dict:
        return {"url": self.url, "planned": self.planned, "sent": self.sent, "answered": self.answered,
                "concurrency": self.concurrency, "elapsed_s": round(self.elapsed_s, 3),
                "statuses": dict(self.statuses), "errors": dict(self.errors), "limited": self.limited,
                "first_limited_at": self.first_limited_at, "retry_after": list(self.retry_after),
                "challenges": list(self.challenges), "stopped_early": self.stopped_early,
                "unhinted_5xx": self.unhinted_5xx, "recovered_after_s": self.recovered_after_s,
                "limited_headers": [f"{k}: {v}" for k, v in self.limited_headers
                                    if k.lower() not in ("set-cookie", "cookie", "authorization")]}


def retry_after_s(obs: BurstObservation, cap_s: float = 10.0) -> float:
    """The longest ``Retry-After`` (in seconds) the site asked for, capped: how long to keep away."""
    secs = [float(v) for v in obs.retry_after if v.strip().isdigit()]
    return min(cap_s, max(secs)) if secs else 0.0


def challenge_markers(status: int, headers: Mapping[str, str] | list[tuple[str, str]], body: bytes) -> list[str]:
    """Signs of a challenge (not a plain error page) in one answer. Pure."""
    found: list[str] = []
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    for k, v in pairs:
        if k.lower() == "set-cookie":
            name = v.split("=", 1)[0].strip().lower()
            if any(name.startswith(c) for c in CHALLENGE_COOKIES):
                found.append(f"cookie {name}")
        if k.lower() == "cf-mitigated" and "challenge" in v.lower():
            found.append("cf-mitigated: challenge")
    if status in (403, 429, 503):
        m = CHALLENGE_BODY.search(body[:65536].decode("utf-8", "replace"))
        if m:
            found.append(f"body: {m.group(0)[:40]}")
    return found


def burst(url: str, *, requests_n: int, concurrency: int, max_s: float, stop_after_limited: int,
          resolve: Mapping[str, str], ca_bundle: str | None, timeout_s: float) -> BurstObservation:
    """Send the burst and observe. Bounded in count, concurrency and time; every request has a timeout."""
    import requests

    from . import http as seam

    lock = threading.Lock()
    state = {"next": 0, "answered": 0, "limited": 0, "first_limited_at": None, "stop": False, "unhinted": 0}
    statuses: dict[str, int] = {}
    errors: dict[str, int] = {}
    retry_after: list[str] = []
    challenges: list[str] = []
    first_headers: list[tuple[str, str]] = []
    limited_headers: list[tuple[str, str]] = []
    deadline = time.monotonic() + max_s
    local = threading.local()

    def session():
        s = getattr(local, "s", None)
        if s is None:
            # the seam's session: pinned, bounded (deadline and size cap); TLS not verified: trust is
            # II.2.d.https's verdict, and a bad certificate must not hide rate limiting
            s = seam.session(resolve, ca_bundle, 2, verify=False)
            s.headers["Accept"] = "text/html,*/*"
            local.s = s
        return s

    def worker():
        while True:
            with lock:
                if state["stop"] or state["next"] >= requests_n or time.monotonic() >= deadline:
                    return
                state["next"] += 1
            try:
                r = session().get(url, timeout=(min(3.0, timeout_s), timeout_s), allow_redirects=False, stream=True)
                body = r.content[:65536] if r.status_code in (403, 429, 503) else b""
                r.close()
                hdrs = list(r.headers.items())
                marks = challenge_markers(r.status_code, hdrs, body)
                ra = r.headers.get("Retry-After")
                is_limited = r.status_code == 429 or (r.status_code == 503 and ra is not None) or bool(marks)
                with lock:
                    statuses[str(r.status_code)] = statuses.get(str(r.status_code), 0) + 1
                    state["answered"] += 1
                    if r.status_code >= 500 and ra is None:
                        state["unhinted"] += 1
                    if not first_headers:
                        first_headers.extend(hdrs)
                    if ra is not None and ra not in retry_after and len(retry_after) < 10:
                        retry_after.append(ra)
                    for m in marks:
                        if m not in challenges and len(challenges) < 10:
                            challenges.append(m)
                    if is_limited:
                        state["limited"] += 1
                        if state["first_limited_at"] is None:
                            state["first_limited_at"] = state["answered"]
                            limited_headers.extend(hdrs)
                        if state["limited"] >= stop_after_limited:
                            state["stop"] = True
            except requests.RequestException as exc:
                kind = type(exc).__name__
                with lock:
                    errors[kind] = errors.get(kind, 0) + 1

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="burst") as pool:
        for _ in range(concurrency):
            pool.submit(worker)
    elapsed = time.perf_counter() - t0
    return BurstObservation(url, requests_n, state["next"], elapsed, statuses, errors, tuple(retry_after),
                            state["limited"], state["first_limited_at"], tuple(challenges), tuple(first_headers),
                            tuple(limited_headers), bool(state["stop"]), concurrency, state["unhinted"])
