"""Free-form judging on hand-written outputs: final-answer convention, reasoning, unit citations under paraphrase,
reordering, date formats and partial restatement, the label named in words, hallucinated facts, the answer rule,
and the explanation rows the report's browser shows."""

from __future__ import annotations

import pytest

from tracekd_ext.adapters import get_spec
from tracekd_ext.errors import TracekdError
from tracekd_ext.free_form.match import dates_of, judge_label, judge_steps
from tracekd_ext.free_form.parse import parse_free
from tracekd_ext.free_form.score import explain_free, judge_free, score_free
from tracekd_ext.metrics import sample_values
from tracekd_ext.record import Problem

COTEMP = get_spec("cotemp")
BABI = get_spec("babi")
FACTS = ("Ann Lee works for Acme Corp from March 3, 2001 to 2005.",
         "Ann Lee works for Zeta Ltd from 1990 to 1995.",
         "Bob Ray works for Acme Corp from 2002 to June 2003.",
         "Cy Dee works for Acme Corp in 1999.")
PROBLEM = Problem("cotemp/overlap/1", "cotemp", FACTS, "While Ann Lee was working for Acme Corp, who else worked "
                  "for Acme Corp at the same time?", "overlap", (2,), ("Bob Ray",),
                  {"triple_element": "S2_R1_O1", "index": 1})
STORY = ("Mary went to the kitchen.", "John picked up the milk.", "Mary travelled to the garden.")
BABI_PROBLEM = Problem("babi/qa1/test/x", "babi", STORY, "Where is Mary?", "single-supporting-fact", (2,),
                       ("garden",), {"task": 1})


@pytest.mark.parametrize(("generation", "answer", "source"), [
    ("Some reasoning.\nAnswer: Bob Ray", "Bob Ray", "line"),
    ("Some reasoning.\n**Final Answer:** Bob Ray.", "Bob Ray", "line"),
    ("Some reasoning.\nAnswer:\n  Bob Ray", "Bob Ray", "line"),
    ("So the result is \\boxed{\\text{Bob Ray}}.", "Bob Ray", "boxed"),
    ("Answer: Cy Dee\nOn reflection, \\boxed{Bob {Ray}}", "Bob {Ray}", "boxed"),
    ("I think the answer is Bob Ray.", "Bob Ray", "phrase"),
    ("<think>Answer: Cy Dee, no.</think>\nAnswer: Bob Ray", "Bob Ray", "line"),
])
def test_final_answer_convention(generation, answer, source):
    parsed = parse_free(generation)
    assert (parsed.answer, parsed.answer_source) == (answer, source)


@pytest.mark.parametrize("generation", ["", None, 42, "just words", "<think>Answer: Bob Ray", "\\boxed{Bob",
                                        "The answer is:\nAnswer:\n\nThe answer is:\n"])
def test_no_final_answer_is_a_parse_failure_never_a_crash(generation):
    s = score_free(PROBLEM, generation, COTEMP)
    assert not s.parse_ok and not s.answer_correct


def test_reasoning_is_the_think_block_else_the_text_before_the_answer():
    assert parse_free("<think>thoughts</think> after\nAnswer: x").reasoning == "thoughts"
    assert parse_free("thoughts</think>\nAnswer: x").reasoning == "thoughts"  # the template opened the block
    assert parse_free("thoughts here\nAnswer: x").reasoning == "thoughts here"
    truncated = parse_free("<think>still thinking")
    assert truncated.reasoning == "still thinking" and truncated.answer is None


@pytest.mark.parametrize("text, expected", [
    ("March 3, 2001", [(2001, 3)]), ("3 March 2001", [(2001, 3)]), ("Mar. 2001", [(2001, 3)]),
    ("2001-03-03", [(2001, None)]), ("03/2001", [(2001, None)]), ("in 2001", [(2001, None)]),
    ("1995-2005", [(1995, None), (2005, None)]), ("1995\u20132005", [(1995, None), (2005, None)]),
    ("9999 and 12", []),
])
def test_dates_in_any_common_format(text, expected):
    assert dates_of(text) == expected


@pytest.mark.parametrize("reasoning", [
    "Bob Ray works for Acme Corp from 2002 to June 2003.",                 # verbatim
    "From 2002 until June 2003, Bob Ray was employed at Acme.",            # reordered, paraphrased
    "Bob Ray (Acme Corp, 2002-2003) overlaps.",                            # partial restatement
    "Acme also had Bob Ray on staff in 2002.",                             # one year is enough
    "Ray joined Acme Corp in 2002.",                                       # surname only
])
def test_a_unit_is_cited_by_its_content(reasoning):
    assert judge_steps(FACTS, PROBLEM.question, reasoning).cited == (2,)


@pytest.mark.parametrize("reasoning", [
    "Bob Ray works for Acme Corp.",                   # no time: naming the answer is not stating the fact
    "Bob Ray works for Acme Corp from 2010 to 2012.",  # wrong time
    "Someone worked for Acme Corp in 2002.",          # the time alone does not say which unit
])
def test_a_unit_is_not_cited_without_its_identifying_content(reasoning):
    assert judge_steps(FACTS, PROBLEM.question, reasoning).cited == ()


def test_a_clause_without_dates_borrows_its_sentences():
    text = "Ann Lee was at Zeta Ltd and Cy Dee was at Acme Corp in 1990 and 1999."
    steps = judge_steps(FACTS, PROBLEM.question, text)
    assert steps.cited == (1, 3)


