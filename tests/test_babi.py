"""bAbI adapter: the raw-format parser and its quirks, every shared file, splits, answers, archive source."""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
from pathlib import Path

import pytest
from data_paths import DATA, TASKS

from tracekd_ext.adapters import babi
from tracekd_ext.errors import DataError, TracekdError
from tracekd_ext.files.cache import cached_download
from tracekd_ext.splits import id_list_checksum, in_sample
from tracekd_ext.trace_format import perturb, render_prompt

pytestmark = pytest.mark.usefixtures("data_dir")  # the offline data copy: skipped without it, failed under CI

EN = DATA / "babi" / "en"

# Every quirk at once: a space before the tab (qa1-3, 5-14), none (qa4, 15-20), a later question in the
# same story, unsorted supporting ids, a comma answer, a story restart, a blank line.
STORY = (
    "1 Mary moved to the bathroom.\n"
    "2 John went to the hallway.\n"
    "3 Where is Mary? \tbathroom\t1\n"
    "4 Daniel went back to the hallway.\n"
    "5 Sandra moved to the garden.\n"
    "6 Where is Daniel?\thallway\t4\n"
    "\n"
    "1 Mary got the milk there.\n"
    "2 John moved to the office.\n"
    "3 Mary picked up the apple.\n"
    "4 What is Mary carrying?\tmilk,apple\t3 1\n"
)


def _questions(text: str, path: str = "story.txt") -> list[babi.BabiQuestion]:
    return list(babi.parse_babi(text.splitlines(), path))


def test_parser_handles_every_quirk():
    first, second, third = _questions(STORY)
    assert first.question == "Where is Mary?" and first.answer == "bathroom"
    assert first.statements == ("Mary moved to the bathroom.", "John went to the hallway.")
    assert first.support == (0,) and (first.story, first.ordinal, first.line) == (0, 0, 3)
    # the earlier question line is not a unit; id 4 is the third statement
    assert second.statements[2:] == ("Daniel went back to the hallway.", "Sandra moved to the garden.")
    assert len(second.statements) == 4 and second.support == (2,) and second.ordinal == 1
    # restart: a new story, unsorted ids sorted, the raw comma answer kept
    assert (third.story, third.ordinal, third.line) == (1, 0, 11)
    assert third.support == (0, 2) and third.answer == "milk,apple"


def test_records_first_question_and_all_questions():
    firsts = babi.problems_from_text(STORY, 8, "test")
    every = babi.problems_from_text(STORY, 8, "test", all_questions=True)
    assert [p.question for p in firsts] == ["Where is Mary?", "What is Mary carrying?"]
    assert len(every) == 3
    listed = firsts[1]
    assert listed.label == "lists-sets" and listed.answers == ("milk", "apple")
    assert listed.meta["answer"] == "milk,apple" and listed.meta["task"] == 8 and listed.meta["story"] == 1
    assert listed.support_units == ["Mary got the milk there.", "Mary picked up the apple."]
    assert all(p.id.startswith("babi/qa8/test/") for p in every)


def test_ids_are_content_based_and_duplicates_are_numbered():
    story = "1 Mary went to the garden.\n2 Where is Mary?\tgarden\t1\n"
    problems = babi.problems_from_text(story * 3, 1, "train")
    digest = hashlib.sha256(b"1 Mary went to the garden.\n2 Where is Mary?\tgarden\t1\n").hexdigest()[:16]
    assert [p.id for p in problems] == [f"babi/qa1/train/{digest}", f"babi/qa1/train/{digest}#2",
                                        f"babi/qa1/train/{digest}#3"]


@pytest.mark.parametrize(("text", "line", "message"), [
    ("1 Mary went home.\nMary went to the garden.\n", 2, "expected '<id> <text>'"),
    ("1 Mary went home.\n3 John left.\n", 2, "does not follow 1"),
    ("2 Mary went home.\n", 1, "does not follow 0"),
    ("1 Mary went home.\n2 Where is Mary?\thome\n", 2, "got 2 tab-separated fields"),
    ("1 Mary went home.\n2 Where is Mary?\thome\t3\n", 2, "supporting id '3'"),
    ("1 Mary went home.\n2 Where is Mary?\thome\t1\n3 Who?\tMary\t2\n", 3, "supporting id '2'"),
    ("1 Mary went home.\n2 Where is Mary?\thome\tx\n", 2, "supporting id 'x'"),
    ("1 Mary went home.\n2 Where is Mary?\t\t1\n", 2, "empty question or answer"),
])
def test_broken_lines_are_one_line_errors_with_file_and_line(text, line, message):
    with pytest.raises(DataError) as err:
        _questions(text, "broken.txt")
    assert str(err.value).startswith(f"broken.txt:{line}: ") and message in str(err.value)
    assert "\n" not in str(err.value)


