"""What a student reads on Gradescope: results.json built from autograded notebooks.

Pure functions (no kernel, no nbgrader run), used by grade.py and the tests:

- `exercise_names(nb)`: grade_id -> the exercise as the notebook titles it ("Exercise 1d
  (output_delta)"), from the bold **Exercise ...** label before the graded cell, else the section
  heading, else the grade_id;
- `cell_markdown(cell, secrets)`: one graded cell's outputs in markdown: the diagnosis (the
  error the test raised) first, then the checker's per-tensor tables as markdown tables, other
  output as text, and where in the student's own code an error happened; every line that quotes a
  hidden test is removed;
- `results(...)`: the results.json document (Gradescope's autograder specification: top-level
  score, execution_time, output; one test per graded cell with name, score, max_score, status,
  output, output_format "md");
- `as_text(results)`: the same as plain text, for `make gradescope-check`.
"""
from __future__ import annotations

import re

from markers import cell_source
from sandbox_scrub import SCRUBBED, scrub_text

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
EXERCISE = re.compile(r"\*\*\s*(Exercise\s+[^*(.:]*?)\s*[(.:*]")
RULE = re.compile(r"-{10,}")
MAX_OUTPUT = 12000          # characters of markdown per test (Gradescope shows it in a box)
MAX_FRAMES_LINES = 30


def _grade_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def graded_cells(nb) -> list[tuple[str, float]]:
    """(grade_id, points) of every graded test cell, in notebook order."""
    out = []
    for cell in nb["cells"]:
        meta = _grade_meta(cell)
        if cell.get("cell_type") == "code" and meta.get("grade") and not meta.get("solution"):
            out.append((meta["grade_id"], float(meta.get("points", 0) or 0)))
    return out


def exercise_names(nb) -> dict[str, str]:
    """grade_id -> a name for every graded cell: the exercise label or section heading, plus what is tested."""
    names, heading, label = {}, None, None
    for cell in nb["cells"]:
        src = cell_source(cell)
        if cell.get("cell_type") == "markdown":
            for line in src.splitlines():
                if re.match(r"#{1,3}\s", line):
                    heading = line.lstrip("#").strip()
                    numbered = re.match(r"(Exercise\s+[^\s(.:*]+)", heading)   # "### Exercise 1 (2 points): ..."
                    label = numbered.group(1) if numbered else None
            found = EXERCISE.search(src)
            if found:
                label = " ".join(found.group(1).split())
            continue
        meta = _grade_meta(cell)
        if cell.get("cell_type") == "code" and meta.get("grade") and not meta.get("solution"):
            gid = meta["grade_id"]
            short = gid[5:] if gid.startswith("test_") else gid
            title = label or heading
            names[gid] = f"{title} ({short})" if title else gid
    return names


def escape(text: str) -> str:
    """Plain text that markdown shows as it is (inline `code` stays code)."""
    text = re.sub(r"([\\*\[\]<|])", r"\\\1", text)
    return re.sub(r"(?m)^(\s*)([>#])", r"\1\\\2", text)


def _fence(text: str) -> str:
    ticks = "`" * max(3, 1 + max((len(m) for m in re.findall(r"`+", text)), default=0))
    return f"{ticks}text\n{text.rstrip()}\n{ticks}"


