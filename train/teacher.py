"""Teacher traces for the ``teacher`` variant: free-text traces imported per problem id.

Two inputs are accepted: a traces JSONL (``{"id": ..., "trace": ...}`` per line) and an lm-eval samples
file of a teacher run (``tracekd eval --model vllm|local-chat-completions ... --log_samples``), whose
rows carry ``doc.id`` and the generation in ``filtered_resps[0]``; the think block of each generation
is the trace. ``python -m tracekd_train.teacher SAMPLES... --out traces.jsonl`` converts samples files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tracekd_ext.errors import DataError, TracekdError
from tracekd_ext.files.outputs import jsonl_text, write_file
from tracekd_ext.files.read import read_jsonl
from tracekd_ext.trace_parse import ANSWER_CLOSE, ANSWER_OPEN, THINK_CLOSE, THINK_OPEN, parse

_TAGS = (THINK_OPEN, THINK_CLOSE, ANSWER_OPEN, ANSWER_CLOSE)


def trace_from_generation(generation: str) -> str | None:
    """The think block of a teacher generation (tags removed), or ``None`` without a closed one."""
    parsed = parse(generation)
    return (parsed.think.strip() or None) if parsed.think_closed else None


def _first_response(row: dict[str, Any], path: Path, line: int) -> str:
    value = row.get("filtered_resps", row.get("resps"))
    if value is None:
        raise DataError("missing", path=path, line=line, field="filtered_resps")
    while isinstance(value, list):
        value = value[0] if value else ""
    return str(value)


def extract_from_samples(path: str | Path) -> tuple[list[dict[str, str]], list[str]]:
    """Traces from an lm-eval samples file: ``([{"id", "trace", "answer"}], ids without a closed think block)``."""
    path = Path(path)
    rows, skipped = [], []
    for line, row in read_jsonl(path):
        doc = row.get("doc")
        if not isinstance(doc, dict) or "id" not in doc:
            raise DataError("missing (not a tracekd task's samples file?)", path=path, line=line, field="doc.id")
        generation = _first_response(row, path, line)
        trace = trace_from_generation(generation)
        if trace is None:
            skipped.append(str(doc["id"]))
        else:
            rows.append({"id": str(doc["id"]), "trace": trace, "answer": parse(generation).answer})
    return rows, skipped


def _is_samples_file(path: Path) -> bool:
    for _, row in read_jsonl(path):
        return "doc" in row
    return False


def load_teacher_traces(path: str | Path) -> dict[str, str]:
    """``problem id -> trace`` from a traces JSONL or an lm-eval samples file; duplicates and tags are errors."""
    path = Path(path).expanduser()
    if _is_samples_file(path):
        rows, _ = extract_from_samples(path)
        numbered = list(enumerate(rows, 1))
    else:
        numbered = list(read_jsonl(path))
    traces: dict[str, str] = {}
    for line, row in numbered:
        for name in ("id", "trace"):
            if not isinstance(row.get(name), str) or not row[name].strip():
                raise DataError("missing or not a non-empty string", path=path, line=line, field=name)
        tags = [tag for tag in _TAGS if tag in row["trace"]]
        if tags:
            raise DataError(f"contains {tags[0]}: give the text inside the think block only", path=path,
                            line=line, field="trace")
        if row["id"] in traces:
            raise DataError(f"problem id '{row['id']}' appears twice", path=path, line=line, field="id")
        traces[row["id"]] = row["trace"].strip()
    if not traces:
        raise DataError("no teacher traces", path=path)
    return traces


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tracekd_train.teacher",
        description="Extract teacher traces (the think block of each generation) from lm-eval samples files of "
                    "a tracekd trace task into a traces JSONL for --variant teacher --teacher-traces FILE.")
    parser.add_argument("samples", nargs="+", metavar="SAMPLES.jsonl")
    parser.add_argument("--out", required=True, metavar="TRACES.jsonl")
    args = parser.parse_args(argv)
    try:
        rows, seen, skipped = [], set(), []
        for path in args.samples:
            found, missing = extract_from_samples(path)
            for row in found:
                if row["id"] in seen:
                    raise DataError(f"problem id '{row['id']}' appears in more than one samples file", path=path)
                seen.add(row["id"])
            rows += found
            skipped += missing
        write_file(args.out, jsonl_text(rows), inputs=args.samples)
    except TracekdError as err:
        print(f"tracekd_train.teacher: error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {len(rows)} teacher traces to {args.out}; {len(skipped)} generations had no closed think block"
          + (f" (first: {', '.join(skipped[:5])})" if skipped else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
