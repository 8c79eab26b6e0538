#!/bin/sh
# Put the four Fashion-MNIST files into DEST, verified by the SHA-256 of their
# uncompressed contents.
#
# Source: Debian's package dataset-fashion-mnist (the Zalando Research files,
# /usr/share/datasets/fashion-mnist), installed with apt-get if missing. The
# checksums below are those of that package's files (0.0~git20200523.55506a9-1).
# A file whose checksum is not the expected one is deleted and the script fails.
# Files reach DEST only as fetch_common.sh says (a shared DEST is safe).
set -eu
DEST=${1:?usage: fetch_fashion_mnist.sh DEST}
SRC=/usr/share/datasets/fashion-mnist
NAMES="train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte"

raw_sum() {
    case $1 in
    train-images-idx3-ubyte) echo c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888 ;;
    train-labels-idx1-ubyte) echo bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9 ;;
    t10k-images-idx3-ubyte) echo 5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b ;;
    t10k-labels-idx1-ubyte) echo 0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34 ;;
    esac
}

# verify DIR NAME: 0 when DIR holds NAME.gz, a regular file whose contents
# are the expected ones, and no link at NAME or NAME.gz (a link is replaced)
verify() {
    [ -f "$1/$2.gz" ] && [ ! -L "$1/$2.gz" ] && [ ! -L "$1/$2" ] || return 1
    [ "$(gzip -dc "$1/$2.gz" | sha256sum | cut -d' ' -f1)" = "$(raw_sum "$2")" ] && return 0
    echo "fetch_fashion_mnist: checksum mismatch for '$1/$2.gz'; deleted" >&2
    rm -f "$1/$2.gz"
    return 1
}
all_ok() { for n in $NAMES; do verify "$1" "$n" || return 1; done; }

ME=fetch_fashion_mnist
. "$(dirname "$0")/fetch_common.sh"
all_ok "$DEST" 2>/dev/null && { echo "data: Fashion-MNIST in '$DEST' verified"; exit 0; }
if [ ! -f "$SRC/train-images-idx3-ubyte.gz" ]; then
    echo "fetch_fashion_mnist: installing Debian's dataset-fashion-mnist" >&2
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO=sudo; fi
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
        $SUDO apt-get install -y -qq --no-install-recommends dataset-fashion-mnist >/dev/null
fi
make_work
for n in $NAMES; do
    cp "$SRC/$n.gz" "$WORK/$n.gz" || exit 1
done
all_ok "$WORK" || { echo "fetch_fashion_mnist: the files of '$SRC' are not the expected ones" >&2; exit 1; }
for n in $NAMES; do put_file "$n.gz" "$n"; done
echo "data: Fashion-MNIST copied from '$SRC' and verified"