def test_broken_file_in_a_data_dir_names_the_file(tmp_path):
    folder = tmp_path / "babi" / "en"
    folder.mkdir(parents=True)
    (folder / babi.task_file_name(1, "train")).write_text("1 Mary went home.\n2 Where is Mary?\thome\t9\n")
    with pytest.raises(DataError, match=r"qa1_single-supporting-fact_train\.txt:2: supporting id '9'"):
        babi.load(tmp_path, "train", tasks="1")


def _independent_reading(path: Path) -> list[tuple[list[str], str, set[int]]]:
    """(statement texts of the story before the question, answer, positions of the supporting statements)
    per question line, read without the adapter: stories start at id 1, statements are found by id."""
    out, position, order = [], {}, []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw:
            continue
        number, text = raw.split(" ", 1)
        if number == "1":
            position, order = {}, []
        if "\t" in text:
            _, answer, ids = text.split("\t")
            out.append((list(order), answer, {position[int(i)] for i in ids.split()}))
        else:
            position[int(number)] = len(order)
            order.append(text)
    return out


@pytest.mark.parametrize("path", sorted(EN.glob("qa*_*.txt")), ids=lambda p: p.name)
def test_every_shared_file(path):
    task = int(re.match(r"qa(\d+)_", path.name).group(1))
    split = "train" if path.name.endswith("_train.txt") else "test"
    text = path.read_text(encoding="utf-8")
    problems = babi.problems_from_text(text, task, split, path=path, all_questions=True)
    expected = _independent_reading(path)
    assert len(problems) == sum("\t" in line for line in text.splitlines()) == len(expected)
    for problem, (story, answer, supporting) in zip(problems, expected, strict=True):
        assert list(problem.units) == story  # every unit is a statement before the question
        assert set(problem.support) == supporting
        assert all(0 <= i < len(problem.units) for i in problem.support)
        assert problem.meta["answer"] == answer and ",".join(problem.answers) == answer
        assert problem.label == babi.TASK_NAMES[task]
    assert len({p.id for p in problems}) == len(problems)


def test_paper_setting_counts_on_the_shared_copy():
    train = babi.load(DATA, "train")
    assert len(train) == 3773  # every first question of the 11 paper tasks' train files (SPEC 3.2)
    assert {p.label for p in train} == {babi.TASK_NAMES[t] for t in babi.PAPER_TASKS}
    assert all(p.meta["question_index"] == 0 for p in train)
    test = babi.load(DATA, "test")
    firsts = babi.load(DATA, "all")
    assert {p.id for p in test} <= {p.id for p in firsts if p.meta["split"] == "test"}
    for task in babi.PAPER_TASKS:  # about 10% per task, decided by the content hash alone
        name = babi.TASK_NAMES[task]
        pool = [p for p in firsts if p.label == name and p.meta["split"] == "test"]
        chosen = [p for p in test if p.label == name]
        assert chosen == [p for p in pool if in_sample(p.id.split("/")[3].split("#")[0], f"babi/qa{task}", 0.1)]
        assert 0.03 < len(chosen) / len(pool) < 0.2


def test_task_readme_states_the_shared_copy_checksum():
    readme = (TASKS / "trace_qa" / "babi_qa" / "README.md").read_text()
    test = babi.load(DATA, "test")
    assert f"{len(test)} test items" in readme and id_list_checksum(p.id for p in test) in readme


def test_partial_copy_keeps_every_item_on_its_side():
    full = (EN / "qa4_two-arg-relations_test.txt").read_text()
    stories = re.split(r"(?m)^(?=1 )", full)[1:]
    partial = "".join(s for i, s in enumerate(stories) if i % 7)  # drop every seventh story

    def split_ids(text):
        problems = babi.identified_questions(text, 4, "test")
        return {pid for pid, q in problems if in_sample(q.digest, "babi/qa4", 0.1)}, {pid for pid, _ in problems}

    full_test, full_ids = split_ids(full)
    part_test, part_ids = split_ids(partial)
    assert part_ids <= full_ids and part_test <= full_test
    assert part_test == full_test & part_ids


def test_missing_stories_are_reported(caplog):
    with caplog.at_level("WARNING", logger="tracekd"):
        babi.load(DATA, "test", tasks="1")
    assert "qa1 15" in caplog.text  # the shared test files lack 15 stories per task


