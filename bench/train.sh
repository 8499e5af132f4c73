#!/usr/bin/env bash
# Training speed: gander bench-train against the same models in plain PyTorch
# (bench/train_pytorch.py, Debian's python3-torch) on the same machine, in the same run.
# For each shape, REPS rounds; in each round gander (f32, bf16) and PyTorch (f32, bf16 autocast)
# run back to back, in alternating order, so the host's drift falls on both alike. Prints one
# Markdown row per shape: medians of tokens/s, gander's fraction of the matrix peak it measured,
# and the ratio of gander's faster precision to PyTorch's faster one.
# Usage: bench/train.sh [REPS]   (needs ./build/gander; installs python3-torch when missing)
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-2}
gander=./build/gander
[ -x "$gander" ] || { echo "build gander first (bash scripts/build.sh)" >&2; exit 2; }
# Debian's torch takes its f32 products from the system BLAS: without OpenBLAS that is the netlib
# reference BLAS, 7x slower here, which would make an unfair baseline.
need=()
/usr/bin/python3 -c "import torch" 2>/dev/null || need+=(python3-torch python3-numpy)
dpkg-query -W -f='${Status}' libopenblas0-pthread 2>/dev/null | grep -q "install ok installed" || need+=(libopenblas0-pthread)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
/usr/bin/python3 bench/train_pytorch.py check

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# name | gander --random | batch | pytorch shape flags
shapes=(
  "rwkv7-L4-D256|rwkv7:L4,D256,V65536|8|--arch rwkv7 --layers 4 --width 256 --vocab 65536"
  "rwkv7-0.1B|rwkv7:L12,D768,V65536|2|--arch rwkv7 --layers 12 --width 768 --vocab 65536"
  "qwen2-small|qwen2:L6,D256,H2,KV1,I768,V8256,T|8|--arch qwen2 --layers 6 --width 256 --heads 2 --kv-heads 1 --ffn 768 --vocab 8256 --tied"
)
threads=$(nproc)
for ((r = 0; r < reps; r++)); do
  for entry in "${shapes[@]}"; do
    IFS='|' read -r name spec batch pyflags <<<"$entry"
    run_gander() {
      for p in f32 bf16; do
        "$gander" bench-train --random "$spec" --seq 512 --batch "$batch" --steps 3 --warmup 1 --precision "$p" \
          -t "$threads" --json-out "$out/$name.gander.$p.$r.json" >/dev/null
      done
    }
    run_torch() {
      # shellcheck disable=SC2086
      /usr/bin/python3 bench/train_pytorch.py bench $pyflags --seq 512 --batch "$batch" --steps 3 --warmup 1 \
        --threads "$threads" >"$out/$name.torch.$r.jsonl"
    }
    if ((r % 2 == 0)); then run_gander; run_torch; else run_torch; run_gander; fi
  done
done

/usr/bin/python3 - "$out" "$reps" "${shapes[@]}" <<'EOF'
import json, statistics, sys
out, reps, shapes = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
print("| shape | B x T | gander f32 | gander bf16 | of peak (f32 / bf16) | PyTorch f32 | PyTorch bf16 | gander / PyTorch (best of each) | loss after 4 steps (gander / PyTorch) |")
print("|---|---|---|---|---|---|---|---|---|")
for entry in shapes:
    name, spec, batch, _ = entry.split("|")
    g = {p: [json.load(open(f"{out}/{name}.gander.{p}.{r}.json")) for r in range(reps)] for p in ("f32", "bf16")}
    t = {"f32": [], "bf16": []}
    for r in range(reps):
        for line in open(f"{out}/{name}.torch.{r}.jsonl"):
            j = json.loads(line)
            t[j["precision"]].append(j)
    med = lambda rows, key: statistics.median(x[key] for x in rows)
    gf, gb, tf, tb = (med(x, "tokens_per_s") for x in (g["f32"], g["bf16"], t["f32"], t["bf16"]))
    ff, fb = (100 * med(g[p], "fraction_of_matmul_peak") for p in ("f32", "bf16"))
    print(f"| {g['f32'][0]['model']} | {batch} x 512 | {gf:.0f} | {gb:.0f} | {ff:.0f} % / {fb:.0f} % | {tf:.0f} | {tb:.0f} | "
          f"{max(gf, gb) / max(tf, tb):.2f}x | {g['f32'][0]['loss_last']:.3f} / {t['f32'][0]['loss_last']:.3f} |")
EOF
