#!/usr/bin/env bash
# Downloads an official torchvision weight file, checks its SHA-256 against the manifest, and converts
# it to a gcam-ready safetensors file (for users with internet; gcam itself never downloads anything).
#
#   weights/fetch.sh ARCH [WEIGHTS] [DIR]      e.g.  weights/fetch.sh resnet50 IMAGENET1K_V2 ~/weights
#
# ARCH is a manifest architecture (weights/manifest.tsv); WEIGHTS defaults to the newest listed for it;
# DIR defaults to weights/downloads. Needs curl and a built gcam (scripts/build.sh).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tool="$here/../build/bin/gcam-weights"
arch="${1:-}"
[[ -n "$arch" ]] || { echo "usage: weights/fetch.sh ARCH [WEIGHTS] [DIR]" >&2; exit 2; }
want="${2:-}"
dir="${3:-$here/downloads}"
command -v curl >/dev/null || { echo "fetch.sh: curl is needed (apt-get install curl)" >&2; exit 2; }
[[ -x "$tool" ]] || { echo "fetch.sh: build gcam first (scripts/build.sh)" >&2; exit 2; }

row="$(grep -v '^#' "$here/manifest.tsv" | awk -F'\t' -v a="$arch" -v w="$want" '$1 == a && (w == "" || $2 == w)' | tail -n 1)"
[[ -n "$row" ]] || { echo "fetch.sh: no manifest entry for $arch ${want}" >&2; exit 2; }
IFS=$'\t' read -r _ weights url _ _ _ _ _ <<<"$row"
file="$dir/$(basename "$url")"
mkdir -p "$dir"
if [[ ! -f "$file" ]]; then
  echo "fetch.sh: downloading $url"
  curl -fL --retry 3 -o "$file.partial" "$url"
  mv "$file.partial" "$file"
fi
"$tool" verify "$file"
"$tool" convert "$file" "$dir/$arch-$weights.safetensors"
echo "fetch.sh: ready: $dir/$arch-$weights.safetensors"
