#!/usr/bin/env bash
# Regenerate the golden bundles of reference-tests/bundles from the ORIGINAL upstream Python code.
#
#   reference-tests/regenerate.sh            regenerate every bundle into a temporary directory, then replace
#                                            reference-tests/bundles/<name> by the new ones
#   reference-tests/regenerate.sh --check    regenerate into a temporary directory and compare sha256 of every
#                                            file with the committed bundles (nothing is modified); exit 1 on
#                                            any difference, a missing or an unexpected bundle
#   --keep                                   keep the temporary directory (its path is printed)
#
# Needs the reference environment of reference-tests/README.md (/usr/bin/python3 with Debian torch 1.13 and the
# upstream checkouts under $V2A_REFERENCE_SRC, default /work/refsrc). Run from anywhere.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
py="${V2A_PYTHON:-/usr/bin/python3}"
check=0
keep=0
for a in "$@"; do
  case "$a" in
    --check) check=1 ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "regenerate.sh: unknown argument '$a'" >&2; exit 2 ;;
  esac
done

tmp="$(mktemp -d "${TMPDIR:-/tmp}/v2a-bundles.XXXXXX")"
if [ "$keep" = 0 ]; then trap 'rm -rf "$tmp"' EXIT; else echo "temporary bundles: $tmp"; fi

cd "$repo"
# scripts in a fixed order; the cogvlm/e2e dumps are run only where present
scripts=(dump_pndm.py dump_ddim.py dump_audio.py dump_audio_forward.py dump_unet.py dump_vae.py dump_cogvlm.py dump_e2e.py)
failed=()
for s in "${scripts[@]}"; do
  if [ -f "reference-tests/$s" ]; then
    echo "== $s" >&2
    "$py" "reference-tests/$s" --out "$tmp" || { echo "FAILED   $s" >&2; failed+=("$s"); }
  else
    echo "== $s: not present, skipped" >&2
  fi
done

committed="reference-tests/bundles"
if [ "$check" = 1 ]; then
  status=0
  for d in "$tmp"/*/; do
    name="$(basename "$d")"
    if [ ! -d "$committed/$name" ]; then
      echo "NEW      $name (not committed)"; status=1; continue
    fi
    a="$(cd "$d" && sha256sum -- * | sort -k2)"
    b="$(cd "$committed/$name" && sha256sum -- * | sort -k2)"
    if [ "$a" = "$b" ]; then
      echo "OK       $name"
    else
      echo "DIFFERS  $name"; status=1
      diff <(echo "$b") <(echo "$a") | sed 's/^/         /' || true
    fi
  done
  for d in "$committed"/*/; do
    name="$(basename "$d")"
    [ -d "$tmp/$name" ] || { echo "MISSING  $name (committed, not regenerated)"; status=1; }
  done
  for s in "${failed[@]}"; do echo "FAILED   $s"; status=1; done
  if [ "$status" = 0 ]; then echo "all bundles bit-identical"; fi
  exit "$status"
fi

if [ "${#failed[@]}" != 0 ]; then
  echo "not updating $committed: failed: ${failed[*]}" >&2; exit 1
fi
mkdir -p "$committed"
for d in "$tmp"/*/; do
  name="$(basename "$d")"
  rm -rf "$committed/$name.old"
  [ -d "$committed/$name" ] && mv "$committed/$name" "$committed/$name.old"
  cp -r "$d" "$committed/$name"
  rm -rf "$committed/$name.old"
  echo "updated $committed/$name"
done
