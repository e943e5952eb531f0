#!/bin/bash
# Creates the ichsilent database and role beside Airflow's metadata database (compose only).
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" <<SQL
CREATE ROLE ichsilent LOGIN PASSWORD '${POSTGRES_PASSWORD}';
CREATE DATABASE ichsilent OWNER ichsilent;
SQL
