"""SFT dataset builder: every variant's targets round-trip through the scorer, prompts equal the task's,
seeds make datasets byte-identical, leakage and missing teacher traces are refused."""

from __future__ import annotations

import dataclasses
import json

import pytest
from train_helpers import data_dir

from tracekd_ext.adapters import get_spec
from tracekd_ext.errors import DataError, TracekdError
from tracekd_ext.harness.task_hooks import make_doc
from tracekd_ext.scoring import score
from tracekd_ext.trace_parse import parse
from tracekd_train.config import config_from_values
from tracekd_train.sft_data import BuildOptions, build_examples, build_sft_data, check_no_leakage
from tracekd_train.teacher import extract_from_samples, load_teacher_traces
from tracekd_train.teacher import main as teacher_main


@pytest.fixture(scope="module")
def spec():
    return get_spec("cotemp")


@pytest.fixture(scope="module")
def train_problems(spec):
    return spec.load(data_dir(), "train")


@pytest.fixture(scope="module")
def test_ids(spec):
    return [p.id for p in spec.load(data_dir(), "test")]


def scored(problems, spec, options, test_ids, kind="trace", teacher=None):
    examples, _ = build_examples(problems, spec, options, test_ids, teacher)
    return [(p, ex, score(p, parse(ex["completion"][0]["content"]), spec, "strict", kind))
            for p, ex in zip(problems, examples, strict=True)]


def test_correct_traces_score_all_steps_right(spec, train_problems, test_ids):
    for _, _, s in scored(train_problems[:200], spec, BuildOptions("correct"), test_ids):
        assert s.parse_ok and s.cls_correct and s.ret_correct and s.trace_correct and s.answer_correct


def test_cls_and_answer_variants_score_as_expected(spec, train_problems, test_ids):
    for _, _, s in scored(train_problems[:100], spec, BuildOptions("cls"), test_ids):
        assert s.cls_correct and s.answer_correct and not s.ret_correct
    for _, ex, s in scored(train_problems[:100], spec, BuildOptions("answer"), test_ids, kind="direct"):
        assert s.answer_correct and "<think>" not in ex["completion"][0]["content"]


@pytest.mark.parametrize("steps", [("cls", "ret"), ("cls",), ("ret",)])
def test_incorrect_traces_get_the_chosen_steps_wrong_and_the_answer_right(spec, train_problems, test_ids, steps):
    options = BuildOptions("incorrect", perturb_steps=steps)
    every_unit_gold = [p for p in train_problems if len(p.support) == len(p.units)]
    assert every_unit_gold  # the hard case for a wrong IR step is covered
    for _, _, s in scored(train_problems[:300] + every_unit_gold, spec, options, test_ids):
        assert s.parse_ok and s.answer_correct
        assert s.cls_correct is ("cls" not in steps)
        assert s.ret_correct is ("ret" not in steps)


def test_perturbation_probability_is_honoured(spec, train_problems, test_ids):
    problems = train_problems[:400]
    never = scored(problems, spec, BuildOptions("incorrect", perturb_probability=0.0), test_ids)
    assert all(s.trace_correct for _, _, s in never)
    half = scored(problems, spec, BuildOptions("incorrect", perturb_steps=("cls",), perturb_probability=0.5),
                  test_ids)
    wrong = sum(not s.cls_correct for _, _, s in half) / len(half)
    assert 0.4 < wrong < 0.6


def test_teacher_traces_wrap_the_gold_answer(spec, train_problems, test_ids):
    problems = train_problems[:5]
    teacher = {p.id: f"First I look at the facts about {p.question[:30]}." for p in problems}
    for problem, ex, s in scored(problems, spec, BuildOptions("teacher"), test_ids, teacher=teacher):
        assert parse(ex["completion"][0]["content"]).think == teacher[problem.id]
        assert s.answer_correct and not s.cls_correct


def test_prompts_equal_the_evaluating_tasks_prompts(spec, train_problems, test_ids):
    problem = train_problems[0]
    trace_doc, direct_doc = make_doc(problem, "trace", "strict", True), make_doc(problem, "direct", "strict", True)
    for variant, doc in (("correct", trace_doc), ("incorrect", trace_doc), ("cls", trace_doc),
                         ("answer", direct_doc)):
        example, _ = build_examples([problem], spec, BuildOptions(variant), test_ids)
        assert example[0]["prompt"] == [{"role": "user", "content": doc["prompt"]}]
    example, _ = build_examples([problem], spec, BuildOptions("correct", instruction=False), test_ids)
    assert example[0]["prompt"][0]["content"] == make_doc(problem, "trace", "strict", False)["prompt"]
    system = "You are Qwen, an AI assistant created to be helpful and honest."
    example, _ = build_examples([problem], spec, BuildOptions("correct", system_prompt=system), test_ids)
    assert example[0]["prompt"][0] == {"role": "system", "content": system}
    assert example[0]["completion"] == [{"role": "assistant", "content": trace_doc["target"]}]


