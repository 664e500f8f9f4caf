"""Regenerate the model-written traces of the free-form validation set (tests/data/free_form_model_traces.jsonl).

SmolLM2-135M-Instruct (the embedded default model), greedy, 160 new tokens, prompted with the free tasks' own
prompt (``tracekd_ext.free_form.format.render_free_prompt``) through its chat template, on problems of the synthetic
test split and CoTemp test problems (every 10th of the local copy's test split), alternating in batches of 8;
each batch is appended to OUT as it is done. The labelled set holds the first 56 (seven batches: the run was
stopped there for time, on a CPU shared with other work); its labels were written by reading these generations.

    python tests/data/free_form_generate.py [OUT]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from tracekd_ext.adapters import get_spec
from tracekd_ext.demo.default_model import ensure_default_model
from tracekd_ext.free_form.format import render_free_prompt

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1].parent / "shared" / "data"
NEW_TOKENS, BATCH = 160, 8


def problems():
    synth = get_spec("synth").load(None, "test")[:48]
    cotemp = get_spec("cotemp").load(str(DATA), "test")[::10][:48]
    return [p for start in range(0, 48, BATCH // 2) for p in (*synth[start:start + BATCH // 2],
                                                             *cotemp[start:start + BATCH // 2])]


def main(out: Path) -> None:
    torch.set_num_threads(1)
    folder = ensure_default_model()
    tokenizer = AutoTokenizer.from_pretrained(folder, padding_side="left")
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    done = 0
    chosen = problems()
    out.write_text("", encoding="utf-8")
    for start in range(0, len(chosen), BATCH):
        batch = chosen[start:start + BATCH]
        turns = [[{"role": "user", "content": render_free_prompt(p, get_spec(p.dataset))}] for p in batch]
        prompts = [tokenizer.apply_chat_template(turn, tokenize=False, add_generation_prompt=True) for turn in turns]
        enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.inference_mode():
            out_ids = model.generate(**enc, max_new_tokens=NEW_TOKENS, do_sample=False)
        rows = [{"id": p.id, "record": p.to_dict(), "source": f"SmolLM2-135M-Instruct greedy {NEW_TOKENS}",
                 "generation": tokenizer.decode(ids, skip_special_tokens=True)}
                for p, ids in zip(batch, out_ids[:, enc["input_ids"].shape[1]:], strict=True)]
        with out.open("a", encoding="utf-8") as handle:
            handle.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        done += len(rows)
        print(f"{done}/{len(chosen)}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "free_form_model_traces.jsonl")
