# One image for every SlotWise process role; docker-compose.yml picks the command.
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
RUN pip install '.[postgres,kafka,redis]'

# Nothing of SlotWise's needs root.
RUN useradd --system --uid 10001 slotwise
USER slotwise

ENTRYPOINT ["slotwise"]
CMD ["--help"]
