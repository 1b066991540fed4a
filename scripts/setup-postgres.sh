#!/usr/bin/env bash
# Starts the local PostgreSQL cluster and gives the store tests a role and database:
# role `hafence` (may create databases: each test run creates and drops its own),
# database `hafence_test`. The connection URL, with a password generated once, goes to
# .hafence-test/pg-url (mode 600, git-ignored); tests read it, or HAFENCE_PG_URL when set.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
url_file="$root/.hafence-test/pg-url"

if [ -n "${HAFENCE_PG_URL:-}" ]; then
  echo "setup-postgres: HAFENCE_PG_URL is set; using that server"
  exit 0
fi
if [ "$(id -u)" -ne 0 ] && [ -s "$url_file" ] && pg_isready -q -d "$(cat "$url_file")"; then
  echo "setup-postgres: PostgreSQL is up and .hafence-test/pg-url exists"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup-postgres: run as root to start PostgreSQL and create the test role" >&2
  exit 1
fi
version="$(pg_lsclusters -h | awk 'NR==1 {print $1}')"
cluster="$(pg_lsclusters -h | awk 'NR==1 {print $2}')"
port="$(pg_lsclusters -h | awk 'NR==1 {print $3}')"
if [ -z "$version" ]; then
  echo "setup-postgres: no PostgreSQL cluster (pg_lsclusters is empty)" >&2
  exit 1
fi
if ! pg_lsclusters -h | awk 'NR==1 {print $4}' | grep -q online; then
  pg_ctlcluster "$version" "$cluster" start
fi

mkdir -p "$root/.hafence-test"
chmod 700 "$root/.hafence-test"
if [ -s "$url_file" ]; then
  password="$(sed -E 's#^postgres://hafence:([^@]*)@.*#\1#' "$url_file")"
else
  password="$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
fi
psql_admin() { (cd / && runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qAt -p "$port" "$@"); }
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = 'hafence'")" != 1 ]; then
  psql_admin -c "CREATE ROLE hafence LOGIN CREATEDB"
fi
# The password goes through stdin, never argv.
printf "ALTER ROLE hafence PASSWORD '%s';\n" "$password" | psql_admin
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = 'hafence_test'")" != 1 ]; then
  psql_admin -c "CREATE DATABASE hafence_test OWNER hafence"
fi
umask 077
printf 'postgres://hafence:%s@127.0.0.1:%s/hafence_test\n' "$password" "$port" >"$url_file"
echo "setup-postgres: PostgreSQL $version/$cluster on port $port; test URL in .hafence-test/pg-url"
