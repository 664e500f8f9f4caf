"""The published answer rule (Trace_Check_QA ``evaluate_model``), branch by branch, from hand-made
generations. Every expectation is worked out by hand from the rule as SPEC 5 states it."""

from __future__ import annotations

import pytest

from tracekd_ext.adapters import babi, get_spec
from tracekd_ext.adapters.cotemp_answer import fact_pairs, official_score
from tracekd_ext.answer_rules import paper_answer_span, paper_list_score
from tracekd_ext.record import Problem
from tracekd_ext.scoring import score
from tracekd_ext.trace_parse import parse

COTEMP = get_spec("cotemp")
FACTS = (
    "Ann Lee works for Acme Corp from 2001 to 2005.",
    "Bob Ray works for Acme Corp from 2002 to 2003.",
    "Cy Dee works for Zeta Ltd in 1990.",
)
QUESTION = "While Ann Lee was working for Acme Corp, who also worked for Acme Corp?"


def cotemp_problem(answers=("Bob Ray",), facts=FACTS, question=QUESTION, triple="S1_R1_O2") -> Problem:
    # paper orientation: subjects unless the triple holds S2_R1_O1 (S1_R1_O2 -> subjects)
    return Problem("cotemp/x", "cotemp", facts, question, "equal", (0,), answers, {"triple_element": triple})


def paper(problem: Problem, generation: str, kind: str = "trace"):
    return score(problem, parse(generation), get_spec(problem.dataset), "paper", kind)


# --- 1. extraction cascade -------------------------------------------------------------------------------

@pytest.mark.parametrize(("generation", "span"), [
    # <answer>: up to the next </answer>, or to the end
    ("<think>x</think> <answer>Bob Ray</answer> and more", "bob ray"),
    ("<think>x</think> <answer>Bob Ray", "bob ray"),
    # <answer> wins over every later rule
    ("<answer>Bob</answer> Answer the question based on the context", "bob"),
    # the prompt echoed back: the text before it
    ("Bob Ray\nAnswer the question based on the context: ...", "bob ray\n"),
    # ' answer ': between its first and second occurrence
    ("The answer is Bob Ray. That answer is final.", "is bob ray. that"),
    ("My answer is Bob Ray.", "is bob ray."),
    # 'answer:' (no ' answer ' with spaces on both sides): between its first and second occurrence
    ("Answer: Bob Ray", " bob ray"),
    ("Answer:Bob answer:Ray", "bob "),
    # none of them (answer-only models): the whole text
    ("Bob Ray", "bob ray"),
])
def test_extraction_cascade(generation, span):
    assert paper_answer_span(generation) == span


@pytest.mark.parametrize(("generation", "span"), [
    ("<answer>Assistant Professor of Law</answer>", " professor of law"),  # inside an entity too
    ("assistant\n\nBob Ray", "\n\nbob ray"),
    ("<think>Bob</think> Ray", "<>bob</> ray"),  # no <answer>: the tags lose 'think' and leave '<>'
    ("asthinksistant", "assistant"),  # 'assistant' is deleted first, then 'think'
])
def test_assistant_then_think_are_deleted_everywhere(generation, span):
    assert paper_answer_span(generation) == span


# --- 2. candidate entities from the facts ----------------------------------------------------------------

def test_templates_span_point_open_and_bare():
    facts = ("Ann Lee works for Acme Corp from 2001 to 2005.",   # span
             "Bob Ray attended Oxford in 1990.",                  # point
             "Cy Dee plays for Reds from 2001",                   # open span only (no 'to', no final '.')
             "Di Fox is owned by Gamma Inc.")                     # bare only (no from/in)
    assert fact_pairs(facts) == (("ann lee", "acme corp"), ("bob ray", "oxford"), ("cy dee", "reds"),
                                 ("di fox", "gamma inc"))


def test_past_tense_is_made_present_before_the_templates():
    assert fact_pairs(("Ann Lee worked for Acme Corp in 2001.", "Bob Ray held the position of mayor in 1990.",
                       "Cy Dee played for Reds in 2001.")) == (("ann lee", "acme corp"), ("bob ray", "mayor"),
                                                               ("cy dee", "reds"))


def test_marker_order_decides_the_relation():
    # ' owned by ' comes before 'play' in the published order
    assert fact_pairs(("Acme Corp is owned by Bob who plays for Reds in 2001.",)) == \
        (("acme corp", "bob who plays for reds"),)


def test_a_marker_whose_templates_fail_falls_through_to_the_next_marker_present():
    # ' the position of ' is present but no 'holds the position of' template matches; 'work' is tried next,
    # on the fact already turned into the present tense ('was' -> 'is', 'worked' -> 'works')
    fact = "Bob was a fan of the position of mayor and worked for Acme Corp in 2001."
    assert fact_pairs((fact,)) == (("bob is a fan of the position of mayor and", "acme corp"),)