def config(**values):
    return config_from_values({"model_name_or_path": "unused", "output_dir": "unused", "data_dir": str(data_dir()),
                               **values})


def test_seed_makes_datasets_byte_identical(train_problems):
    first = build_sft_data(config(variant="incorrect", seed=7))
    again = build_sft_data(config(variant="incorrect", seed=7))
    other = build_sft_data(config(variant="incorrect", seed=8))
    assert first.jsonl().encode() == again.jsonl().encode() and first.sha256() == again.sha256()
    assert other.sha256() != first.sha256()
    assert build_sft_data(config(variant="incorrect", seed=8, data_seed=7)).sha256() == first.sha256()
    assert len(first.examples) == len(train_problems) and not set(first.train_ids) & set(first.test_ids)


def test_leakage_check_fires_on_a_planted_test_id(monkeypatch, spec, train_problems, test_ids):
    with pytest.raises(TracekdError, match="1 test problem.*would enter training"):
        check_no_leakage([p.id for p in train_problems] + [test_ids[3]], test_ids)

    real_load = spec.load

    def leaky_load(data_dir, split, **options):
        problems = list(real_load(data_dir, split, **options))
        return problems + real_load(data_dir, "test", **options)[:1] if split == "train" else problems

    monkeypatch.setattr("tracekd_train.sft_data.get_spec", lambda name: dataclasses.replace(spec, load=leaky_load))
    with pytest.raises(TracekdError, match=f"first: {test_ids[0]}"):
        build_sft_data(config())


def test_unknown_variant_and_dataset_option_are_errors():
    with pytest.raises(TracekdError, match="unknown variant 'bogus'"):
        BuildOptions("bogus")
    with pytest.raises(TracekdError, match="has no option 'tasks'"):
        build_sft_data(config(dataset_options={"tasks": ["qa1"]}))


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_teacher_file_missing_ids_is_an_error_unless_allowed(tmp_path, train_problems):
    ids = [p.id for p in train_problems]
    traces = write_jsonl(tmp_path / "traces.jsonl", [{"id": i, "trace": "I compare the dates."} for i in ids[:-2]])
    with pytest.raises(TracekdError, match=f"lack 2 of {len(ids)} training problems \\(first: {ids[-2]}"):
        build_sft_data(config(variant="teacher", teacher_traces=str(traces)))
    data = build_sft_data(config(variant="teacher", teacher_traces=str(traces), teacher_allow_missing=True))
    assert len(data.examples) == len(ids) - 2 and data.dropped_ids == tuple(ids[-2:])


def test_teacher_file_errors_name_file_line_and_field(tmp_path):
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"id": "a", "trace": "ok"}, {"id": "b"}])
    with pytest.raises(DataError, match=r"bad.jsonl:2: field 'trace'"):
        load_teacher_traces(bad)
    dup = write_jsonl(tmp_path / "dup.jsonl", [{"id": "a", "trace": "x"}, {"id": "a", "trace": "y"}])
    with pytest.raises(DataError, match=r"dup.jsonl:2: field 'id': problem id 'a' appears twice"):
        load_teacher_traces(dup)
    tagged = write_jsonl(tmp_path / "tagged.jsonl", [{"id": "a", "trace": "<think>x</think>"}])
    with pytest.raises(DataError, match="contains <think>"):
        load_teacher_traces(tagged)


def test_teacher_traces_from_an_lm_eval_samples_file(tmp_path, capsys):
    rows = [
        {"doc": {"id": "cotemp/equal/0"}, "filtered_resps": ["<think>The facts overlap.</think> <answer>A</answer>"]},
        {"doc": {"id": "cotemp/equal/2"}, "filtered_resps": [["Okay, so the question asks...</think>\n['B']"]]},
        {"doc": {"id": "cotemp/equal/3"}, "filtered_resps": ["no reasoning, just ['C']"]},
    ]
    samples = write_jsonl(tmp_path / "samples_cotemp_trace_2026.jsonl", rows)
    found, skipped = extract_from_samples(samples)
    assert [r["id"] for r in found] == ["cotemp/equal/0", "cotemp/equal/2"] and skipped == ["cotemp/equal/3"]
    assert load_teacher_traces(samples) == {"cotemp/equal/0": "The facts overlap.",
                                            "cotemp/equal/2": "Okay, so the question asks..."}
    out = tmp_path / "traces.jsonl"
    assert teacher_main([str(samples), "--out", str(out)]) == 0
    assert "wrote 2 teacher traces" in capsys.readouterr().out
    assert load_teacher_traces(out) == load_teacher_traces(samples)
    no_doc = write_jsonl(tmp_path / "other.jsonl", [{"doc": {"question": "?"}, "filtered_resps": ["x"]}])
    with pytest.raises(DataError, match="field 'doc.id'"):
        extract_from_samples(no_doc)
