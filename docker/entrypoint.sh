#!/bin/sh
# The image's entrypoint: check that this container's user can use the
# configuration directory mounted on /data, then run `gateway "$@"`.
#
# `gateway init` on the host writes the keys and tokens readable by their
# owner only (0600), owned by the host user; the image runs as uid 10001.
# Without this check the gateway would stop with a Python traceback on the
# first file it cannot open; here it says what to run instead.
set -eu

config="${GATEWAY_CONFIG:-/data/gateway.toml}"
dir="$(dirname "$config")"
me="$(id -u)"

explain() {  # $1: the file, $2: what is wrong with it
    owner="$(stat -c %u "$1" 2>/dev/null || echo '?')"
    cat >&2 <<MSG
gateway-entrypoint: $1 $2 by this container's user (uid $me); it belongs to uid $owner.
Fix it on the host, either by giving the directory you mount on $dir to uid $me:
    sudo chown -R $me net/        (net/: the directory written by gateway init)
or by running the container as the files' owner:
    docker run --user "\$(id -u)" -v "\$PWD/net:$dir" ...
    (with compose: GATEWAY_UID=\$(id -u) docker compose up)
MSG
    exit 1
}

case "${1:-}" in
    init|certs|validate|sample|--help|-h|--version) exec gateway "$@" ;;
esac

if [ ! -e "$config" ]; then
    if [ -d "$dir" ] && [ ! -x "$dir" ]; then
        explain "$dir" "cannot be entered"
    fi
    echo "gateway-entrypoint: no $config: mount the directory written by gateway init on $dir" >&2
    echo "    docker run -v \"\$PWD/net:$dir\" ... (see the Docker section of README.md)" >&2
    exit 1
fi

# Every file must be readable, every directory enterable and writable (the
# store, its lock file, inbox/ and print/ are written there), and an existing
# embedded store writable.
bad="$(find "$dir" \( ! -readable -o -type d \( ! -writable -o ! -executable \) \
    -o -type f -name 'store.db*' ! -writable \) -print 2>/dev/null | head -n 1)"
if [ -n "$bad" ]; then
    if [ ! -r "$bad" ]; then
        explain "$bad" "is not readable"
    elif [ -d "$bad" ] && [ ! -x "$bad" ]; then
        explain "$bad" "cannot be entered"
    else
        explain "$bad" "is not writable"
    fi
fi

exec gateway "$@"
