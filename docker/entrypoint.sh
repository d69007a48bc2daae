#!/bin/sh
# Docker convention: VAR_FILE=/run/secrets/x becomes VAR=<file content>, so secrets never sit in the environment file.
set -eu
for var in $(env | sed -n 's/^\([A-Z_][A-Z0-9_]*\)_FILE=.*/\1/p'); do
  eval "file=\${${var}_FILE}"
  [ -r "$file" ] && export "$var=$(cat "$file")"
done
: "${SERVICE:?SERVICE must name the service to run}"
: "${PORT:?PORT must be set}"
exec uvicorn --factory "${SERVICE}.main:create_app" --host "${HOST:-0.0.0.0}" --port "$PORT" \
  --loop uvloop --http httptools --no-access-log --proxy-headers
