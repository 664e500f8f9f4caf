"""bAbI QA (Weston et al. 2015), English 1k, decomposed by rules into Problem records, and its DatasetSpec.

label = the task name (``single-supporting-fact``); units = the story's statement lines before the
question, in order, without their ids. Earlier question lines of the same story are *not* units: they
are not context sentences, and supporting ids never point at them (lm-eval's own bAbI task leaves them
out too). support = the supporting ids mapped to unit indices (sorted; the raw ids are not always
ascending). answers = the raw answer split on commas (qa8 lists, qa19 paths).

Ids are content-based, so a partial copy and the public archive name every problem alike:
``babi/qa{N}/{file split}/{16 hex digits of SHA-256 of the raw story lines up to the question}``, with
``#2``, ``#3`` ... for a second, third identical story prefix in the same file (qa4 and qa20 repeat
stories). Splits: train = every problem of the train files; test = the test-file problems whose hash
(seed 42, stratum ``babi/qaN``, key = the content digest) falls below 0.1; all = every problem of both
files. Paper setting (default): 11 tasks, first question of each story.
"""

from __future__ import annotations

import gc
import hashlib
import re
import tarfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracekd_ext.adapters.base import DatasetSpec
from tracekd_ext.answer_rules import AnswerScore, exact_match_set, paper_gated_match
from tracekd_ext.errors import DataError, TracekdError
from tracekd_ext.options import as_bool
from tracekd_ext.record import Problem
from tracekd_ext.splits import in_sample, report_missing
from tracekd_ext.text import multiset_f1, normalize_answer

TASK_NAMES = {
    1: "single-supporting-fact", 2: "two-supporting-facts", 3: "three-supporting-facts",
    4: "two-arg-relations", 5: "three-arg-relations", 6: "yes-no-questions", 7: "counting",
    8: "lists-sets", 9: "simple-negation", 10: "indefinite-knowledge", 11: "basic-coreference",
    12: "conjunction", 13: "compound-coreference", 14: "time-reasoning", 15: "basic-deduction",
    16: "basic-induction", 17: "positional-reasoning", 18: "size-reasoning", 19: "path-finding",
    20: "agents-motivations",
}
TASK_NUMBERS = {name: number for number, name in TASK_NAMES.items()}
PAPER_TASKS = (1, 2, 4, 7, 8, 12, 14, 15, 16, 17, 18)
PATH_TASK = "path-finding"
SPLITS = ("test", "train", "all")
TEST_RATE = 0.1
# Stories per test file of the public v1.2 archive (en/; the story counts that HF's former babi_qa loader
# recorded per en-qaN test split), and questions per file (1,000 in every file).
PUBLIC_TEST_STORIES = {1: 200, 2: 200, 3: 200, 4: 1000, 5: 200, 6: 200, 7: 200, 8: 200, 9: 200, 10: 200,
                       11: 200, 12: 200, 13: 200, 14: 200, 15: 250, 16: 1000, 17: 125, 18: 199, 19: 1000, 20: 93}
PUBLIC_QUESTIONS_PER_FILE = 1000

ARCHIVE_URL = "http://www.thespermwhale.com/jaseweston/babi/tasks_1-20_v1-2.tar.gz"
# SHA-256 of the 15,719,851-byte archive, as recorded in the download checksums of HF's former babi_qa loader.
ARCHIVE_SHA256 = "0364ebde659f14d11bc21744516c5ec49d3d06cb692733f66680771244998898"
ARCHIVE_FOLDER = "tasks_1-20_v1-2/en/"

_DIRECTIONS = {"north": "n", "south": "s", "east": "e", "west": "w"}


@dataclass(frozen=True, slots=True)
class BabiQuestion:
    """One question line of a raw bAbI file, with the statements of its story before it."""

    line: int                       # 1-based line number in the file
    story: int                      # 0-based story index in the file
    ordinal: int                    # 0 for the first question of its story
    statements: tuple[str, ...]     # statement lines before the question, ids dropped
    question: str
    answer: str                     # raw answer ("apple,milk", "s,e")
    support: tuple[int, ...]        # indices into ``statements``, sorted
    digest: str                     # content key: SHA-256 of the raw story lines up to the question


