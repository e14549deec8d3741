#!/bin/sh
# sandbox-image.sh builds the local Docker image the docker sandbox runs
# submissions in when no image registry can be reached: a minimal Debian
# root file system with python3 (full standard library, socketserver
# included), the time zone database, libfaketime (the http-server checks
# run programs under a faked clock) and the web frameworks of the course's
# day two (Flask, FastAPI with uvicorn), made with debootstrap from the
# mirror apt already uses, and imported into Docker. An existing image that
# lacks any of these is rebuilt.
#
# Usage: scripts/sandbox-image.sh [IMAGE]    (default netgrade-python:local)
# Environment: SUITE (default bookworm), MIRROR (default: from apt's sources),
# FORCE=1 rebuilds an image that already exists.
set -eu

IMAGE=${1:-netgrade-python:local}
SUITE=${SUITE:-bookworm}

# fail says why the image cannot be built, and what to do, and stops.
fail() {
	echo "sandbox-image: $*" >&2
	exit 1
}

if ! command -v docker >/dev/null 2>&1; then
	fail "no Docker: the docker command is not installed (sudo apt-get install docker.io, then start it: sudo systemctl start docker)"
fi
# The engine must answer before anything else is asked of it: an image
# inspect that fails for want of permission would read as "no image".
if ! info=$(docker info --format '{{.ServerVersion}}' 2>&1); then
	case $info in
	*"permission denied"*)
		fail "no permission on the Docker socket ($(echo "$info" | grep -o 'unix://[^:" ]*' | head -n 1 || true)): add yourself to the docker group (sudo usermod -aG docker \$USER, then log in again), or run as root (sudo make sandbox-image)" ;;
	*"Cannot connect"* | *"Is the docker daemon running"* | *"connection refused"* | *"no such file"*)
		fail "the Docker engine is not running: start it (sudo systemctl start docker, or dockerd); docker said: $(echo "$info" | tail -n 1)" ;;
	*)
		fail "docker does not answer: $(echo "$info" | tail -n 1)" ;;
	esac
fi
# PACKAGES are what the image holds beyond debootstrap's minimal base.
PACKAGES=python3,tzdata,faketime,python3-flask,python3-fastapi,python3-uvicorn
# complete checks that an image holds everything the graders use.
complete() {
	docker run --rm --network none "$IMAGE" sh -c \
		'python3 -c "import socketserver, zoneinfo, flask, fastapi, uvicorn; zoneinfo.ZoneInfo(\"Europe/Paris\")" && ls /usr/lib/*/faketime/libfaketime.so.1' >/dev/null 2>&1
}
if [ -z "${FORCE:-}" ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
	if complete; then
		echo "sandbox-image: $IMAGE already exists (FORCE=1 rebuilds it)"
		exit 0
	fi
	echo "sandbox-image: $IMAGE lacks some of $PACKAGES: rebuilding it"
fi
if [ "$(id -u)" != 0 ]; then
	fail "no root: debootstrap makes the image's root file system and needs root: run this as root (sudo make sandbox-image)"
fi
if ! command -v debootstrap >/dev/null 2>&1; then
	fail "debootstrap is not installed (sudo apt-get install debootstrap)"
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
	fail "no mirror: apt's sources list names no Debian mirror for $SUITE; set MIRROR=URL (a Debian mirror this machine reaches)"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
echo "sandbox-image: debootstrap $SUITE from $MIRROR"
# Its output is shown as it comes and kept, to name the cause of a failure.
{
	debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$work/root" "$MIRROR"
	echo $? >"$work/rc"
} 2>&1 | tee "$work/log"
if [ "$(cat "$work/rc")" != 0 ]; then
	if grep -q -e 'Failed getting release file' -e "Couldn't download" -e 'Temporary failure resolving' -e 'Could not resolve' -e 'Connection refused' -e 'unable to resolve' -e 'Unable to connect' -e 'Network is unreachable' "$work/log"; then
		fail "no mirror: debootstrap could not download $SUITE from $MIRROR (its lines above say what failed): check that this machine reaches it, or set MIRROR=URL"
	fi
	fail "debootstrap failed (its lines above say why)"
fi
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
