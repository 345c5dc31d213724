#!/usr/bin/env bash
# Installs what the build and the tests need on a fresh machine (Debian, root or sudo):
# the wasm32-wasip2 Rust target for the plugins, kcat (the independent Kafka client of the
# tests), the Apache Kafka / MirrorMaker 2 jars from Maven Central (Java 17 and Maven are
# expected on the machine), and componentize-js from npm (Node.js is expected). Each step is
# skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target add wasm32-wasip2

if ! command -v kcat > /dev/null; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq kcat
fi

for tool in java mvn python3 node npm; do
    command -v "$tool" > /dev/null || { echo "tests/setup.sh: $tool is required" >&2; exit 1; }
done
tests/kafka/broker.sh fetch

# componentize-js, for the JavaScript plugin (guest/js-replicator) that proves the contract is
# language-neutral.
if [ ! -d guest/js-replicator/node_modules/@bytecodealliance/componentize-js ]; then
    (cd guest/js-replicator && npm install --no-audit --no-fund --loglevel=error)
fi