def parse_babi(lines: Iterable[str], path: object = None) -> Iterator[BabiQuestion]:
    """Parse raw bAbI lines (``N text`` statements, ``N question<TAB>answer<TAB>ids`` questions).

    Ids restart at 1 for a new story and otherwise count up by one; a space before the tab, unsorted or
    repeated supporting ids and blank lines are accepted. Anything else is a DataError naming the line.
    """
    story, last, ordinal = -1, 0, 0
    statements: list[str] = []
    position: dict[int, int] = {}
    story_lines: list[str] = []
    for number, raw in enumerate(lines, 1):
        raw = raw.rstrip("\r\n")
        head, _, text = raw.partition(" ")
        if not head.isdigit() or not text:
            if not raw.strip():
                continue
            raise DataError("expected '<id> <text>' (a bAbI story line)", path=path, line=number)
        line_id = int(head)
        if line_id == 1:
            story, statements, position, story_lines, ordinal = story + 1, [], {}, [], 0
        elif line_id != last + 1:
            raise DataError(f"line id {line_id} does not follow {last} (ids count up from 1 in each story)",
                            path=path, line=number)
        last = line_id
        story_lines.append(raw)
        if "\t" not in text:
            position[line_id] = len(statements)
            statements.append(text.strip())
            continue
        question, answer, ids = _question_fields(text, path, number)
        support = set()
        for token in ids:
            if not token.isdigit() or int(token) not in position:
                raise DataError(f"supporting id {token!r} is not a statement line before the question",
                                path=path, line=number)
            support.add(position[int(token)])
        digest = hashlib.sha256(("\n".join(story_lines) + "\n").encode()).hexdigest()[:16]
        yield BabiQuestion(number, story, ordinal, tuple(statements), question, answer, tuple(sorted(support)), digest)
        ordinal += 1


def _question_fields(text: str, path: object, line: int) -> tuple[str, str, list[str]]:
    parts = text.split("\t")
    if len(parts) != 3:
        raise DataError(f"a question line needs 'question<TAB>answer<TAB>supporting ids', got {len(parts)} "
                        "tab-separated fields", path=path, line=line)
    question, answer = parts[0].strip(), parts[1].strip()
    if not question or not answer:
        raise DataError("empty question or answer", path=path, line=line)
    return question, answer, parts[2].split()


def resolve_tasks(tasks: Any) -> tuple[int, ...]:
    """``paper`` (the 11 tasks of the paper), ``all`` (20), or task numbers / ``qaN`` / names, as a list or
    a comma-separated string."""
    if tasks is None or str(tasks).strip().lower() in ("", "paper"):
        return PAPER_TASKS
    if str(tasks).strip().lower() == "all":
        return tuple(TASK_NAMES)
    items = tasks if isinstance(tasks, (list, tuple)) else str(tasks).split(",")
    numbers = set()
    for item in items:
        text = str(item).strip().lower().removeprefix("qa")
        number = int(text) if text.isdigit() else TASK_NUMBERS.get(text)
        if number not in TASK_NAMES:
            raise TracekdError(f"option 'tasks': unknown bAbI task {item!r}; use paper, all, 1-20 or a task name")
        numbers.add(number)
    if not numbers:
        raise TracekdError("option 'tasks': no bAbI task given")
    return tuple(sorted(numbers))


def task_file_name(task: int, split: str) -> str:
    return f"qa{task}_{TASK_NAMES[task]}_{split}.txt"


def split_answer(answer: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in answer.split(",") if item.strip())


def _problem(q: BabiQuestion, task: int, file_split: str, problem_id: str, task_set: tuple[int, ...]) -> Problem:
    return Problem(
        id=problem_id,
        dataset="babi",
        units=q.statements,
        question=q.question,
        label=TASK_NAMES[task],
        support=q.support,
        answers=split_answer(q.answer),
        meta={"task": task, "split": file_split, "story": q.story, "question_index": q.ordinal, "line": q.line,
              "answer": q.answer, "task_set": list(task_set)},
    )


def identified_questions(text: str, task: int, file_split: str, *, path: object = None,
                         all_questions: bool = False) -> list[tuple[str, BabiQuestion]]:
    """``(id, question)`` for the questions of one raw task file (first question per story unless
    ``all_questions``); identical story prefixes get ``#2``, ``#3`` ... in file order."""
    seen: dict[str, int] = {}
    out = []
    for q in parse_babi(text.splitlines(), path):
        if all_questions or not q.ordinal:
            seen[q.digest] = seen.get(q.digest, 0) + 1
            suffix = f"#{seen[q.digest]}" if seen[q.digest] > 1 else ""
            out.append((f"babi/qa{task}/{file_split}/{q.digest}{suffix}", q))
    return out


