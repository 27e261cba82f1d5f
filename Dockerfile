# Multi-stage: build a wheel with its dependencies, run as a non-root user.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY madhur_gql ./madhur_gql
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# GraphiQL's assets at web/package-lock.json's versions, so the page (on with
# MADHUR_GRAPHIQL=true in production) needs no CDN. Only the packages the page loads are kept.
FROM node:20-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json web/.npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error \
    && mkdir /assets \
    && cp -r --parents node_modules/react node_modules/react-dom node_modules/js-cookie \
        node_modules/graphiql node_modules/@graphiql/plugin-explorer /assets/

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 madhur
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
WORKDIR /app
COPY fixtures ./fixtures
COPY schema.graphql ./
COPY --from=web /assets/node_modules ./web/node_modules
USER madhur
ENV MADHUR_HOST=0.0.0.0 \
    MADHUR_PORT=8000 \
    MADHUR_ENV=production \
    MADHUR_CATALOG_FILE=/app/fixtures/spotify_songs.csv.gz \
    MADHUR_GRAPHIQL_ASSETS_DIR=/app/web/node_modules
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["madhur-gql", "serve"]
