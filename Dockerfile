# syntax=docker/dockerfile:1
# Flightpath's production image: one image for web (gunicorn), worker and beat (celery).
# node/npm live only in the first stage; the runtime image has Python and the app.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# 1. Front-end packages, exactly as package-lock.json pins them.
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

# 2. Python packages (pinned by constraints.txt), vendored assets, collectstatic.
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
# Dependencies first, so that a code change does not reinstall them.
COPY pyproject.toml constraints.txt README.md ./
RUN pip install -c constraints.txt .
COPY . .
COPY --from=assets /src/node_modules ./node_modules
# A throwaway key only for this build step; the running container brings its own.
RUN python scripts/vendor_assets.py \
    && DJANGO_DEBUG=0 DJANGO_SECRET_KEY=build-only-not-a-secret \
       python manage.py collectstatic --noinput \
    && rm -rf node_modules

# 3. Runtime: no compilers, no node, an unprivileged user.
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=salesmgmt.settings \
    DJANGO_DEBUG=0 \
    PORT=8000 \
    GUNICORN_CMD_ARGS="--bind=0.0.0.0:8000 --workers=3 --timeout=60 --access-logfile=- --forwarded-allow-ips=*"
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin flightpath
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
USER flightpath
EXPOSE 8000
CMD ["gunicorn", "salesmgmt.wsgi"]