def test_several_units_in_one_sentence_and_order_does_not_matter():
    text = "Cy Dee (Acme, 1999); Bob Ray at Acme Corp from 2002 to 2003; Ann Lee at Acme from March 2001 to 2005."
    assert judge_steps(FACTS, PROBLEM.question, text).cited == (0, 2, 3)


@pytest.mark.parametrize(("reasoning", "hallucinated"), [
    ("Bob Ray works for Acme Corp from 2002 to 2003.", False),
    ("Bob Ray works for Acme Corp from 2010 to 2012.", True),        # invented dates
    ("Bob Ray worked for Acme Corp in 1990.", True),                # another unit's date for this entity
    ("Dan Fox worked for Initech in 2002.", True),                   # an entity the context never names
    ("Both periods include 2002, so they overlap.", False),          # reasoning about dates asserts no fact
])
def test_hallucinated_statements(reasoning, hallucinated):
    assert judge_steps(FACTS, PROBLEM.question, reasoning).hallucinated is hallucinated


def test_hallucinated_is_undefined_without_dates():
    assert judge_steps(STORY, "Where is Mary?", "Mary went to the garden.").hallucinated is None


@pytest.mark.parametrize(("reasoning", "label"), [
    ("The temporal relation between the event in question and the event in context is: overlap.", "overlap"),
    ("The two jobs share some years, so this is an overlapping relation.", "overlap"),
    ("The relation is not equal but during.", "during"),
    ("The relation is a mix of overlap and equal.", "mix"),
    ("The relation could be equal, overlap, during or mix.", None),   # the options, not a choice
    ("During 2002 both worked there.", None),                         # no cue word: no classification
    ("That is an overlap of the event in question and the event in context.", "overlap"),  # the prompt's words
    ("First I thought the relation was equal. Then: the relation is overlap.", "overlap"),  # the last one
])
def test_label_named_in_words(reasoning, label):
    assert judge_label(COTEMP, reasoning)[0] == label


def test_label_is_not_scored_for_datasets_without_phrases():
    s = score_free(BABI_PROBLEM, "Mary travelled to the garden.\nAnswer: garden", BABI)
    assert s.cls_correct is None and s.pred_label is None
    assert s.trace_correct is s.ret_correct is True and s.answer_correct
    assert "cls_acc" not in sample_values(s, "free") and sample_values(s, "free")["cls_answer_phi"] is None


def test_undated_units_are_cited_by_name():
    text = "Mary moved to the garden afterwards. John picked the milk up. Mary is somewhere."
    steps = judge_steps(STORY, "Where is Mary?", text)
    assert steps.cited == (1, 2)


def test_a_whole_free_form_score():
    generation = ("<think>Ann Lee was at Acme Corp from March 2001 to 2005. Bob Ray worked at Acme from 2002 to "
                  "June 2003, which lies inside that. So the relation is overlap.</think>\nAnswer: Bob Ray")
    s = score_free(PROBLEM, generation, COTEMP)
    assert s.parse_ok and s.cls_correct and s.pred_label == "overlap"
    assert s.cited == (0, 2) and s.ret_correct is False and s.ret_recall == 1.0 and s.ret_precision == 0.5
    assert s.answer_correct and s.answer_items == ("bob ray",) and s.grounded and s.hallucinated is False
    values = sample_values(s, "free")
    assert values["hallucinated"] == 0 and values["trace_answer_phi"] == [0, 1]


def test_explanation_rows_name_the_evidence():
    generation = "Bob Ray was at Acme Corp in 2002. He was also at Initech in 2004.\nAnswer: Bob Ray"
    judged = judge_free(PROBLEM, generation, COTEMP)
    rows = dict(explain_free(PROBLEM, judged, COTEMP))
    assert set(rows) == {"format", "CLS", "IR", "trace", "answer", "grounded", "hallucinated"}
    assert "an Answer: line" in rows["format"] and "no sentence names a label" in rows["CLS"]
    assert '[2] by "Bob Ray was at Acme Corp in 2002"' in rows["IR"] and "correct" in rows["IR"]
    assert "Initech" in rows["hallucinated"] and rows["hallucinated"].startswith("yes")


def test_paper_mode_does_not_apply():
    with pytest.raises(TracekdError, match="one rule set"):
        score_free(PROBLEM, "Answer: Bob Ray", COTEMP, "paper")


def test_the_report_browser_explains_free_items(tmp_path):
    """A predictions file re-scored as cotemp_free reaches the sample browser with the free-form reasons."""
    import json

    from tracekd_ext.report.browser_data import browser_part
    from tracekd_ext.rescore import load_scored

    row = {"question": PROBLEM.question, "facts": list(FACTS), "answer": ["Bob Ray"],
           "triple_element": "S2_R1_O1", "label": "overlap",
           "prediction": "The relation is overlap. Bob Ray was at Acme Corp in 2002.\nAnswer: Bob Ray"}
    path = tmp_path / "preds.jsonl"
    path.write_text(json.dumps(row) + "\n")
    scored = load_scored(path, "cotemp_free")
    assert scored.kind == "free" and scored.items[0].score.cited == (2,)
    sample = json.loads(browser_part(scored).samples_json)[0]
    why = dict(sample["w"])
    assert sample["pl"] == "overlap" and sample["ci"] == [2] and "hallucinated" in why
    assert '[2] by "Bob Ray was at Acme Corp in 2002"' in why["IR"]
