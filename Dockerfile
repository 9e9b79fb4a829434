# The Kadenz application image: the same image runs `kadenz init` (migrations), workers,
# beat and the API (see docker-compose.yml and docs/operations.md).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    KADENZ_HOME=/var/lib/kadenz

WORKDIR /app
COPY pyproject.toml setup.py MANIFEST.in README.md ./
COPY engine ./engine
COPY workers ./workers
COPY sequences ./sequences
COPY templates ./templates
RUN pip install . \
    && useradd --system --create-home --home-dir /var/lib/kadenz kadenz

# Never root: Celery refuses to be root with good reason, and so does everything else here.
USER kadenz
WORKDIR /var/lib/kadenz
EXPOSE 8025
CMD ["kadenz", "--help"]
