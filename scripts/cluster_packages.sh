#!/usr/bin/env sh
# What `make cluster` and `make cluster-drill` need from Debian, installed when missing:
# the balancer, Redis and its Sentinel, and wrk for the drill's steady load.
set -eu
missing=""
for command in haproxy redis-server redis-sentinel wrk; do
  command -v "$command" >/dev/null 2>&1 || missing="$missing $command"
done
[ -z "$missing" ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing$missing"
# shellcheck disable=SC2086 # one word per package
$sudo apt-get update -qq && $sudo apt-get install -y -qq $missing
