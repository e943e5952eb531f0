# Image for every ichsilent service in docker-compose.yml (Airflow components, workers,
# dashboard). GPU workers get CUDA through the NVIDIA container runtime; torch is pinned
# through constraints.txt (swap in a CUDA wheel index for GPU images at build time).
FROM python:3.11-slim-bookworm
ARG TORCH_INDEX_URL=""
RUN apt-get update && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/ichsilent
COPY pyproject.toml constraints.txt README.md ./
COPY src ./src
RUN pip install --no-cache-dir ${TORCH_INDEX_URL:+--index-url $TORCH_INDEX_URL} torch==2.13.0 \
    && pip install --no-cache-dir -c constraints.txt ".[airflow,dashboard,report]"
COPY dags ./dags
COPY plugins ./plugins
COPY dashboards ./dashboards
COPY sql ./sql
COPY config ./config
COPY models ./models
RUN useradd --create-home --uid 50000 ichsilent && chown -R ichsilent /opt/ichsilent
USER ichsilent
ENV AIRFLOW_HOME=/opt/airflow ICHSILENT_HOME=/opt/ichsilent/var
