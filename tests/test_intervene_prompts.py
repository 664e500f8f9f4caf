"""The rendered prompt of every intervention condition, through lm-eval's own request construction
(``build_all_requests`` with few-shot examples and ``HFLM.apply_chat_template``): without a chat template,
with a Llama-3-style template and with a ChatML/Qwen3-style template that moves the think block into its
own layout. Every prompt ends with the condition's forced prefix and has no end-of-turn token after it."""

from __future__ import annotations

from functools import partial
from types import SimpleNamespace

import pytest

from tracekd_ext.interventions.conditions import CONDITIONS
from tracekd_ext.task_registry import tasks_dir

LLAMA3 = (
    "{{- bos_token }}{%- for message in messages %}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] | trim"
    " + '<|eot_id|>' }}"
    "{%- endfor %}{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{%- endif %}"
)
# Qwen3's convention, re-stated: the last assistant turn's text before </think> becomes a
# "<think>\n...\n</think>\n\n" block; earlier assistant turns lose their think block.
QWEN3 = (
    "{%- for message in messages %}{%- if message.role == 'assistant' %}"
    "{%- set content = message.content %}{%- set reasoning = '' %}"
    "{%- if '</think>' in content %}"
    "{%- set reasoning = content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n') %}"
    "{%- set content = content.split('</think>')[-1].lstrip('\n') %}{%- endif %}"
    "{%- if loop.last %}{{- '<|im_start|>assistant\n<think>\n' + reasoning.strip('\n') + '\n</think>\n\n' + content }}"
    "{%- else %}{{- '<|im_start|>assistant\n' + content }}{%- endif %}{{- '<|im_end|>\n' }}"
    "{%- else %}{{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>\n' }}{%- endif %}"
    "{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\n' }}{%- endif %}"
)
END_OF_TURN = {"llama3": "<|eot_id|>", "qwen3": "<|im_end|>", None: None}


def chat_lm(template: str):
    """An object with what lm-eval's HFLM.apply_chat_template reads: a tokenizer carrying the template."""
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast

    tok = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.WordLevel({"<unk>": 0}, unk_token="<unk>")),
                                  bos_token="<|begin_of_text|>", unk_token="<unk>", chat_template=template)
    return SimpleNamespace(tokenizer=tok, chat_template_args={})


def requests(condition: str, template: str | None, metadata: dict | None = None, shots: int = 1):
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager, get_task_dict

    manager = TaskManager(include_path=tasks_dir(), include_defaults=False, metadata=metadata)
    task = get_task_dict([f"cotemp_synth_intervene_{condition}"], manager)[f"cotemp_synth_intervene_{condition}"]
    task.set_config(key="num_fewshot", value=shots)
    chat = None if template is None else partial(HFLM.apply_chat_template, chat_lm(template))
    task.build_all_requests(limit=2, apply_chat_template=chat is not None, fewshot_as_multiturn=chat is not None,
                            chat_template=chat, system_instruction="Be careful.")
    return [(inst.doc, inst.arguments[0]) for inst in task.instances]


@pytest.mark.parametrize("condition", list(CONDITIONS))
@pytest.mark.parametrize("style", [None, "llama3", "qwen3"])
def test_prompt_ends_with_the_forced_prefix(condition, style):
    template = {"llama3": LLAMA3, "qwen3": QWEN3, None: None}[style]
    metadata = {"think_layout": "block"} if style == "qwen3" else None
    built = requests(condition, template, metadata)
    assert len(built) == 2
    for doc, context in built:
        prefix = doc["gen_prefix"]
        assert prefix.endswith("<answer>") and doc["condition"] == condition
        assert context.endswith(prefix), context[-300:]
        if style is not None:
            assert END_OF_TURN[style] not in context[context.rindex(prefix):]
            assert context.count(END_OF_TURN[style]) >= 3  # system, few-shot turns, user: all closed
        # the few-shot example shows a whole gold trace, not the forced prefix followed by a trace
        shown = context[: context.rindex(prefix)]
        if style != "qwen3":  # Qwen3's template drops earlier turns' think blocks
            traces = shown.count("</think> <answer>") - shown.count("</think> <answer>{answer}")  # minus instructions
            assert traces == 1  # one whole gold trace, not the forced prefix followed by a trace
            assert style is None or f"</answer>{END_OF_TURN[style]}" in shown


def test_forced_prefixes_of_the_conditions(data_dir):
    from tracekd_ext.adapters import get_spec
    from tracekd_ext.interventions.conditions import force

    spec = get_spec("synth")
    problem = spec.load(None, "test", size=5)[0]
    gold = force(problem, spec, "gold").prefix
    assert gold == spec.cls_sentence.format(label=problem.label).join(["<think>", ""]) + spec.ir_intro + repr(
        problem.support_units) + "</think> <answer>"
    assert force(problem, spec, "no_trace").prefix == "<think></think> <answer>"
    assert force(problem, spec, "cls_only").prefix == f"<think>{spec.cls_sentence.format(label=problem.label)}" \
                                                      "</think> <answer>"
    assert force(problem, spec, "gold", layout="block").prefix.startswith("<think>\nThe temporal")
    assert force(problem, spec, "gold", layout="block").prefix.endswith("']\n</think>\n\n <answer>")


def test_inline_prefix_with_a_qwen3_template_is_refused_by_transformers():
    """The documented reason for think_layout=block: the template rewrites an inline think block, so
    transformers cannot continue the final message."""
    with pytest.raises(ValueError, match="final message"):
        requests("gold", QWEN3, shots=0)
