# The hub's image: web (the default command), workers and the scheduler run from it.
#   docker build -t storefront-hub .
#   docker compose up            (compose.yaml: PostgreSQL, Redis, web, workers, scheduler)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --system --create-home --home-dir /srv/hub --shell /usr/sbin/nologin hub \
    && mkdir -p /tmp/hub-metrics && chown hub:hub /tmp/hub-metrics

WORKDIR /opt/hub/src
COPY pyproject.toml README.md gunicorn.conf.py ./
COPY hub ./hub
COPY webhooks ./webhooks
COPY connectors ./connectors
COPY plugins ./plugins
RUN python -m venv /opt/hub/venv \
    && /opt/hub/venv/bin/pip install ".[server]"

# Every process of the image (web, workers, scheduler, migrate) keeps its metrics in the
# folder made above: prometheus-client's multiprocess mode needs it to exist.
ENV PATH=/opt/hub/venv/bin:$PATH \
    HUB_INSTANCE_PATH=/srv/hub/instance \
    HUB_LOG_FORMAT=json \
    PROMETHEUS_MULTIPROC_DIR=/tmp/hub-metrics

USER hub
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["gunicorn", "-c", "/opt/hub/src/gunicorn.conf.py", "hub.wsgi:app"]
