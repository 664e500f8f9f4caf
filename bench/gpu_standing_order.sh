#!/usr/bin/env bash
# The GPU standing order (issue 19): everything tracekd checks on a lent GPU, in ONE device call.
#
#   1. here, once:   bash bench/gpu_standing_order.sh prepare
#                    (wheels into .whl/, the data copy into .gpu_data/, both ignored through .git/info/exclude)
#   2. the call:     run(command="bash bench/gpu_standing_order.sh", carry=[".whl", ".gpu_data"], timeout_s=570)
#
# On the device (python3 3.12, torch 2.11.0+cu130, transformers, accelerate and peft already there) it:
#   a. installs the carried wheels into /tmp/site and tracekd from the tree (no network there);
#   b. evaluates trace_qa (cotemp_trace, babi_trace, marco_trace; --limit 100 each) through lm-eval's `hf` and
#      through `vllm` where vLLM imports, greedy, on a random Llama of SmolLM2-135M's depth built there
#      (tests/tiny_model.py; no weights travel: the converted default model is 517 MiB, over the 64 MiB carry
#      limit), and compares the two runs' generations item by item (bench/compare_generations.py);
#   c. runs bench/gpu_train_check.py (LoRA SFT throughput/MFU, packing off and on) and a QLoRA step
#      (--load_in_4bit, bitsandbytes) of `python -m tracekd_train` on the same model;
#   d. with two or more GPUs: `accelerate launch --multi_gpu --num_processes 2 -m tracekd_ext eval` and
#      `-m tracekd_train`, the same checks as tests/test_data_parallel.py.
# Everything it prints and writes goes to $OUT (gpu_standing_order.log and the JSON files).
#
# What cannot travel: a vLLM CUDA wheel for torch 2.11 is several hundred MiB (the carry limit is 64 MiB), so
# step b's vLLM half runs only where the image has vLLM; the script says which it did. Not run yet: no GPU
# was lent to the session that wrote it (issue 19).
#
# The wheels it carries (prepare downloads them for CPython 3.12 manylinux; pure-Python sdists are built here):
WHEELS=(lm-eval==0.4.13 trl==1.16.0 datasets==5.2.0 evaluate==0.4.6 dill==0.4.1 multiprocess==0.70.19
        pytablewriter==1.2.1 DataProperty==1.1.1 mbstrdecoder==1.1.5 tabledata==1.3.5 tcolorpy==0.1.7 typepy==1.3.5
        chardet==6.0.0.post1 word2number==1.1 more-itertools==11.2.1 sqlitedict==2.1.0 rouge-score==0.1.2
        bitsandbytes)
set -uo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "prepare" ]; then
    set -e
    grep -qx '/.whl/' .git/info/exclude || echo /.whl/ >> .git/info/exclude
    grep -qx '/.gpu_data/' .git/info/exclude || echo /.gpu_data/ >> .git/info/exclude
    rm -rf .gpu_data && cp -r ../shared/data .gpu_data
    mkdir -p .whl
    for spec in "${WHEELS[@]}"; do
        python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
            --platform manylinux_2_28_x86_64 --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64 \
            --platform manylinux2014_x86_64 --platform any -d .whl "$spec" \
        || python3 -m pip wheel -q --no-deps -w .whl "$spec"  # a pure-Python sdist
    done
    du -sh .whl .gpu_data
    exit 0
fi

OUT="${OUT:-out}"; mkdir -p "$OUT"
exec > >(tee "$OUT/gpu_standing_order.log") 2>&1
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRACEKD_DATA_DIR="$PWD/.gpu_data"
nvidia-smi -L; python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0))"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=/tmp/site:$PWD:$PWD/tests || exit 1
python3 -m pip install -q --no-deps --no-build-isolation --target /tmp/site . >/dev/null || exit 1
step() { echo; echo "== $1 ($(date -u +%T))"; }

step "a random Llama of SmolLM2-135M's depth (30 layers, width 512)"
MODEL=/tmp/smol_shapes
python3 - <<'EOF' || exit 1
from tiny_model import build_tiny_model
from tracekd_ext.adapters import get_spec
from tracekd_ext.trace_format import render_prompt, render_target
from data_paths import DATA
spec = get_spec("cotemp")
corpus = [render_prompt(p, spec, instruction=True) + render_target(p, spec, "correct") for p in spec.load(DATA, "train")[:300]]
build_tiny_model("/tmp/smol_shapes", corpus, hidden=512, layers=30, vocab=4000)  # 2 heads of 256
EOF

EVAL=(--tasks trace_qa --limit 100 --batch_size 32 --gen_kwargs max_gen_toks=128 --log_samples)
step "trace_qa through hf"
timeout 240 python3 -m tracekd_ext eval --model hf --model_args "pretrained=$MODEL,dtype=bfloat16" "${EVAL[@]}" \
    --output_path "$OUT/hf" > "$OUT/hf.log" 2>&1; echo "hf exit $?"; tail -25 "$OUT/hf.log"
if python3 -c "import vllm" 2>/dev/null; then
    step "trace_qa through vllm"
    timeout 300 python3 -m tracekd_ext eval --model vllm --model_args "pretrained=$MODEL,dtype=bfloat16,gpu_memory_utilization=0.5" \
        "${EVAL[@]}" --output_path "$OUT/vllm" > "$OUT/vllm.log" 2>&1; echo "vllm exit $?"; tail -25 "$OUT/vllm.log"
    python3 bench/compare_generations.py "$OUT/hf" "$OUT/vllm" | tee "$OUT/compare.txt"
else
    step "vllm: not installed on this machine (its CUDA wheel does not fit the 64 MiB carry limit); hf only"
fi

step "LoRA SFT throughput (bench/gpu_train_check.py)"
timeout 240 python3 bench/gpu_train_check.py --steps 10 --warmup 2 --out "$OUT"; echo "gpu_train_check exit $?"
step "QLoRA: one tracekd_train step with --load_in_4bit"
TRAIN=(--model_name_or_path "$MODEL" --data-dir "$TRACEKD_DATA_DIR" --limit 8 --max-steps 2 --per-device-train-batch-size 4
       --gradient-accumulation-steps 1 --logging-steps 1 --max-length 2048)
timeout 180 python3 -m tracekd_train "${TRAIN[@]}" --output-dir /tmp/qlora --load_in_4bit true --optim paged_adamw_8bit; echo "qlora exit $?"
[ -f /tmp/qlora/run.json ] && python3 -c "import json; c=json.load(open('/tmp/qlora/run.json')); print(c['method'], c['training']['loss_history'])"

if [ "$(nvidia-smi -L | wc -l)" -ge 2 ]; then
    step "two processes (accelerate launch --multi_gpu)"
    timeout 240 accelerate launch --multi_gpu --num_processes 2 -m tracekd_ext eval --model hf \
        --model_args "pretrained=$MODEL,dtype=bfloat16" --tasks cotemp_trace --limit 100 --batch_size 32 \
        --gen_kwargs max_gen_toks=128 --log_samples --output_path "$OUT/dp" > "$OUT/dp.log" 2>&1; echo "dp eval exit $?"
    python3 bench/compare_generations.py "$OUT/hf" "$OUT/dp" | tee -a "$OUT/compare.txt"
    timeout 180 accelerate launch --multi_gpu --num_processes 2 -m tracekd_train "${TRAIN[@]}" --output-dir /tmp/ddp
    echo "ddp train exit $?"
else
    step "one GPU: no two-process launch"
fi
