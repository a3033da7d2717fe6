"""Container health checks for docker-compose (see docker-compose.yml).

    python scripts/healthcheck.py web    # GET /login/ answers 200 through the full Django stack
    python scripts/healthcheck.py deps   # the database and the Celery broker answer (beat)

Exit code 0 means healthy. Standard library plus what the image already has.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def check_web() -> int:
    port = os.environ.get("PORT", "8000")
    # Ask with a host Django accepts and as the TLS-terminating proxy would, so that
    # ALLOWED_HOSTS and SECURE_SSL_REDIRECT see an ordinary production request.
    hosts = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h.strip()]
    host = hosts[0].lstrip(".") if hosts and hosts[0] != "*" else "localhost"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/login/",
        headers={"Host": host, "X-Forwarded-Proto": "https"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError as error:
        print(f"web: {error}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"web: GET /login/ answered {status}", file=sys.stderr)
        return 1
    return 0


def check_deps() -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesmgmt.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from kombu import Connection

    try:
        connection.ensure_connection()
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=5) as broker:
            broker.ensure_connection(max_retries=1)
    except Exception as error:  # report any failure as unhealthy, with its reason
        print(f"deps: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    checks = {"web": check_web, "deps": check_deps}
    if len(sys.argv) != 2 or sys.argv[1] not in checks:
        print(f"usage: {sys.argv[0]} {{{'|'.join(checks)}}}", file=sys.stderr)
        return 2
    return checks[sys.argv[1]]()


if __name__ == "__main__":
    sys.exit(main())