def problems_from_text(text: str, task: int, file_split: str, *, path: object = None, all_questions: bool = False,
                       task_set: tuple[int, ...] = PAPER_TASKS) -> list[Problem]:
    """Every problem of one raw task file."""
    return [_problem(q, task, file_split, pid, task_set)
            for pid, q in identified_questions(text, task, file_split, path=path, all_questions=all_questions)]


def _local_reader(data_dir: Path) -> Callable[[str], tuple[str, str]]:
    folders = [data_dir / "babi" / "en", data_dir / ARCHIVE_FOLDER, data_dir / "en", data_dir]
    folder = next((f for f in folders if f.is_dir() and any(f.glob("qa*_*.txt"))), None)
    if folder is None:
        raise DataError(f"no bAbI task files (expected {data_dir / 'babi' / 'en' / task_file_name(1, 'test')})",
                        path=data_dir)

    def read(name: str) -> tuple[str, str]:
        path = folder / name
        if not path.is_file():
            raise DataError("bAbI task file not found", path=path)
        return str(path), path.read_text(encoding="utf-8")

    return read


def _archive_reader(archive: Path) -> Callable[[str], tuple[str, str]]:
    """Reads ``en/`` task files from the v1.2 archive in one pass over it."""
    texts = {}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            if member.isfile() and member.name.startswith(ARCHIVE_FOLDER) and member.name.endswith(".txt"):
                texts[member.name[len(ARCHIVE_FOLDER):]] = tar.extractfile(member).read().decode("utf-8")

    def read(name: str) -> tuple[str, str]:
        if name not in texts:
            raise DataError(f"{ARCHIVE_FOLDER}{name} not in the archive", path=archive)
        return f"{archive}:{ARCHIVE_FOLDER}{name}", texts[name]

    return read


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def public_archive() -> Path:
    """The official v1.2 archive, downloaded once into the user's cache (checksum-verified)."""
    from tracekd_ext.files.cache import cached_download

    try:
        return cached_download(ARCHIVE_URL, "babi/tasks_1-20_v1-2.tar.gz", ARCHIVE_SHA256)
    except TracekdError as err:
        raise TracekdError(f"{err}; or give a local copy of babi/en/ with TRACEKD_DATA_DIR or --metadata "
                           "'{\"data_dir\": \"DIR\"}'") from None


def load(data_dir: str | Path | None = None, split: str = "test", tasks: Any = "paper", all_questions: Any = False,
         *, archive: str | Path | None = None, **_: Any) -> list[Problem]:
    """bAbI problems of ``split`` (test, train, all), task by task in file order.

    ``data_dir``: a folder with ``babi/en/qaN_*_{train,test}.txt``; ``None`` reads the official archive
    (``archive``, else downloaded once into the cache). ``tasks``: ``paper`` (default), ``all`` or a list;
    ``all_questions``: every question of a story instead of the first.
    """
    if split not in SPLITS:
        raise TracekdError(f"unknown split '{split}'; choose from {', '.join(SPLITS)}")
    task_set, every = resolve_tasks(tasks), as_bool("all_questions", all_questions)
    if data_dir is not None:
        if not Path(data_dir).is_dir():
            raise DataError("data directory not found", path=data_dir)
        read = _local_reader(Path(data_dir))
    else:
        read = _archive_reader(Path(archive) if archive else public_archive())
    problems, missing = [], []
    with _cyclic_gc_paused():  # ~40k acyclic records: collection passes would cost more than the parsing
        for task in task_set:
            for file_split in ("train", "test"):
                if split in (file_split, "all"):
                    problems += _file_problems(read, task, file_split, split == "test", every, task_set, missing)
    if missing:
        unit = "questions" if every else "stories"
        report_missing("bAbI", split, [f"test files lack {unit} of the public archive ({', '.join(missing)}); "
                                       f"about {TEST_RATE:.0%} of those would be test items (ids are content "
                                       "hashes, so which ones is unknowable)"])
    return problems


