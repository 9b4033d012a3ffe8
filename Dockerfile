# aimscheck as a container image: `docker build -t aimscheck .`, then
#   docker run --rm -v "$PWD:/work" aimscheck scan -c aimscheck.yaml --format text
# Stage 1 builds the wheel from this checkout; stage 2 installs it (and its dependencies,
# pinned by constraints.txt) into a venv on a slim base, and runs as a non-root user.
# tests/ci/test_container.py runs these steps in a clean venv and lints this file.
ARG PYTHON_VERSION=3.12

FROM python:${PYTHON_VERSION}-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE constraints.txt ./
COPY checker ./checker
COPY evidence_adapters ./evidence_adapters
COPY rules ./rules
RUN python -m pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

FROM python:${PYTHON_VERSION}-slim
LABEL org.opencontainers.image.title="aimscheck" \
      org.opencontainers.image.description="ISO/IEC 42001 accountability checks" \
      org.opencontainers.image.source="https://github.com/aimscheck/aimscheck" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/aimscheck/bin:$PATH
COPY --from=build /dist /dist
COPY --from=build /src/constraints.txt /dist/constraints.txt
RUN python -m venv /opt/aimscheck \
    && /opt/aimscheck/bin/python -m pip install --no-cache-dir \
       --constraint /dist/constraints.txt /dist/aimscheck-*.whl \
    && rm -rf /dist \
    && useradd --create-home --uid 10001 --user-group aimscheck
USER 10001:10001
WORKDIR /work
ENTRYPOINT ["aimscheck"]
CMD ["--help"]
