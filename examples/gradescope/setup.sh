#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image
# (Ubuntu). It installs Python for the students' programs and netgrade, the
# static binary shipped in the autograder's zip next to this file.
set -euo pipefail

apt-get install -y --no-install-recommends python3

install -m 0755 /autograder/source/netgrade /usr/local/bin/netgrade
netgrade --version
