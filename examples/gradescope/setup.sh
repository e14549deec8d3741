#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image
# (Ubuntu). It installs Python for the students' programs with day two's
# frameworks (Flask, FastAPI with uvicorn, pytz), the time zone database and
# libfaketime (http-server's checks fake the clock), and netgrade, the
# static binary shipped in the autograder's zip next to this file.
set -euo pipefail

# The image's package lists are empty or stale: read them first.
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
  python3 python3-flask python3-fastapi python3-uvicorn python3-tz tzdata faketime

install -m 0755 /autograder/source/netgrade /usr/local/bin/netgrade
netgrade --version
