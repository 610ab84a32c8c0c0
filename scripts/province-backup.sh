#!/usr/bin/env bash
# The province records' backup and restore (issue #16, docs/deploy.md):
#   scripts/province-backup.sh backup  POSTGRES_URL FILE.dump   # pg_dump, custom format
#   scripts/province-backup.sh restore POSTGRES_URL FILE.dump   # into an empty database
# The restore refuses a database that already holds hallmark's tables. With HALLMARK_S3 set (the
# records' evidence in an object store), backup also copies every object by hash into
# FILE.evidence/ and restore puts them into the bucket HALLMARK_S3 names (a fresh one).
# HALLMARK (default: hallmark on PATH) is the binary used for the evidence.
set -euo pipefail
cmd=${1:?usage: province-backup.sh backup|restore POSTGRES_URL FILE}
url=${2:?usage: province-backup.sh backup|restore POSTGRES_URL FILE}
file=${3:?usage: province-backup.sh backup|restore POSTGRES_URL FILE}
bin=/usr/lib/postgresql/15/bin
case $cmd in
  backup)
    "$bin/pg_dump" --format=custom --no-owner --file="$file.partial" "$url"
    sync "$file.partial" 2>/dev/null || true
    mv "$file.partial" "$file"
    echo "province-backup: $file ($(stat -c %s "$file") bytes)"
    if [[ -n ${HALLMARK_S3:-} ]]; then
      "${HALLMARK:-hallmark}" records export-evidence --postgres "$url" "$file.evidence"
    fi
    ;;
  restore)
    [[ -s $file ]] || { echo "province-backup: '$file' is missing or empty (give the file 'backup' wrote)" >&2; exit 1; }
    held=$("$bin/psql" -qtA "$url" -c "SELECT count(*) FROM information_schema.tables WHERE table_name = 'hallmark_migrations'")
    [[ $held == 0 ]] || { echo "province-backup: the database at the given URL already holds hallmark's records: restore into an empty one" >&2; exit 1; }
    "$bin/pg_restore" --no-owner --exit-on-error --single-transaction --dbname="$url" "$file"
    echo "province-backup: restored $file"
    if [[ -n ${HALLMARK_S3:-} ]]; then
      "${HALLMARK:-hallmark}" records import-evidence --postgres "$url" "$file.evidence"
    fi
    ;;
  *) echo "province-backup: unknown command '$cmd' (backup or restore)" >&2; exit 2 ;;
esac
