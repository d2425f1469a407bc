# syntax=docker/dockerfile:1
#
# The pager image. The build stage makes a virtualenv from constraints.txt
# (the same pins as a developer's machine); the final stage copies only that
# venv onto a fresh slim base and runs it as an unprivileged numeric user.
#
# Base images are pinned to an exact tag. Pin the digest too when you build
# with registry access; it could not be resolved where this file was written:
#   docker buildx imagetools inspect python:3.11.14-slim-bookworm
#   FROM python:3.11.14-slim-bookworm@sha256:<digest>
#
# No secret is baked in: tokens and Twilio credentials come from the
# environment at run time (docs/deploy.md).

FROM python:3.11.14-slim-bookworm AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
RUN python -m venv /opt/pager
COPY pyproject.toml constraints.txt README* ./
COPY pager ./pager
# pager/migrations is a symlink to ../alembic: without this the wheel (and so
# `pager migrate`, and `pager serve` on SQLite) would have no migrations.
COPY alembic ./alembic
RUN /opt/pager/bin/pip install -c constraints.txt . \
 && /opt/pager/bin/python -m compileall -q /opt/pager/lib


FROM python:3.11.14-slim-bookworm AS runtime

# A fixed UID/GID so Kubernetes' runAsUser/fsGroup (helm/pager/values.yaml)
# and volume ownership line up.
RUN groupadd --system --gid 10001 pager \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/pager \
            --shell /usr/sbin/nologin pager \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/pager \
 && install -d -m 0755 /etc/pager/policies

COPY --from=build /opt/pager /opt/pager

ENV PATH=/opt/pager/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PAGER_LISTEN=0.0.0.0:8080 \
    PAGER_POLICIES=/etc/pager/policies \
    PAGER_DATABASE_URL=sqlite+aiosqlite:////var/lib/pager/pager.db \
    PAGER_LOG_FORMAT=json

# The embedded SQLite database lives on this volume; mount the policies
# read-only at /etc/pager/policies.
VOLUME ["/var/lib/pager"]
WORKDIR /var/lib/pager
USER 10001:10001
EXPOSE 8080

# slim has no curl: ask /healthz with the standard library, on PAGER_LISTEN's port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; port = os.environ.get('PAGER_LISTEN', ':8080').rpartition(':')[2]; urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4)"]

# pager drains in-flight sends on SIGTERM.
STOPSIGNAL SIGTERM
ENTRYPOINT ["pager"]
CMD ["serve"]
