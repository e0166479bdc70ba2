#!/usr/bin/env bash
# Regenerate the golden bundles of reference-tests/bundles from the ORIGINAL upstream Python code.
#
#   reference-tests/regenerate.sh            regenerate every bundle into a temporary directory, then replace
#                                            reference-tests/bundles/<name> by the new ones
#   reference-tests/regenerate.sh --check    regenerate into a temporary directory and compare every tensor with
#                                            the committed bundles against each bundle's tolerances
#                                            (compare_bundles.py), with bit identity as an extra line; nothing is
#                                            modified; exit 1 when a tensor is over its tolerance, or a bundle is
#                                            missing, unexpected or failed to regenerate
#   --keep                                   keep the temporary directory (its path is printed)
#
# The bf16/fp16 sidecars (<name>/bf16_reference.json, vae-tiny/fp16_reference.json) are made by
# dump_bf16_reference.py with $V2A_TORCH2_PYTHON: from the new bundles when regenerating; with --check, from the
# committed bundles (the command recorded in each sidecar), then compared with the committed sidecars: bit-identical
# on the CPU kind and runtime that made them, else every number within dump_bf16_reference.py's --rel-tol.
#
# Needs the reference environment of reference-tests/README.md: /usr/bin/python3 with Debian torch 1.13,
# V2A_REFERENCE_SRC set to the folder with the upstream checkouts, and V2A_TORCH2_PYTHON: a Python whose torch is
# 2.x and which sees Debian's packages (a venv made with --system-site-packages). Run from anywhere.
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
    -h|--help) sed -n '2,19p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "regenerate.sh: unknown argument '$a'" >&2; exit 2 ;;
  esac
done

if [ -z "${V2A_REFERENCE_SRC:-}" ]; then
  echo "regenerate.sh: set V2A_REFERENCE_SRC to the folder with the upstream checkouts (reference-tests/README.md)" >&2
  exit 2
fi
py2="${V2A_TORCH2_PYTHON:-}"
if [ -z "$py2" ]; then
  echo "regenerate.sh: set V2A_TORCH2_PYTHON to a Python with torch 2.x that sees Debian's packages (venv made with" \
    "--system-site-packages); it makes the bf16/fp16 sidecars (reference-tests/README.md)" >&2
  exit 2
fi

tmp="$(mktemp -d)"
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
sidecars="$tmp/.sidecars"
if [ "$check" = 1 ]; then
  echo "== dump_bf16_reference.py (from the committed bundles)" >&2
  "$py2" reference-tests/dump_bf16_reference.py --bundles "$committed" --out "$sidecars" \
    || { echo "FAILED   dump_bf16_reference.py" >&2; failed+=(dump_bf16_reference.py); }
  "$py2" reference-tests/dump_bf16_reference.py --bundles "$committed" --out "$sidecars" --vae-dtype bf16 vae-tiny \
    || { echo "FAILED   dump_bf16_reference.py --vae-dtype bf16" >&2; failed+=("dump_bf16_reference.py --vae-dtype bf16"); }
elif [ "${#failed[@]}" = 0 ]; then
  echo "== dump_bf16_reference.py (from the new bundles)" >&2
  "$py2" reference-tests/dump_bf16_reference.py --bundles "$tmp" --out "$tmp" \
    || { echo "FAILED   dump_bf16_reference.py" >&2; failed+=(dump_bf16_reference.py); }
  "$py2" reference-tests/dump_bf16_reference.py --bundles "$tmp" --out "$tmp" --vae-dtype bf16 vae-tiny \
    || { echo "FAILED   dump_bf16_reference.py --vae-dtype bf16" >&2; failed+=("dump_bf16_reference.py --vae-dtype bf16"); }
fi


if [ "$check" = 1 ]; then
  status=0
  for d in "$tmp"/*/; do
    name="$(basename "$d")"
    if [ ! -d "$committed/$name" ]; then
      echo "NEW      $name (not committed)"; status=1; continue
    fi
    "$py" reference-tests/compare_bundles.py "$committed/$name" "$d" || status=1
  done
  for d in "$committed"/*/; do
    name="$(basename "$d")"
    [ -d "$tmp/$name" ] || { echo "MISSING  $name (committed, not regenerated)"; status=1; }
  done
  if [ -d "$sidecars" ]; then
    "$py2" reference-tests/dump_bf16_reference.py --bundles "$committed" --compare "$sidecars" || status=1
    "$py2" reference-tests/dump_bf16_reference.py --bundles "$committed" --compare "$sidecars" --vae-dtype bf16 \
      vae-tiny || status=1
  fi
  for s in "${failed[@]}"; do echo "FAILED   $s"; status=1; done
  if [ "$status" = 0 ]; then echo "every regenerated tensor within its bundle's tolerance, sidecars as committed"; fi
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
