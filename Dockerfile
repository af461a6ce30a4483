# One image for every SlotWise process role; docker-compose.yml picks the command.
# Checked with hadolint (tests/contract/test_dockerfile.py).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY domain ./domain
COPY commands ./commands
COPY projections ./projections
COPY read_api ./read_api
COPY write_api ./write_api
COPY infra ./infra
# Every extra a role of docker-compose.yml needs: PostgreSQL, Kafka, Redis, and
# Stripe for the payment worker and the webhook. Nothing of SlotWise's needs root.
RUN pip install --no-cache-dir './[postgres,kafka,redis,stripe]' \
    && useradd --system --uid 10001 slotwise
USER 10001

ENTRYPOINT ["slotwise"]
CMD ["--help"]
