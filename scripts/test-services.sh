#!/usr/bin/env bash
# Makes sure the services the test suite talks to are up: PostgreSQL and Redis on
# loopback. Starts them when they are installed but stopped; never fails by itself
# (the tests decide: under CI=true they fail when a service is missing).
set -u
pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
if command -v pg_isready >/dev/null && ! pg_up && [ -d /etc/postgresql ]; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start 2>/dev/null || true
fi
if command -v redis-cli >/dev/null && ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 \
   && command -v redis-server >/dev/null; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null 2>&1 || true
fi
# Debian packages the tests use, installed when missing (`apt-get update` only when the
# plain install fails: stale package lists): Prometheus for tests/system/test_prometheus.py,
# Alertmanager for tests/system/test_alertmanager_opsgenie.py and
# test_alertmanager_silences.py, and Chromium for the browser tests in tests/e2e/
# (Playwright drives the system Chromium).
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo -n"; fi
apt_install() {
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "$@"
}
need_package() {  # need_package PACKAGE BINARY
  if command -v "$2" >/dev/null || [ -x "/usr/bin/$2" ] || ! command -v apt-get >/dev/null; then
    return 0
  fi
  { apt_install "$1" || { $SUDO apt-get update -q && apt_install "$1"; }; } >/dev/null 2>&1 \
    || echo "test-services: could not install $1; its tests skip (fail under CI=true)" >&2
}
need_package prometheus prometheus
need_package prometheus-alertmanager prometheus-alertmanager
need_package chromium chromium
# MailDev (npm), the SMTP capture server with an HTTP API that tests/operator's full-demo
# reads the page email from; kept under .tools/ (MailHog and Mailpit are not obtainable).
MAILDEV_VERSION=3.0.0
if command -v npm >/dev/null && [ ! -x .tools/maildev/node_modules/.bin/maildev ]; then
  npm install --no-audit --no-fund --prefix .tools/maildev "maildev@$MAILDEV_VERSION" >/dev/null 2>&1 \
    || echo "test-services: could not install maildev; its tests skip (fail under CI=true)" >&2
fi
exit 0