def test_all_tasks_and_questions_options():
    every = babi.load(DATA, "train", tasks="all", all_questions="true")
    assert len(every) == 20_000
    chosen = babi.load(DATA, "train", tasks=["qa19", "lists-sets", 1])
    assert {p.meta["task"] for p in chosen} == {1, 8, 19}
    with pytest.raises(TracekdError, match="unknown bAbI task"):
        babi.resolve_tasks("qa21")
    with pytest.raises(TracekdError, match="all_questions"):
        babi.load(DATA, "train", all_questions="maybe")


def _one(text: str, task: int):
    return babi.problems_from_text(text, task, "test")[0]


def test_answer_rules():
    lists = _one("1 Mary got the milk.\n2 Mary got the apple.\n3 What is Mary carrying?\tmilk,apple\t1 2\n", 8)
    assert babi.score_babi_answer(lists, "apple, milk", "strict").correct
    partial = babi.score_babi_answer(lists, "apple", "strict")
    assert not partial.correct and partial.f1 == pytest.approx(2 / 3)
    assert not babi.score_babi_answer(lists, "milk,apple,football", "strict").correct
    assert babi.score_babi_answer(lists, "milk,apple", "paper").correct  # the paper: string exact match
    assert not babi.score_babi_answer(lists, "apple, milk", "paper").correct
    path = _one("1 The garden is south of the hallway.\n2 The kitchen is east of the garden.\n"
                "3 How do you go from the hallway to the kitchen?\ts,e\t1 2\n", 19)
    for answer, ok in (("s,e", True), ("south, east", True), ("s e", True), ("e,s", False), ("s", False)):
        assert babi.score_babi_answer(path, answer, "strict").correct is ok, answer
    where = _one("1 Mary went to the bathroom.\n2 Where is Mary?\tbathroom\t1\n", 1)
    assert babi.score_babi_answer(where, "The bathroom.", "strict").correct
    assert not babi.score_babi_answer(where, "kitchen, bathroom", "strict").correct


def test_incorrect_labels_come_from_the_loaded_task_set():
    paper = babi.load(DATA, "train")[:300:7]
    allowed = {babi.TASK_NAMES[t] for t in babi.PAPER_TASKS}
    for problem in paper:
        label, _ = perturb(problem, babi.SPEC, seed=1)
        assert label in allowed and label != problem.label
    prompt = render_prompt(paper[0], babi.SPEC, instruction=True)
    assert "counting" in prompt and "yes-no-questions" not in prompt
    everything = babi.load(DATA, "train", tasks="all")
    prompt = render_prompt(everything[0], babi.SPEC, instruction=True)
    assert "yes-no-questions" in prompt


def test_raw_prediction_row_uses_the_same_id():
    loaded = babi.load(DATA, "all", tasks="1")[0]
    lines = (EN / babi.task_file_name(1, loaded.meta["split"])).read_text().splitlines()[:loaded.meta["line"]]
    raw = babi.problem_from_raw({"task": "qa1", "story": lines, "split": loaded.meta["split"]})
    assert raw.id == loaded.id and raw.units == loaded.units and raw.support == loaded.support
    with pytest.raises(DataError, match="p.jsonl:4: field 'story'"):
        babi.problem_from_raw({"task": 1, "story": "1 Mary left.\n"}, path="p.jsonl", line=4)


def _fake_archive(path: Path) -> None:
    files = {babi.task_file_name(1, "train"): STORY, babi.task_file_name(1, "test"): STORY}
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(babi.ARCHIVE_FOLDER + name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_archive_source_and_cache_hit(tmp_path, monkeypatch):
    archive = tmp_path / "cache" / "babi" / "tasks.tar.gz"
    archive.parent.mkdir(parents=True)
    _fake_archive(archive)
    problems = babi.load(None, "all", tasks="1", archive=archive)
    assert len(problems) == 4 and problems[0].id.startswith("babi/qa1/train/")
    monkeypatch.setenv("TRACEKD_CACHE_DIR", str(tmp_path / "cache"))
    sha = hashlib.sha256(archive.read_bytes()).hexdigest()
    # a cached file with the right checksum is used as is: the URL is never contacted
    assert cached_download("http://127.0.0.1:9/none.tar.gz", "babi/tasks.tar.gz", sha) == archive
    with pytest.raises(TracekdError, match="cannot download http://127.0.0.1:9/none.tar.gz"):
        cached_download("http://127.0.0.1:9/none.tar.gz", "babi/tasks.tar.gz", "0" * 64)
    assert archive.is_file()  # a failed refresh leaves the cache alone