def test_markers_are_case_sensitive_on_the_fact_as_written():
    assert fact_pairs(("Ann Lee Works For Acme Corp in 2001.",)) == ()


# --- 3. matching and comparison --------------------------------------------------------------------------

def test_candidates_found_in_the_span_are_the_prediction():
    assert paper(cotemp_problem(), "<think>x</think> <answer>['Bob Ray']</answer>").answer_correct
    assert not paper(cotemp_problem(), "<think>x</think> <answer>Bob Ray and Cy Dee</answer>").answer_correct


def test_the_first_candidate_also_in_the_question_is_dropped():
    # 'ann lee' is in the question: dropped once; 'bob ray' is predicted
    assert paper(cotemp_problem(), "Ann Lee and Bob Ray").answer_correct
    # nothing found: the remaining span is the prediction
    result = official_score("nobody", ("Bob Ray",), QUESTION, FACTS, subject=True)
    assert not result.correct and result.items == ("nobody",)


def test_deduplication_before_normalisation_makes_lists_unequal():
    # two golds that normalise alike: gold list ['fc porto', 'fc porto'] against ['fc porto']
    assert paper_list_score(["fc porto"], ["f.c. porto", "fc porto"]).correct is False
    assert paper_list_score(["f.c. porto", "fc porto"], ["fc porto"]).correct is False
    assert paper_list_score(["fc porto", "fc porto"], ["fc porto"]).correct is True  # equal strings: set() first
    facts = ("Ann Lee plays for F.C. Porto in 2001.", "Bob Ray plays for FC Porto in 2001.")
    problem = cotemp_problem(("FC Porto",), facts, "Which team?", "S2_R1_O1")  # objects
    assert paper(problem, "FC Porto").answer_correct
    assert not paper(problem, "F.C. Porto, FC Porto").answer_correct  # both spellings found: two items


def test_escaped_quote_inside_a_list_literal():
    problem = cotemp_problem(("Catholic People's Party",), ("Ann Lee is a member of the Catholic People's Party "
                                                             "from 1990 to 1995.",), "Which party?", "S2_R1_O1")
    generation = "<think>x</think> <answer>['Catholic People\\'s Party']</answer>"
    # paper: the candidate is not in "['catholic people\\'s party']" (backslash), so the whole span is the
    # prediction, and normalising it (punctuation removed) gives the gold
    assert paper(problem, generation).answer_correct
    assert score(problem, parse(generation), COTEMP, "strict").answer_correct  # strict reads the literal


def test_unclosed_think():
    generation = "<think>The answer: Bob Ray"
    result = paper(cotemp_problem(), generation)
    assert not result.evaluated  # nothing before a '</think>': no trace to score
    assert result.answer_correct  # span ' bob ray' (after 'answer:'); 'think' deleted from '<think>the'


# --- 5. every task kind, answer-only generations ---------------------------------------------------------

@pytest.mark.parametrize("kind", ["trace", "direct"])
def test_answer_only_generations_go_through_the_same_cascade(kind):
    assert paper(cotemp_problem(), "assistant\n\nBob Ray", kind).answer_correct
    assert paper(cotemp_problem(), "Bob Ray", kind).answer_correct
    assert not paper(cotemp_problem(), "Zed", kind).answer_correct


# --- 4. bAbI: substring gate, then exact match -----------------------------------------------------------

def _babi_problem(answer: str = "kitchen", task: int = 1) -> Problem:
    text = f"1 Mary went to the {answer}.\n2 Where is Mary?\t{answer}\t1\n"
    return babi.problems_from_text(text, task, "test")[0]


@pytest.mark.parametrize(("generation", "correct"), [
    ("kitchen", True),
    ("Kitchen.", True),                              # normalised: lower case, no punctuation
    ("assistant\n\nkitchen", True),                  # 'assistant' deleted
    ("<think>x</think> <answer>kitchen</answer>", True),
    ("the kitchen", False),                          # gate passes, but articles are kept: not equal
    ("bathroom", False),                             # gate fails
    ("kitchen-ish", False),
])
def test_babi_gate_then_exact_match(generation, correct):
    result = paper(_babi_problem(), generation, "direct")
    assert result.answer_correct is correct
    assert result.answer_f1 == (1.0 if correct else 0.0)


def test_babi_list_answers_use_the_raw_answer_string():
    lists = babi.problems_from_text("1 Mary got the milk.\n2 Mary got the apple.\n3 What is Mary carrying?"
                                    "\tmilk,apple\t1 2\n", 8, "test")[0]
    assert paper(lists, "milk,apple", "direct").answer_correct
    assert not paper(lists, "apple,milk", "direct").answer_correct  # gate: 'milk,apple' is not in it
