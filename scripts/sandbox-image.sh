#!/bin/sh
# sandbox-image.sh builds the local Docker image the docker sandbox runs
# submissions in when no image registry can be reached: a minimal Debian
# root file system with python3 (full standard library, socketserver
# included), the time zone database, libfaketime (the http-server checks
# run programs under a faked clock) and the web frameworks of the course's
# day two (Flask, FastAPI with uvicorn, pytz): the packages
# scripts/sandbox-packages.txt lists, which hold what the README's install
# section installs. It is made with debootstrap from the mirror apt already
# uses, and imported into Docker. An existing image that lacks any of these
# is rebuilt.
#
# Usage: scripts/sandbox-image.sh [IMAGE]    (default netgrade-python:local)
# Environment: SUITE (default bookworm), MIRROR (default: from apt's sources),
# FORCE=1 rebuilds an image that already exists.
set -eu

IMAGE=${1:-netgrade-python:local}
SUITE=${SUITE:-bookworm}

if ! command -v docker >/dev/null 2>&1; then
	echo "sandbox-image: docker is not installed" >&2
	exit 1
fi
# PACKAGES are what the image holds beyond debootstrap's minimal base, and
# MODULES the Python modules they give: both read from the list beside this
# script, one package a line followed by its modules.
LIST=$(dirname "$0")/sandbox-packages.txt
PACKAGES=$(sed -e 's/#.*//' "$LIST" | awk 'NF { printf "%s%s", sep, $1; sep = "," }')
MODULES=$(sed -e 's/#.*//' "$LIST" | awk '{ for (i = 2; i <= NF; i++) { printf "%s%s", sep, $i; sep = ", " } }')
# complete checks that an image holds everything the graders use.
complete() {
	docker run --rm --network none "$IMAGE" sh -c \
		"python3 -c 'import $MODULES; zoneinfo.ZoneInfo(\"Europe/Paris\")' && ls /usr/lib/*/faketime/libfaketime.so.1" >/dev/null 2>&1
}
if [ -z "${FORCE:-}" ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
	if complete; then
		echo "sandbox-image: $IMAGE already exists (FORCE=1 rebuilds it)"
		exit 0
	fi
	echo "sandbox-image: $IMAGE lacks some of $PACKAGES: rebuilding it"
fi
if [ "$(id -u)" != 0 ]; then
	echo "sandbox-image: debootstrap needs root: run this as root (sudo make sandbox-image)" >&2
	exit 1
fi
if ! command -v debootstrap >/dev/null 2>&1; then
	echo "sandbox-image: debootstrap is not installed (apt-get install debootstrap)" >&2
	exit 1
fi

# mirror prints the first URI apt's own sources list gives for $SUITE, from
# deb822 .sources files or one-line .list files.
mirror() {
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v suite="$SUITE" '
			function flush() { if (deb && hit && uri != "") { print uri; found = 1; exit } deb = 0; hit = 0; uri = "" }
			/^[[:space:]]*$/ { flush(); next }
			/^Types:/ { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
			/^URIs:/ { uri = $2 }
			/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) hit = 1 }
			END { if (!found) flush() }
		' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk -v suite="$SUITE" '
			$1 == "deb" {
				i = 2
				if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
				if ($(i + 1) == suite) { print $i; exit }
			}
		' "$f"
	done
}

MIRROR=${MIRROR:-$(mirror | head -n 1)}
if [ -z "$MIRROR" ]; then
	echo "sandbox-image: apt's sources list names no mirror for $SUITE; set MIRROR=URL" >&2
	exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
echo "sandbox-image: debootstrap $SUITE from $MIRROR"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$work/root" "$MIRROR"
rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*
echo "sandbox-image: importing $IMAGE"
tar -C "$work/root" -c . | docker import \
	-c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
	-c 'ENV LANG=C.UTF-8' \
	-c 'CMD ["python3"]' \
	- "$IMAGE"
if ! complete; then
	echo "sandbox-image: $IMAGE was built but lacks some of $PACKAGES" >&2
	exit 1
fi
docker run --rm --network none "$IMAGE" python3 -c 'import sys; print("sandbox-image: python", sys.version.split()[0], "ready")'
