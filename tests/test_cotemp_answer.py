"""CoTemp QA answer rules: the official matching (both orientations), its defects, and strict scoring."""

from __future__ import annotations

import pytest

from tracekd_ext.adapters.cotemp_answer import (
    fact_entities,
    official_score,
    score_cotemp_answer,
    strict_score,
    takes_subject,
)
from tracekd_ext.answer_rules import paper_answer_span

FACTS = (
    "Ann Lee holds the position of United Nations Secretary-General from 2001 to 2005.",
    "Ann Lee works for United Nations from 2002 to 2004.",
    "Ann Lee works for Acme Corp in 1990.",
    "Bob Ray worked for United Nations from 1999 to 2003.",
)
QUESTION = ("While Ann Lee was holding the position of United Nations Secretary-General, "
            "which employer did Ann Lee work for within the same time interval?")


def test_orientations_follow_the_triple_element():
    assert takes_subject("S1_R1_O2", "original") is False
    assert takes_subject("S2_R1_O1", "original") is True
    assert takes_subject("S1_R2_O2", "original") is True
    # the paper's code inverted the test: subjects unless S2_R1_O1
    assert takes_subject("S1_R1_O2", "paper") is True
    assert takes_subject("S2_R1_O1", "paper") is False


def test_fact_entities_reads_both_sides_and_past_tense():
    assert fact_entities(FACTS, False) == ("united nations secretary-general", "united nations", "acme corp",
                                          "united nations")
    assert fact_entities(FACTS, True) == ("ann lee",) * 3 + ("bob ray",)


def test_official_rule_deletes_a_gold_answer_contained_in_the_question_entity():
    golds = ("United Nations",)
    assert not official_score(paper_answer_span("United Nations"), golds, QUESTION, FACTS, subject=False).correct
    assert strict_score("United Nations", golds, QUESTION, FACTS, subject=False).correct
    assert strict_score("It was the United Nations.", golds, QUESTION, FACTS, subject=False).correct


def test_strict_skips_the_question_entity_when_echoed():
    golds = ("United Nations",)
    text = "While at United Nations Secretary-General, Ann Lee worked for United Nations."
    assert strict_score(text, golds, QUESTION, FACTS, subject=False).correct


def test_strict_reads_list_literals_as_sets_with_nfkc():
    golds = ("Carl\u00a0Gustaf", "Acme Corp")
    assert strict_score("['acme corp', 'Carl Gustaf']", golds, "q?", FACTS, False).correct
    assert strict_score(repr(list(golds)), golds, "q?", FACTS, False).correct
    half = strict_score("['Acme Corp']", golds, "q?", FACTS, False)
    assert not half.correct and half.f1 == pytest.approx(2 / 3)


def test_longer_entities_are_consumed_before_shorter_ones():
    golds = ("United Nations Secretary-General",)
    s = strict_score("United Nations Secretary-General", golds, "Which position did Ann Lee hold?", FACTS, False)
    assert s.correct and s.items == ("united nations secretarygeneral",)


def test_paper_mode_uses_the_inverted_orientation():
    facts = ("Ann Lee works for Acme Corp from 2001 to 2005.", "Bob Ray works for Acme Corp from 2002 to 2003.",
             "Cy Dee works for Acme Corp from 1980 to 1985.")
    question = "While Ann Lee worked for Acme Corp, who also worked for Acme Corp?"
    answer = "Bob Ray and Cy Dee"  # one right person, one wrong one
    # S2_R1_O1: the original orientation reads subjects, so the wrong person counts against the answer;
    # the paper's inverted rule reads objects and never sees him.
    assert not score_cotemp_answer(answer, ("Bob Ray",), question, facts, "S2_R1_O1", "strict").correct
    assert score_cotemp_answer(paper_answer_span(answer), ("Bob Ray",), question, facts, "S2_R1_O1", "paper").correct
