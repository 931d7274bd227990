# The Xueji application image: web (gunicorn), Celery worker and beat all run from it (docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    XUEJI_VAR_DIR=/app/var

WORKDIR /app
RUN groupadd --system xueji && useradd --system --gid xueji --home-dir /app --no-create-home xueji

# Install the package (its dependencies from pyproject.toml) before copying the code, so that a code
# change does not reinstall every dependency.
COPY pyproject.toml ./
RUN pip install .

COPY . .
# collectstatic only reads files; the throw-away key satisfies settings' "SECRET_KEY required when DEBUG=0".
RUN DEBUG=0 SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && mkdir -p /app/var/private \
    && chown -R xueji:xueji /app/var

USER xueji
EXPOSE 8000
# Workers: gunicorn reads WEB_CONCURRENCY (default 1); set it in .env (about 2 × CPU cores + 1).
CMD ["gunicorn", "xueji.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--timeout", "60"]
