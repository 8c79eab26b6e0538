# Sourced by the data fetchers (fetch_mnist.sh, fetch_fashion_mnist.sh), with
# ME (the fetcher's name, for messages) and DEST set: checks DEST, creates it
# when missing, and defines make_work and put_file.
#
# DEST may be a folder others write to (a shared cache). Every file is made
# in WORK, a new folder inside DEST (mktemp -d: mode 700, so nobody else can
# plant a link in it), checked there and renamed into place, which replaces
# a link planted at its name instead of writing through it. DEST itself may
# be a symbolic link only if it is yours (or root's).

# without trailing slashes, so that a link is seen as one ("link/" is its folder)
while [ "${DEST%/}" != "$DEST" ] && [ -n "${DEST%/}" ]; do DEST=${DEST%/}; done
if [ -L "$DEST" ]; then
    owner=$(stat -c %u "$DEST")
    if [ "$owner" != "$(id -u)" ] && [ "$owner" != 0 ]; then
        echo "$ME: '$DEST' is a symbolic link of another user; not writing through it (give the folder it points to, if you trust it)" >&2
        exit 1
    fi
fi
mkdir -p "$DEST"

# make_work: WORK, removed when the script ends (made only when there is
# something to fetch: a complete DEST may be read-only)
make_work() {
    WORK=$(mktemp -d "$DEST/.$ME.XXXXXX")
    trap 'rm -rf "$WORK"' EXIT
    trap 'exit 1' HUP INT TERM
}

# put_file FILE OTHER: WORK/FILE, checked, renamed to DEST/FILE over whatever
# stands there (mv -T: even a link to a folder), and OTHER, the other form of
# its name, removed from DEST (run reads NAME before NAME.gz). A folder in the
# way stops the script with mv's or rm's message.
put_file() {
    chmod 644 "$WORK/$1" && mv -f -T "$WORK/$1" "$DEST/$1" && rm -f "$DEST/$2" || exit 1
}
