# Multi-stage: build a wheel with its dependencies, run as a non-root user. GraphiQL's and the
# dashboard's browser assets are package data, so no Node stage is needed.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY madhur_gql ./madhur_gql
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 madhur
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
WORKDIR /app
COPY fixtures ./fixtures
COPY schema.graphql trusted-documents.json ./
USER madhur
ENV MADHUR_HOST=0.0.0.0 \
    MADHUR_PORT=8000 \
    MADHUR_ENV=production \
    MADHUR_CATALOG_FILE=/app/fixtures/spotify_songs.csv.gz
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["madhur-gql", "serve"]
