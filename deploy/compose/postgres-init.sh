#!/usr/bin/env bash
# One role and one database per service, so that no service can read another's tables.
#
# Run once by the postgres image on an empty data directory (/docker-entrypoint-initdb.d/).
# PORTAIL_DATABASES lists the names; NAME_DB_PASSWORD (upper case) holds each role's password.
# Safe to run again: existing roles and databases are left as they are.
# Connection: psql's usual PG* variables (the image's entrypoint provides a local socket).
set -euo pipefail

: "${PORTAIL_DATABASES:?PORTAIL_DATABASES must list the service databases}"

for name in ${PORTAIL_DATABASES}; do
    password_var="${name^^}_DB_PASSWORD"
    password="${!password_var:-}"
    if [[ -z "${password}" ]]; then
        echo "postgres-init: ${password_var} is not set" >&2
        exit 1
    fi
    # psql variables (:'x' literal, :"x" identifier) quote the values: no SQL injection
    # through a password or a name.
    psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet \
        --set=name="${name}" --set=password="${password}" \
        --dbname="${POSTGRES_DB:-postgres}" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'name', :'password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'name')
\gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'name', :'name')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name')
\gexec
-- Only the owner (the service's role) may connect; other services' roles may not.
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
    echo "postgres-init: database ${name} ready"
done
