#!/bin/sh
# The include rule of src/ (make layers): each folder of src/ is a layer, and
# its README.md's first line says which ("Layer N: NAME ..."). A file may
# include the public header (include/ms_X.h) of a module of its own layer or
# of one below, and a private header (src/LAYER/*.h) of its own folder only;
# <sqlite3.h> is included only in src/db/, <yaml.h> only in src/manifest/tree.c
# (the manifest's node tree: the rest of the manifest sees nodes, not libyaml).
# Prints each breach as FILE:LINE: why, and exits 1 if there is one.
#
#   sh scripts/check_layers.sh [ROOT]     (ROOT: the tree, default .)
root=${1:-.}
cd "$root" || exit 2
tab=$(mktemp) || exit 2
trap 'rm -f "$tab"' EXIT
# folder -> layer number, from the READMEs
for r in src/*/README.md; do
    d=$(basename "$(dirname "$r")")
    n=$(sed -n '1s/^Layer \([0-9][0-9]*\):.*/\1/p' "$r")
    [ -n "$n" ] || { echo "$r:1: the first line must be 'Layer N: ...'"; exit 1; }
    echo "dir $d $n" >>"$tab"
done
# public header -> the layer of its module: src/LAYER/X.c, or src/LAYER/X/
for h in include/ms_*.h; do
    m=$(basename "$h" .h); m=${m#ms_}
    where=$(ls -d src/*/"$m".c src/"$m"/README.md 2>/dev/null | head -n 1)
    [ -n "$where" ] || { echo "$h: no module src/*/$m.c (or layer src/$m/) owns it"; exit 1; }
    d=$(echo "$where" | cut -d/ -f2)
    echo "hdr $(basename "$h") $d" >>"$tab"
done
find src -name '*.[ch]' | sort | awk -v tab="$tab" '
BEGIN {
    while ((getline l < tab) > 0) {
        split(l, f, " ")
        if (f[1] == "dir") layer[f[2]] = f[3]
        else owner[f[2]] = f[3]
    }
}
FNR == 1 { split(FILENAME, p, "/"); dir = p[2] }
/^[ \t]*#[ \t]*include/ {
    line = $0
    if (match(line, /<[^>]+>/)) {
        sys = substr(line, RSTART + 1, RLENGTH - 2)
        if (sys == "sqlite3.h" && dir != "db")
            bad(FILENAME ":" FNR ": <sqlite3.h> outside src/db/")
        if (sys == "yaml.h" && FILENAME != "src/manifest/tree.c")
            bad(FILENAME ":" FNR ": <yaml.h> outside src/manifest/tree.c")
        next
    }
    if (!match(line, /"[^"]+"/)) next
    inc = substr(line, RSTART + 1, RLENGTH - 2)
    if (inc in owner) {
        if (layer[owner[inc]] > layer[dir])
            bad(FILENAME ":" FNR ": " dir " (layer " layer[dir] ") includes " inc \
                " of " owner[inc] " (layer " layer[owner[inc]] ")")
    } else if (inc !~ /\//) {
        if (system("test -f src/" dir "/" inc) != 0)
            bad(FILENAME ":" FNR ": \"" inc "\" is no header of src/" dir "/ (a private header is its folder'"'"'s own)")
    } else
        bad(FILENAME ":" FNR ": \"" inc "\": include a header by its name alone")
}
function bad(msg) { print msg; n++ }
END { if (n) { printf "layers: %d breach%s\n", n, n > 1 ? "es" : ""; exit 1 } }
' $(find src -name '*.[ch]' | sort)
