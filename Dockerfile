# One image for every service; SERVICE picks which one runs. Dev/test extras (SecantusDB, GPL beta) stay out.
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY gateway ./gateway
COPY user_service ./user_service
COPY expense_service ./expense_service
COPY budget_service ./budget_service
COPY analytics_service ./analytics_service
COPY notification_service ./notification_service
COPY invoice_service ./invoice_service
RUN pip install . && useradd --system --uid 10001 app
COPY docker/entrypoint.sh /entrypoint.sh
USER app
ENV ENVIRONMENT=production HOST=0.0.0.0
ENTRYPOINT ["/entrypoint.sh"]
