"""The settings module's promises: production-safe when DJANGO_DEBUG is off."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STRONG_SECRET = "k3Y-" + "".join(chr(33 + (i * 7) % 90) for i in range(60))


def _manage(*args, **env):
    base = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_debug_off_and_a_real_secret():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=STRONG_SECRET,
        DJANGO_ALLOWED_HOSTS="flightpath.bank.example",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_app_refuses_to_start_without_a_secret_when_not_debugging():
    result = _manage("check", DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


needs_redis = pytest.mark.skipif(
    not _redis_up(), reason="needs Redis on 127.0.0.1:6379 (CI has it)"
)


def test_redis_cache_url_gives_a_shared_redis_cache():
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])",
        DJANGO_DEBUG="1",
        REDIS_CACHE_URL="redis://127.0.0.1:6379/9",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "django.core.cache.backends.redis.RedisCache"


@needs_redis
def test_throttle_counts_are_shared_through_redis_when_configured():
    # Two processes share one count: what a gunicorn worker spent, the next one sees.
    code = (
        "from django.core.cache import cache; "
        "cache.set('fp-test-shared', cache.get('fp-test-shared', 0) + 1, 30); "
        "print(cache.get('fp-test-shared'))"
    )
    env = {"DJANGO_DEBUG": "1", "REDIS_CACHE_URL": "redis://127.0.0.1:6379/9"}
    first = _manage("shell", "-c", "from django.core.cache import cache; cache.clear()", **env)
    assert first.returncode == 0, first.stderr
    counts = [_manage("shell", "-c", code, **env).stdout.splitlines()[-1] for _ in range(2)]
    assert counts == ["1", "2"]