def _file_problems(read: Callable[[str], tuple[str, str]], task: int, file_split: str, sample: bool,
                   every: bool, task_set: tuple[int, ...], missing: list[str]) -> list[Problem]:
    """One task file's problems; with ``sample`` only its test items, noting in ``missing`` how many
    stories (questions) the copy lacks against the public archive."""
    where, text = read(task_file_name(task, file_split))
    questions = identified_questions(text, task, file_split, path=where, all_questions=every)
    if sample:
        public = PUBLIC_QUESTIONS_PER_FILE if every else PUBLIC_TEST_STORIES[task]
        if len(questions) < public:
            missing.append(f"qa{task} {public - len(questions)}")
        questions = [(pid, q) for pid, q in questions if in_sample(q.digest, f"babi/qa{task}", TEST_RATE)]
    return [_problem(q, task, file_split, pid, task_set) for pid, q in questions]


def problem_from_raw(row: dict[str, Any], *, path: object = None, line: int | None = None) -> Problem:
    """A predictions row with ``task`` (1-20, ``qaN`` or the name; without it the ``label``, which names the
    task one-to-one), ``story`` (the raw bAbI lines of the story up to and including the question line, as
    one string or a list) and optionally ``split`` (default test)."""
    if "task" not in row and "label" not in row:
        raise DataError("missing (nor is there a 'label' naming the task)", path=path, line=line, field="task")
    if "story" not in row:
        raise DataError("missing", path=path, line=line, field="story")
    try:
        (task,) = resolve_tasks([row["task"] if "task" in row else row["label"]])
    except TracekdError as err:
        raise DataError(str(err), path=path, line=line, field="task" if "task" in row else "label") from None
    story = row["story"]
    lines = story.splitlines() if isinstance(story, str) else [str(s) for s in story]
    file_split = str(row.get("split", "test"))
    try:
        questions = list(parse_babi(lines))
    except DataError as err:
        raise DataError(f"story {err}", path=path, line=line, field="story") from None
    if not questions:
        raise DataError("no question line (question<TAB>answer<TAB>ids)", path=path, line=line, field="story")
    q = questions[-1]
    return _problem(q, task, file_split, f"babi/qa{task}/{file_split}/{q.digest}", tuple(TASK_NAMES))


def score_babi_answer(problem: Problem, text: str, mode: str) -> AnswerScore:
    """Strict: normalised items compared as a set (qa8 lists), as an ordered list for paths (qa19, where
    ``north`` counts as ``n``); paper (``text`` is the published extraction's span): the raw answer string
    must occur in it, then normalised exact match."""
    if mode == "paper":
        return paper_gated_match(text, str(problem.meta.get("answer") or ",".join(problem.answers)))
    if problem.label == PATH_TASK:
        return _score_path(text, problem.answers)
    return exact_match_set(text.split(","), problem.answers)


def _path_steps(text: str) -> list[str]:
    steps = (normalize_answer(token) for token in re.split(r"[,\s]+", text))
    return [_DIRECTIONS.get(step, step) for step in steps if step]


def _score_path(text: str, golds: tuple[str, ...]) -> AnswerScore:
    pred, gold = _path_steps(text), _path_steps(",".join(golds))
    return AnswerScore(pred == gold, multiset_f1(pred, gold), tuple(pred))


def _labels_of(problem: Problem) -> tuple[str, ...]:
    """The task names of the task set the problem was loaded with (all 20 when unknown)."""
    tasks = problem.meta.get("task_set")
    if isinstance(tasks, list) and tasks and all(t in TASK_NAMES for t in tasks):
        names = tuple(TASK_NAMES[t] for t in tasks)
        if problem.label in names:
            return names
    return tuple(TASK_NAMES.values())


SPEC = DatasetSpec(
    name="babi",
    labels=tuple(TASK_NAMES.values()),
    cls_sentence="The category of the question represents what is being asked in that question. "
                 "The category of the question asked is: {label}.\n",
    ir_intro="I need to use the following text to answer the question: ",
    unit_noun="story sentences",
    context_style="lines",
    render_answer=lambda problem: str(problem.meta.get("answer") or ",".join(problem.answers)),
    answer_format="the answer only: one word, or for several items the words separated by commas without "
                  "spaces (e.g. apple,milk or n,w)",
    score_answer=score_babi_answer,
    wrong_unit_count=lambda problem: len(problem.support),
    paper_cls_sentence=1,
    load=load,
    options=("tasks", "all_questions"),
    from_raw=problem_from_raw,
    labels_of=_labels_of,
    lookup_options={"tasks": "all", "all_questions": True},
    paper_answer_span=True,
)
