#!/usr/bin/env bash
# Fetch GraphiQL's standalone (UMD) browser build and its React runtime from the
# npm registry and put the few files the page needs into DEST_DIR, so that
# GraphiQL works without any CDN.
#
#   usage: scripts/fetch_graphiql.sh DEST_DIR
#
# Idempotent: does nothing when DEST_DIR/.complete exists (delete the directory
# to fetch again, e.g. after changing a version below).
#
# Why these packages and nothing else:
#   * graphiql 3.x still ships a UMD build (graphiql.min.js, global `GraphiQL`)
#     whose only externals are the globals `React` and `ReactDOM`; graphql-js and
#     the graphql-ws client (used by createGraphiQLFetcher's subscriptionUrl) are
#     bundled inside it. graphiql 4+ ships ESM only.
#   * react / react-dom 18 are the last versions with UMD builds (React 19 dropped
#     them) and are within graphiql 3's peer range (^16.8 || ^17 || ^18).
set -euo pipefail

if [ "$#" -ne 1 ]; then
    echo "usage: $0 DEST_DIR" >&2
    exit 2
fi
DEST=$1

if [ -e "$DEST/.complete" ]; then
    echo "GraphiQL assets already present in $DEST"
    exit 0
fi

GRAPHIQL_VERSION=3.9.0
REACT_VERSION=18.3.1

# sha256 of the tarballs `npm pack` downloads; checked before anything is used.
declare -A SHA256=(
    ["graphiql-${GRAPHIQL_VERSION}.tgz"]=d955c99ae100ed5facb45f4f94d1a8c0a156f81106434f0e35b0dcb0be574f27
    ["react-${REACT_VERSION}.tgz"]=8d9bed01a672e7eaf387942d781ad47c6a43089a30a0306060f9fd5ac7870347
    ["react-dom-${REACT_VERSION}.tgz"]=031d4427a99f2f3f6cac18bbbf308594a67e4f47d10f4896fdec446505b040e0
)

command -v npm >/dev/null || { echo "error: npm is required to fetch GraphiQL assets" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "fetching graphiql@${GRAPHIQL_VERSION}, react@${REACT_VERSION}, react-dom@${REACT_VERSION}"
(
    cd "$WORK"
    npm pack --silent \
        "graphiql@${GRAPHIQL_VERSION}" \
        "react@${REACT_VERSION}" \
        "react-dom@${REACT_VERSION}" >/dev/null
)

for tgz in "${!SHA256[@]}"; do
    [ -f "$WORK/$tgz" ] || { echo "error: npm pack did not produce $tgz" >&2; exit 1; }
    echo "${SHA256[$tgz]}  $WORK/$tgz" | sha256sum --check --quiet - \
        || { echo "error: checksum mismatch for $tgz" >&2; exit 1; }
done

# extract <tarball> <path inside package/> <destination file name>
extract() {
    local tgz=$1 member=$2 name=$3
    tar -xzf "$WORK/$tgz" -C "$WORK/stage" --transform "s|^package/${member}\$|${name}|" "package/${member}"
    [ -s "$WORK/stage/$name" ] || { echo "error: $member missing from $tgz" >&2; exit 1; }
}

mkdir -p "$WORK/stage"
extract "react-${REACT_VERSION}.tgz" umd/react.production.min.js react.production.min.js
extract "react-dom-${REACT_VERSION}.tgz" umd/react-dom.production.min.js react-dom.production.min.js
extract "graphiql-${GRAPHIQL_VERSION}.tgz" graphiql.min.js graphiql.min.js
extract "graphiql-${GRAPHIQL_VERSION}.tgz" graphiql.min.css graphiql.min.css
extract "graphiql-${GRAPHIQL_VERSION}.tgz" LICENSE LICENSE.graphiql
extract "react-${REACT_VERSION}.tgz" LICENSE LICENSE.react

# The bundle ends with a sourceMappingURL comment for a map we don't ship;
# drop it so browsers' devtools don't request a missing file.
sed -i '/^\/\/# sourceMappingURL=/d' "$WORK/stage/graphiql.min.js"

cat > "$WORK/stage/VERSIONS" <<VERSIONS
graphiql ${GRAPHIQL_VERSION}
react ${REACT_VERSION}
react-dom ${REACT_VERSION}
VERSIONS

mkdir -p "$DEST"
cp "$WORK"/stage/* "$DEST"/
touch "$DEST/.complete"
echo "GraphiQL assets written to $DEST ($(du -sh "$DEST" | cut -f1))"
