#!/usr/bin/env bash
# Set up a fresh Debian 12 machine (as root) for prep-conformance and its reference lab. Idempotent.
#   1. installs the Debian packages the lab runs (nginx, Varnish, OpenSSH, ...) without leaving
#      Debian's own services running on the default ports (the lab starts its own processes);
#   2. creates .venv and installs this package into it (pip install -e .), only when pyproject changed,
#      and compiles its bytecode.
# Usage: bash bootstrap.sh        (PREP_BOOTSTRAP_NO_APT=1 skips step 1)
set -euo pipefail
cd "$(dirname "$0")"
say() { printf '[bootstrap] %s\n' "$*"; }

PKGS=(nginx varnish openssh-server openssh-client openssl iproute2 dnsmasq-base wrk apache2 lighttpd
      curl procps ca-certificates python3 python3-venv python3-pip
      chromium   # chromium: headless browser tests of the watch board (issue 12) and of the reports
      poppler-utils   # pdftotext/pdftoppm: reading the dictamen PDFs back
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)   # WeasyPrint (memoria PDF, dictamen --pdf)
# The packaged daemons apt may start, with their pid files.
SERVICES=("nginx:/run/nginx.pid" "varnish:/run/varnishd.pid" "varnishncsa:/run/varnishncsa/varnishncsa.pid"
          "apache2:/run/apache2/apache2.pid" "lighttpd:/run/lighttpd.pid" "ssh:/run/sshd.pid")

if [ "$(id -u)" != 0 ]; then
  say "must run as root (the lab binds servers, creates namespaces and users)"; exit 2
fi

if [ "${PREP_BOOTSTRAP_NO_APT:-0}" != 1 ]; then
  missing=()
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      # tell invoke-rc.d not to start any service during the install
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive RUNLEVEL=1
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  else
    say "Debian packages already installed: ${PKGS[*]}"
  fi
  # Debian's packaged services must not hold the default ports: stop any that runs (by its pid file).
  for entry in "${SERVICES[@]}"; do
    svc=${entry%%:*}; pidfile=${entry#*:}
    if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      say "stopping Debian's $svc service (pid $(cat "$pidfile")): the lab runs its own"
      if [ -x "/etc/init.d/$svc" ]; then "/etc/init.d/$svc" stop >/dev/null 2>&1 || true; fi
      if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then kill "$(cat "$pidfile")" || true; fi
    fi
  done
  mkdir -p /run/sshd   # sshd's privilege-separation directory (normally made by systemd)
else
  say "PREP_BOOTSTRAP_NO_APT=1: skipping Debian packages"
fi

if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  python3 -m venv .venv
fi
stamp=.venv/.prep-conformance-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || ! .venv/bin/python -c "import prep_conformance" 2>/dev/null; then
  say "installing prep-conformance into .venv (pip install -e .)"
  .venv/bin/python -m pip install -q -e .
  echo "$want" > "$stamp"
else
  say ".venv is up to date with pyproject.toml"
fi
# bytecode for the package and the checks (pip compiles only what it copies; this install is editable):
# every run then starts from it, also where PYTHONDONTWRITEBYTECODE is set (~0.1 s of each run)
.venv/bin/python -m compileall -q -j 0 prep_conformance checks >/dev/null || true
say "ready: .venv/bin/prep-conformance --help ; demo: bash scripts/demo.sh"
