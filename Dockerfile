FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY api ./api
COPY domain ./domain
COPY workers ./workers
RUN pip install . \
    && useradd --system --uid 1000 --home-dir /app goals
USER goals

EXPOSE 8000
CMD ["goals", "serve", "--host", "0.0.0.0", "--port", "8000"]
