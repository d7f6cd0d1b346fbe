"""Per-client limits on public forms (sign-up, resending a link, password reset).

A fixed-window counter in Django's cache: `ratelimit_hit(scope=…, key=…)` counts one
attempt and raises `RateLimited` once the limit of `settings.RATE_LIMITS[scope]` is passed.
"""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest

from ville.core.errors import RateLimited

# Used when a scope is missing from settings.RATE_LIMITS: (attempts, window in seconds).
DEFAULT_LIMIT = (10, 3600)


def client_key(request: HttpRequest | None) -> str:
    """The address the limit applies to. Behind a proxy, Django must be told to trust
    X-Forwarded-For (the proxy rewrites REMOTE_ADDR); we never read the header here."""
    if request is None:
        return "unknown"
    return request.META.get("REMOTE_ADDR") or "unknown"


def _cache_key(scope: str, key: str, window: int, now: float) -> str:
    # Hashed so that an address or an e-mail never appears in a cache dump.
    digest = hashlib.sha256(f"{scope}\0{key}".encode()).hexdigest()[:32]
    return f"ratelimit:{scope}:{digest}:{int(now // window)}"


def ratelimit_hit(*, scope: str, key: str) -> None:
    """Count one attempt of `key` in `scope`; raise RateLimited when over the limit.

    The counter lives in the cache named by `settings.RATELIMIT_CACHE`. With the default
    local-memory cache each process counts on its own, so N web processes allow up to N
    times the limit; point RATELIMIT_CACHE at a shared backend (database, Redis) in
    production to make the limit global.
    """
    limit, window = getattr(settings, "RATE_LIMITS", {}).get(scope, DEFAULT_LIMIT)
    cache = caches[getattr(settings, "RATELIMIT_CACHE", "default")]
    cache_key = _cache_key(scope, key, window, time.time())
    # add() is atomic on every backend: the first hit of the window creates the counter.
    if cache.add(cache_key, 1, timeout=window + 1):
        count = 1
    else:
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add() and incr()
            cache.set(cache_key, 1, timeout=window + 1)
            count = 1
    if count > limit:
        raise RateLimited()


def ratelimit_reset(*, scope: str, key: str) -> None:
    """Forget the current window of `key` (used by tests and after a success)."""
    window = getattr(settings, "RATE_LIMITS", {}).get(scope, DEFAULT_LIMIT)[1]
    caches[getattr(settings, "RATELIMIT_CACHE", "default")].delete(
        _cache_key(scope, key, window, time.time())
    )
