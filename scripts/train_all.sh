#!/usr/bin/env bash
# Rebuild every shipped weight file from its recipe, in dependency order (FSRCNN x2/x4
# start from the shipped x3, EDSR-small x2 from its own two T91 stages and x3/x4 from the
# shipped x2, the EDSR-small GAN x4 from the shipped EDSR-small x4), then ship each run.
# Each recipe names its training folders ("data": T91, BSDS200 under DATASETS_DIR, or
# both joined by "+": T91+BSDS200, the 291 set).
#   bash scripts/train_all.sh [T91_DIR] [DATASETS_DIR]
# A run already finished is shipped again; one interrupted is resumed.
set -euo pipefail
cd "$(dirname "$0")/.."
t91=${1:-../shared/datasets/T91}
datasets=${2:-../shared/datasets}
run() {
    local recipe=$1 out=runs/$1 set dirs=()
    for set in $(python -c "import sys; from minisr.train import load_recipe as r
print(r(sys.argv[1])['data'].replace('+', ' '))" "$recipe"); do
        if [ "$set" = T91 ]; then dirs+=("$t91"); else dirs+=("$datasets/$set"); fi
    done
    if [ -f "$out/last.npz" ]; then
        minisr train --recipe "$recipe" --data "${dirs[@]}" --out "$out" --resume --no-progress
    else
        minisr train --recipe "$recipe" --data "${dirs[@]}" --out "$out" --no-progress
    fi
    if [ "${2:-ship}" = ship ]; then python scripts/ship.py "$out" --datasets "$datasets"; fi
}
for r in espcn_x2 espcn_x3 espcn_x4 srcnn_x3 fsrcnn_x3 fsrcnn_s_x3; do run $r; done
for r in fsrcnn_x2 fsrcnn_x4; do run $r; done          # init: fsrcnn-x3
run edsr_small_x2_stage1 noship                    # 24-px patches, from scratch, T91
run edsr_small_x2_stage2                           # 48-px patches, init: stage 1, T91
run edsr_small_x2                                  # 291 images, init: edsr-small-x2 (stage 2)
for r in edsr_small_x3 edsr_small_x4; do run $r; done  # init: edsr-small-x2
run edsr_small_gan_x4                              # BSDS200, init: edsr-small-x4