def _columns(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


def _table(header: str, rows: list[str]) -> str:
    """A checker table (columns at least two spaces apart) as a markdown table."""
    cells = [_columns(header)] + [_columns(r) for r in rows]
    lines = ["| " + " | ".join(escape(c) for c in row) + " |" for row in cells]
    lines.insert(1, "|" + "---|" * len(cells[0]))
    return "\n".join(lines)


def text_markdown(text: str) -> str:
    """Stream output in markdown: the checker's tables (a header, a rule of dashes, rows with the
    header's columns) become markdown tables, everything else text blocks."""
    lines, parts, plain, i = ANSI.sub("", text).split("\n"), [], [], 0
    while i < len(lines):
        width = len(_columns(lines[i]))
        if width > 1 and i + 1 < len(lines) and RULE.fullmatch(lines[i + 1].strip()):
            end = i + 2
            while end < len(lines) and lines[end].strip() and len(_columns(lines[end])) == width:
                end += 1
            if end > i + 2:
                if any(p.strip() for p in plain):
                    parts.append(_fence("\n".join(plain).strip("\n")))
                parts.append(_table(lines[i], lines[i + 2:end]))
                plain, i = [], end
                continue
        plain.append(lines[i])
        i += 1
    if any(p.strip() for p in plain):
        parts.append(_fence("\n".join(plain).strip("\n")))
    return "\n\n".join(parts)


def _student_frames(error: dict, count) -> str:
    """The traceback frames in the student's own cells (not the graded cell, not library code)."""
    frames = [ANSI.sub("", f) for f in error.get("traceback", [])]
    keep = [f.rstrip() for f in frames if re.match(r"\s*Cell In\[\d+\]", f)
            and not re.match(rf"\s*Cell In\[{count}\]", f)]
    return "\n".join("\n".join(keep).splitlines()[-MAX_FRAMES_LINES:])


def _join(text) -> str:
    return text if isinstance(text, str) else "".join(text)


def _output_text(cell) -> tuple[str, dict | None]:
    """(everything the cell printed, its error output or None)."""
    texts, error = [], None
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "stream":
            texts.append(_join(out.get("text", "")))
        elif kind == "error":
            error = out
        elif "data" in out and "text/plain" in out["data"]:
            texts.append(_join(out["data"]["text/plain"]) + "\n")
    return "".join(texts), error


def cell_markdown(cell, secrets: set[str], passed: bool) -> str:
    """One graded cell's outputs as markdown (see the module docstring); hidden-test lines removed."""
    text, error = _output_text(cell)
    text = scrub_text(text, secrets)[0]
    parts = []
    if error is not None:
        evalue = scrub_text(ANSI.sub("", error.get("evalue", "")), secrets)[0].strip()
        said = {line.strip() for line in evalue.splitlines() if line.strip()}
        text = "\n".join(line for line in text.split("\n") if line.strip() not in said)
        ename = error.get("ename", "Error")
        parts.append(f"**{escape(ename)}**" + (": " + "  \n".join(escape(l) for l in evalue.splitlines())
                                                if evalue else ""))
    elif passed:
        parts.append("**Passed.**")
    if text.strip():
        parts.append(text_markdown(text.strip("\n")))
    if error is not None:
        frames = scrub_text(_student_frames(error, cell.get("execution_count")), secrets)[0]
        if frames.strip():
            parts.append("Where it happened (your code):\n\n" + _fence(frames))
    out = "\n\n".join(parts)
    if len(out) > MAX_OUTPUT:
        out = out[:MAX_OUTPUT].rsplit("\n", 1)[0] + "\n\n[grader: output shortened]"
    if any(s in out for s in secrets):      # a quote that escaped the line filter: say nothing rather than leak
        out = SCRUBBED
    return out


def entry(name: str, score: float, max_score: float, output: str, **extra) -> dict:
    """One Gradescope test; `extra` (grade_id, notebook) is stored for instructors, not shown."""
    return {"name": name, "score": float(score), "max_score": float(max_score),
            "status": "passed" if max_score and score >= max_score else "failed",
            "output": output, "output_format": "md", "visibility": "visible", "extra_data": extra}


def results(tests: list[dict], summary: str, seconds: float, extra: dict | None = None) -> dict:
    """The results.json document."""
    score = sum(t["score"] for t in tests)
    total = sum(t["max_score"] for t in tests)
    head = f"**{score:g} / {total:g} points**"
    return {"score": float(score), "execution_time": int(round(seconds)),
            "output": head + ("\n\n" + summary if summary else ""), "output_format": "md",
            "test_output_format": "md", "test_name_format": "text",
            "visibility": "visible", "stdout_visibility": "hidden",
            "extra_data": dict(extra or {}, max_score=float(total)), "tests": tests}


def as_text(res: dict) -> str:
    """results.json as a student would read it, in plain text."""
    lines = [f"Score: {res['score']:g} / {res.get('extra_data', {}).get('max_score', 0):g}"
             f"   (execution time {res.get('execution_time', 0)} s)", "", res.get("output", ""), ""]
    for test in res.get("tests", []):
        lines.append(f"== {test['name']}: {test['score']:g} / {test['max_score']:g} ({test['status']})")
        lines.append(test.get("output", ""))
        lines.append("")
    return "\n".join(lines)
