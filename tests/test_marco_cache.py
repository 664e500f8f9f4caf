"""The MS MARCO hub sample is streamed once and then read from the user cache (issue 9, section 8). The hub
cannot be reached here: a fake streaming source stands in for ``datasets.load_dataset`` and counts rows."""

from __future__ import annotations

import datasets
import pytest

from tracekd_ext.adapters import marco

ROWS_PER_SPLIT = 3000


def fake_row(split: str, i: int) -> dict:
    return {"query": f"question {i}?", "query_id": (0 if split == "train" else 10_000_000) + i,
            "query_type": marco.QUERY_TYPES[i % 5], "answers": [f"answer {i}"],
            "wellFormedAnswers": [], "passages": {"passage_text": [f"answer {i} is here", "other text"],
                                                  "is_selected": [1, 0], "url": ["u1", "u2"]}}


@pytest.fixture
def fake_hub(monkeypatch, tmp_path):
    """``{"read": {split: rows yielded}, "opened": [splits]}`` of a fake hub; the cache lives in tmp_path."""
    monkeypatch.setenv("TRACEKD_CACHE_DIR", str(tmp_path / "cache"))
    stats = {"read": {}, "opened": []}

    def load_dataset(path, name=None, *, split, streaming=False, **_):
        assert (path, name, streaming) == (marco.HUB_ID, marco.HUB_CONFIG, True)
        stats["opened"].append(split)
        for i in range(ROWS_PER_SPLIT):
            stats["read"][split] = stats["read"].get(split, 0) + 1
            yield fake_row(split, i)

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    return stats


def test_second_load_reads_nothing_from_the_hub(fake_hub):
    first = marco.load(None, "test")
    assert fake_hub["read"] == {"validation": ROWS_PER_SPLIT} and first
    assert marco.sample_cache_path("test").is_file()
    fake_hub["read"].clear()
    second = marco.load(None, "test")
    assert fake_hub["read"] == {} and second == first


def test_the_cache_holds_the_sample_before_options_apply(fake_hub):
    selected = marco.load(None, "test")
    fake_hub["read"].clear()
    overlap = marco.load(None, "test", support="overlap", keep_no_answer=True)
    assert fake_hub["read"] == {} and [p.id for p in overlap] == [p.id for p in selected]


def test_the_test_split_never_touches_the_train_side(fake_hub):
    marco.load(None, "test")
    assert fake_hub["opened"] == ["validation"]
    marco.load(None, "train")
    assert fake_hub["opened"] == ["validation", "train"]
    marco.load(None, "train")
    assert fake_hub["opened"] == ["validation", "train"]


def test_cache_key_changes_with_what_decides_the_sample(monkeypatch, tmp_path):
    monkeypatch.setenv("TRACEKD_CACHE_DIR", str(tmp_path))
    test, train = marco.sample_cache_path("test"), marco.sample_cache_path("train")
    assert test != train and test.parent == tmp_path / "datasets" / "marco"
    monkeypatch.setattr(marco, "HUB_CONFIG", "v1.1")
    assert marco.sample_cache_path("test") != test


def test_zero_shot_task_docs_never_touch_the_train_side(fake_hub, monkeypatch):
    """What lm-eval loads for marco_trace: with the few-shot pool (the default of a plain lm_eval run) both
    sides; for the zero-shot run `tracekd eval` makes (fewshot_pool=False) only the test side."""
    from tracekd_ext.commands.eval import parse
    from tracekd_ext.harness.task_hooks import load_trace

    monkeypatch.delenv("TRACEKD_DATA_DIR", raising=False)
    docs = load_trace(dataset="marco", fewshot_pool=False)
    assert fake_hub["opened"] == ["validation"] and len(docs["train"]) == 0 and len(docs["test"]) > 0
    docs = load_trace(dataset="marco")
    assert fake_hub["opened"] == ["validation", "train"] and len(docs["train"]) > 0

    zero_shot = {"fewshot_pool": False}
    assert parse(["--model", "hf", "--tasks", "marco_trace"]).metadata == zero_shot
    assert parse(["--num_fewshot", "0", "--tasks", "x"]).metadata == parse(["-f", "0", "--tasks", "x"]).metadata
    assert parse(["--num_fewshot", "2", "--tasks", "x"]).metadata == parse(["--num_fewshot=1", "--tasks", "x"]).metadata
    assert parse(["--num_fewshot", "2", "--tasks", "x"]).metadata == {}
    assert parse(["-f", "0", "--tasks", "x"]).metadata == zero_shot
