"""The instructor's guide (``INSTRUCTORS.md``, also a page of the book), generated.

    python -m course_tools.guide --record build/executed/full-jax build/executed/quick-torch
    python -m course_tools.guide            # write INSTRUCTORS.md (make guide)
    python -m course_tools.guide --check    # fail if it is out of date (a test runs this)

Three sources, none of them typed into the guide itself:

- the solution notebooks: their sections (``## N. Title``), the words of prose and lines of
  code in each, and the exercises each sets;
- ``results/sections.json``: how long each section's cells took to run, per mode and backend,
  recorded from executed copies (:mod:`course_tools.execution`) with ``--record``;
- ``utils/checks/chNN.py``: the mistakes each checker can name, read from the messages it
  raises (the source code, not a list kept by hand);

and one hand-written file, ``book/workshop.toml``: per chapter, the sections that carry its ideas
(every plan presents them), the sections a 60-minute session runs without presenting, the
exercises each plan leaves for afterwards, and the discussion questions.

The plans follow a stated rule. A section's minutes are its prose and its code at fixed rates, an
allowance per exercise and its measured run time; but a code cell that only proves an
implementation equal to another (a parity check, weights copied into a reference), times a run,
saves results or prints library source is *plumbing*: it runs, and is never presented. The
60-minute plan presents every idea section and may skip others; the two-session plan presents
every section, split at the section boundary that balances the two sessions. A test checks that
every plan fits in its sessions by that rule and that no plan skips an idea.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course_tools import execution
from course_tools.exercises import BOOKKEEPING
from utils.files import write_text_atomically
from utils.training.device import CPU, device_slug

REPO = Path(__file__).resolve().parent.parent
GUIDE = REPO / "INSTRUCTORS.md"
SECTIONS = REPO / "results" / "sections.json"
WORKSHOP = REPO / "book" / "workshop.toml"
SESSION_MINUTES = 60
WORDS_PER_MINUTE = 100  # presenting prose: reading it out and explaining it
CODE_LINES_PER_MINUTE = 8  # walking through code on the screen
EXERCISE_MINUTES = {"warm-up": 5, "core": 10, "stretch": 15, "experiment": 12}
MISTAKES_SHOWN = 8  # per exercise, in the order the checker tests them
PLAN_RUN = "quick-torch"  # the run whose times the 60-minute plan counts (quick mode, as on a laptop)
# A code cell is plumbing when it only proves, times, saves or prints library source: it runs, unpresented.
_PLUMBING = re.compile(r"parity\.check|\.set_weights\(|\.assign\(|inspect\.getsource|time\.perf_counter|"
                       r"timing\.|seconds_per_step|\.save\(|load_model|results\.save")
_SECTION = re.compile(r"^## (\d+)\. (.+)$", re.MULTILINE)
_EXERCISE = re.compile(r"Exercise (\d+\.\d+)")
_LEVEL = re.compile(r"Exercise (\d+\.\d+) \((warm-up|stretch|experiment)\)")


class GuideError(ValueError):
    """The guide's inputs are inconsistent: the message says which and how to fix it."""


@dataclass
class Section:
    """One ``## N. Title`` section of a chapter notebook and what it holds."""

    number: str
    title: str
    words: int = 0
    code_lines: int = 0
    plumbing_lines: int = 0  # code lines of cells that only prove, time, save or print source: never presented
    exercises: list[tuple[str, str, str]] = field(default_factory=list)  # (number, level, title)
    cells: list[int] = field(default_factory=list)


def _prose_words(markdown: str) -> int:
    text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`|<[^>]+>|\|", " ", markdown, flags=re.DOTALL)
    return len(re.findall(r"[A-Za-z][\w'-]*", text))


def exercise_levels(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """Exercise number -> the level its heading or lead-in gives: warm-up, stretch, experiment or core."""
    levels: dict[str, str] = {}
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for number, level in _LEVEL.findall(cell.source):
                levels.setdefault(number, level)
    return levels


def sections(notebook: nbformat.NotebookNode) -> list[Section]:
    """The notebook's numbered sections in order, with their words, code lines and exercises.

    An exercise belongs to the section whose prose first names it (``### Exercise 4.1 ...`` or
    ``**Exercise 7.1 (warm-up).**``); its title is filled in from its checker by chapter_plan.
    """
    levels = exercise_levels(notebook)
    found: list[Section] = []
    seen: set[str] = set()
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            for match in _SECTION.finditer(cell.source):
                found.append(Section(match.group(1), match.group(2).strip()))
        if not found:
            continue
        current = found[-1]
        current.cells.append(index)
        if cell.cell_type == "markdown":
            current.words += _prose_words(cell.source)
            for number in _EXERCISE.findall(cell.source):
                if number not in seen:
                    seen.add(number)
                    current.exercises.append((number, levels.get(number, "core"), ""))
        elif cell.cell_type == "code":
            lines = sum(1 for line in cell.source.splitlines() if line.strip())
            current.code_lines += lines
            if is_plumbing(cell.source) or BOOKKEEPING in cell.metadata.get("tags", []):
                current.plumbing_lines += lines
    return found


def is_plumbing(source: str) -> bool:
    """Whether a code cell only proves, times, saves or prints library source (an exercise cell never is)."""
    return bool(_PLUMBING.search(source)) and "BEGIN SOLUTION" not in source and "checks.check_" not in source


def section_seconds(executed: nbformat.NotebookNode) -> dict[str, float]:
    """Seconds each section's cells took to run in an executed copy."""
    seconds: dict[str, float] = {}
    for section in sections(executed):
        seconds[section.number] = round(sum(execution.cell_seconds(executed.cells[i]) or 0.0
                                            for i in section.cells if executed.cells[i].cell_type == "code"), 1)
    return seconds


def record(folders: Sequence[Path], store: Path = SECTIONS) -> dict:
    """Add the section times of every executed copy in ``folders`` to ``store``; return its content."""
    data = json.loads(store.read_text(encoding="utf-8")) if store.exists() else {}
    for folder in folders:
        copies = sorted(Path(folder).glob("*.ipynb"))
        if not copies:
            raise GuideError(f"no executed notebooks in {folder}: run `python -m course_tools.execution` first.")
        for path in copies:
            executed = nbformat.read(path, as_version=4)
            stamp = executed.metadata.get(execution.METADATA_KEY)
            if not stamp:
                raise GuideError(f"{path} is not an executed copy made by course_tools.execution (no timing stamp).")
            run = f"{stamp['mode']}-{stamp['backend']}"
            if stamp.get("device", CPU) != CPU:  # a GPU's times never stand in for the CPU's
                run += f"-{device_slug(stamp['device'])}"
            data.setdefault(path.stem, {})[run] = {
                "seconds": section_seconds(executed), "total": stamp["seconds"], "date": stamp["date"],
            }
    write_text_atomically(store, json.dumps(data, indent=1, sort_keys=True) + "\n")
    return data


# The mistakes each checker names -------------------------------------------------------------------


def _template(node: ast.AST) -> str | None:
    """A message literal as text, with every ``{...}`` of an f-string shown as an ellipsis."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value if isinstance(part, ast.Constant) else "…" for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _template(node.left), _template(node.right)
        return None if left is None or right is None else left + right
    return None


def headline(message: str) -> str:
    """The part of a checker's message that names the mistake: up to its first colon or full stop."""
    text = re.sub(r"\s+", " ", message).strip()
    cut = re.search(r"(?<!\.\.)[:.;](\s|$)", text)
    text = text[:cut.start()] if cut else text
    return text[:1].upper() + text[1:]


def _suspect_tuples(node: ast.AST) -> list[str]:
    """Messages paired with a wrong answer, ``(wrong, "message")``, anywhere under ``node``."""
    return [message for tup in ast.walk(node) if isinstance(tup, ast.Tuple) and len(tup.elts) == 2
            for message in [_template(tup.elts[1])] if message]


def _messages_in(function: ast.FunctionDef) -> list[str]:
    """Messages raised as ``Mistake(...)``, and those of the suspects a checker compares with.

    Suspects are ``(wrong answer, message)`` pairs (or a dict of messages): in a function whose
    name says ``suspects``, in a variable whose name does, appended to one, or handed to a
    ``_diagnose``-like helper; a ``_wrong...`` function keys its wrong formulas by their message.
    """
    found = []
    if "suspect" in function.name:
        found += _suspect_tuples(function)
    if "wrong" in function.name:  # a table of wrong formulas keyed by the message that names each
        found += [_template(key) for node in ast.walk(function) if isinstance(node, ast.Dict)
                  for key in node.keys if key is not None]
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Mistake" and node.args:
            found.append(_template(node.args[0]))
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = " ".join(ast.unparse(target) for target in targets).lower()
            if "suspect" in names and node.value is not None:
                found += _suspect_tuples(node.value)
            if ("message" in names or "suspect" in names) and isinstance(node.value, ast.Dict):
                found += [_template(value) for value in node.value.values]
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in ("append", "extend") and "suspect" in ast.unparse(node.func.value)):
            for argument in node.args:
                found += _suspect_tuples(argument)
        elif isinstance(node, ast.Call) and re.search(r"diagnose|mistake", ast.unparse(node.func)):
            for argument in node.args[1:]:
                found += _suspect_tuples(argument)
    return [message for message in found if message and " " in message]


# Messages about the form of an answer (None, a wrong type or shape) rather than the idea: every
# checker has them, so the guide does not list them per exercise.
_FORM = re.compile(r"^(your function returned|return |you returned (one|two|a|the tuple)\b|your \S+ has shape"
                   r"|\S+ has shape|\S+ should be a \d-d array)", re.IGNORECASE)


def _worth_listing(text: str) -> bool:
    letters = len(re.findall(r"[A-Za-z]", text))
    return (letters >= 15 and text.count("…") * 4 < letters and not text.startswith("…")
            and not _FORM.match(text) and not text.endswith("wrong on …"))


def _used_names(node: ast.AST) -> set[str]:
    return {name.id for name in ast.walk(node) if isinstance(name, ast.Name)}


def _message_table(node: ast.Assign) -> list[str]:
    """The values of a module-level ``_..._MESSAGES = {...}`` table of messages."""
    if not isinstance(node.value, ast.Dict):
        return []
    return [message for value in node.value.values for message in [_template(value)] if message]


def checker_titles(module_path: Path) -> dict[str, str]:
    """Exercise number -> the title its ``@checker("N.M", "title")`` gives."""
    tree = ast.parse(module_path.read_text(encoding="utf-8"))
    return {decorator.args[0].value: decorator.args[1].value
            for node in tree.body if isinstance(node, ast.FunctionDef) for decorator in node.decorator_list
            if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", None) == "checker"
            and len(decorator.args) >= 2 and all(isinstance(arg, ast.Constant) for arg in decorator.args[:2])}


def checker_mistakes(module_path: Path) -> dict[str, list[str]]:
    """Exercise number -> the headlines of the mistakes its checker (and its helpers) can name."""
    tree = ast.parse(module_path.read_text(encoding="utf-8"))
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    tables = {target.id: _message_table(node) for node in tree.body if isinstance(node, ast.Assign)
              for target in node.targets if isinstance(target, ast.Name) and "MESSAGE" in target.id.upper()}
    result: dict[str, list[str]] = {}
    for function in functions.values():
        numbers = [decorator.args[0].value for decorator in function.decorator_list
                   if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", None) == "checker"
                   and decorator.args and isinstance(decorator.args[0], ast.Constant)]
        if not numbers:
            continue
        seen, todo, messages = set(), [function.name], []
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            if name in tables:
                messages += tables[name]
            elif name in functions:
                messages += _messages_in(functions[name])
                todo += sorted(_used_names(functions[name]))
        result[numbers[0]] = [text for text in dict.fromkeys(headline(message) for message in messages)
                              if _worth_listing(text)]
    return result


# The page ------------------------------------------------------------------------------------------


def load_workshop(path: Path = WORKSHOP) -> dict:
    """The hand-written part: per chapter, ``skip`` (section numbers) and ``questions``."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GuideError(f"{path} is missing: it holds each chapter's skip list and questions.") from None
    except tomllib.TOMLDecodeError as error:
        raise GuideError(f"{path} is not valid TOML: {error}") from None


def minutes(section: Section, run_seconds: float | None, homework: Iterable[str] = ()) -> float:
    """The rule of the plan: prose and presented code at their rates, the exercise allowances, the run time.

    Plumbing cells run but are not presented; exercises in ``homework`` are set for afterwards and
    take no time in the session.
    """
    later = set(homework)
    exercise = sum(EXERCISE_MINUTES.get(level, EXERCISE_MINUTES["core"])
                   for number, level, _ in section.exercises if number not in later)
    presented = section.code_lines - section.plumbing_lines
    return (section.words / WORDS_PER_MINUTE + presented / CODE_LINES_PER_MINUTE + exercise
            + (run_seconds or 0.0) / 60)


@dataclass
class ChapterPlan:
    """One chapter's sections with their figures, the skip list and the minutes it adds up to."""

    name: str
    title: str
    sections: list[Section]
    runs: Mapping[str, Mapping[str, float]]
    skip: set[str]
    homework: set[str]
    questions: list[str]
    mistakes: dict[str, list[str]]
    ideas: set[str] = field(default_factory=set)
    later: set[str] = field(default_factory=set)  # exercises the two-session plan leaves for afterwards

    def run_seconds(self, run: str, number: str) -> float | None:
        return self.runs.get(run, {}).get("seconds", {}).get(number)

    def session_minutes(self, section: Section) -> float:
        """What a section takes in the 60-minute session: all but its plumbing, or only its run if skipped."""
        run = self.run_seconds(PLAN_RUN, section.number)
        if section.number in self.skip:
            return (run or 0.0) / 60
        return minutes(section, run, self.homework)

    def two_session_minutes(self, section: Section) -> float:
        """What a section takes in the two-session plan: every section is presented, plumbing aside."""
        return minutes(section, self.run_seconds(PLAN_RUN, section.number), self.later)

    def total(self, session: bool) -> float:
        """Minutes of the 60-minute session (``session``) or of the whole chapter, everything presented."""
        if session:
            return sum(self.session_minutes(section) for section in self.sections)
        return sum(minutes(section, self.run_seconds(PLAN_RUN, section.number)) for section in self.sections)

    def split(self) -> int:
        """Where the second of two sessions starts: the section boundary that balances the two sessions."""
        spent = [self.two_session_minutes(section) for section in self.sections]
        total = sum(spent)
        return min(range(1, len(spent)), key=lambda cut: (max(sum(spent[:cut]), total - sum(spent[:cut])), cut),
                   default=len(spent))

    def two_sessions(self) -> tuple[float, float]:
        """The minutes of the first and the second session of the two-session plan."""
        cut = self.split()
        spent = [self.two_session_minutes(section) for section in self.sections]
        return sum(spent[:cut]), sum(spent[cut:])


def chapter_plan(notebook_path: Path, times: Mapping, workshop: Mapping, checks_dir: Path) -> ChapterPlan:
    """Gather one chapter's plan; the skip list must name sections the notebook has."""
    notebook = nbformat.read(notebook_path, as_version=4)
    found = sections(notebook)
    chapter = int(notebook_path.name[:2])
    entry = workshop.get(f"ch{chapter:02d}")
    if entry is None:
        raise GuideError(f"{WORKSHOP.name} has no [ch{chapter:02d}] table for {notebook_path.name}.")
    skip = {str(number) for number in entry.get("skip", [])}
    ideas = {str(number) for number in entry.get("ideas", [])}
    for key, listed in (("skips", skip), ("names as ideas", ideas)):
        unknown = listed - {section.number for section in found}
        if unknown:
            raise GuideError(f"[ch{chapter:02d}] {key} section(s) {sorted(unknown)} that {notebook_path.name} "
                             f"does not have (its sections: {', '.join(s.number for s in found)}).")
    if skip & ideas:
        raise GuideError(f"[ch{chapter:02d}] skips section(s) {sorted(skip & ideas)} that it names as the chapter's "
                         "ideas: every plan presents its ideas; skip plumbing, timing or another section instead.")
    homework = {str(number) for number in entry.get("homework", [])}
    later = {str(number) for number in entry.get("two_session_homework", [])}
    set_in = {number for section in found for number, _, _ in section.exercises}
    for key, listed in (("homework", homework), ("two_session_homework", later)):
        if listed - set_in:
            raise GuideError(f"[ch{chapter:02d}] sets exercise(s) {sorted(listed - set_in)} as {key}, but "
                             f"{notebook_path.name} sets only {', '.join(sorted(set_in)) or 'none'}.")
    title = notebook.cells[0].source.lstrip("# ").split("\n", 1)[0].strip()
    checks = checks_dir / f"ch{chapter:02d}.py"
    mistakes = checker_mistakes(checks) if checks.exists() else {}
    titles = checker_titles(checks) if checks.exists() else {}
    for section in found:
        section.exercises = [(number, level, titles.get(number, "")) for number, level, _ in section.exercises]
    homework |= {number for section in found if section.number in skip for number, _, _ in section.exercises}
    return ChapterPlan(notebook_path.stem, title, found, times.get(notebook_path.stem, {}), skip, homework,
                       list(entry.get("questions", [])), mistakes, ideas, later)


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f} s" if value < 90 else f"{value / 60:.1f} min"


def _listed(numbers: Iterable[str]) -> str:
    ordered = sorted(numbers, key=lambda n: tuple(int(p) for p in n.split(".")))
    return ", ".join(ordered[:-1]) + f" and {ordered[-1]}" if len(ordered) > 1 else "".join(ordered)


def render_chapter(plan: ChapterPlan) -> str:
    """One chapter's part of the guide."""
    full = next((run for run in sorted(plan.runs) if run.startswith("full-")), None)
    kept = len(plan.sections) - len(plan.skip)
    cut = plan.split()
    first, second = plan.two_sessions()
    ideas = [section for section in plan.sections if section.number in plan.ideas]
    later = f", exercise{'s' if len(plan.later) > 1 else ''} {_listed(plan.later)} for afterwards" if plan.later else ""
    lines = [f"## {plan.title}", "",
             f"**One session of 60 minutes** presents {kept} of the {len(plan.sections)} sections"
             + (f" and leaves exercise{'s' if len(plan.homework) > 1 else ''} {_listed(plan.homework)} for "
                "afterwards" if plan.homework else "")
             + f": {plan.total(True):.0f} minutes by the rule above, against {plan.total(False):.0f} for the whole "
             "chapter with its plumbing presented."
             + (f" Its ideas, which every plan presents: {'; '.join(f'{s.number}. {s.title}' for s in ideas)}."
                if ideas else ""), "",
             f"**Two sessions** present every section{later}: sections {plan.sections[0].number}-"
             f"{plan.sections[cut - 1].number} in the first ({first:.0f} minutes), "
             f"{plan.sections[cut].number}-{plan.sections[-1].number} in the second ({second:.0f} minutes)."
             if cut < len(plan.sections) else f"**Two sessions** are not needed: the whole chapter takes {first:.0f} "
             "minutes.", "",
             f"| section | words | code lines (plumbing) | exercises | run, {PLAN_RUN} | run, {full or 'full mode'} "
             "| minutes | one session | two sessions |",
             "| --- | ---: | ---: | --- | ---: | ---: | ---: | --- | ---: |"]
    for index, section in enumerate(plan.sections):
        exercises = ", ".join(f"{number} ({level}{', homework' if number in plan.homework else ''})"
                              for number, level, _ in section.exercises) or "-"
        quick = plan.run_seconds(PLAN_RUN, section.number)
        slow = plan.run_seconds(full, section.number) if full else None
        decision = ("skip (run only)" if section.number in plan.skip else
                    "present (idea)" if section.number in plan.ideas else "present")
        code = f"{section.code_lines} ({section.plumbing_lines})" if section.plumbing_lines else f"{section.code_lines}"
        lines.append(f"| {section.number}. {section.title} | {section.words} | {code} | {exercises} "
                     f"| {_seconds(quick)} | {_seconds(slow)} | {plan.session_minutes(section):.0f} | {decision} "
                     f"| {1 if index < cut else 2} |")
    lines.append("")
    if plan.questions:
        lines += ["**Discussion questions.**", ""] + [f"{i}. {q}" for i, q in enumerate(plan.questions, 1)] + [""]
    exercise_titles = {number: title for section in plan.sections for number, _, title in section.exercises}
    if plan.mistakes:
        lines += [f"**Mistakes the checkers name**, read from `utils/checks/ch{plan.name[:2]}.py` (every checker "
                  "also names a missing `return`, a wrong type and a wrong shape):", ""]
        for number in sorted(plan.mistakes, key=lambda n: tuple(int(p) for p in n.split("."))):
            named = plan.mistakes[number]
            title = exercise_titles.get(number, "")
            lines.append(f"- Exercise {number}{' (' + title + ')' if title else ''}:"
                         + ("" if named else " only the generic checks (shape, type, values)."))
            lines += [f"  - {text}" for text in named[:MISTAKES_SHOWN]]
        lines.append("")
    return "\n".join(lines)


def chapter_plans(solutions: Path = REPO / "solutions", store: Path = SECTIONS, workshop_path: Path = WORKSHOP,
                  checks_dir: Path = REPO / "utils" / "checks") -> list[ChapterPlan]:
    """Every chapter's plan, from the notebooks, the recorded section times and the workshop file."""
    workshop = load_workshop(workshop_path)
    times = json.loads(store.read_text(encoding="utf-8")) if store.exists() else {}
    return [chapter_plan(path, times, workshop, checks_dir) for path in sorted(solutions.glob("*.ipynb"))]


def render(solutions: Path = REPO / "solutions", store: Path = SECTIONS, workshop_path: Path = WORKSHOP,
           checks_dir: Path = REPO / "utils" / "checks") -> str:
    """The whole guide as Markdown."""
    plans = chapter_plans(solutions, store, workshop_path, checks_dir)
    workshop = load_workshop(workshop_path)
    runs = sorted({run for plan in plans for run in plan.runs})
    intro = workshop.get("guide", {}).get("introduction", "").strip()
    rule = (f"**How the minutes are counted.** A section's minutes are its prose at {WORDS_PER_MINUTE} words a "
            f"minute and its presented code at {CODE_LINES_PER_MINUTE} lines a minute (presenting and explaining "
            "them), plus an allowance per exercise ("
            + ", ".join(f"{level} {value}" for level, value in EXERCISE_MINUTES.items())
            + " minutes; none for homework), plus the time its cells took to run in quick mode on PyTorch "
            f"(`{PLAN_RUN}`), the mode for laptops in a workshop; a skipped section counts only its run time. "
            "The rates and allowances are the rule's assumptions; the run times are measured, from executed "
            f"copies of the solutions ({', '.join(f'`{run}`' for run in runs) or 'none recorded yet'}, on a "
            "2-core CPU, by `course_tools.execution`); the words, code lines and exercises are counted from the "
            "notebooks.\n\n"
            "**What the plans keep.** A plan keeps a chapter's ideas and leaves out its plumbing. A code cell "
            "that only proves an implementation equal to another (a parity check, weights copied into a "
            "reference), times a run, saves results or prints library source is plumbing: it runs (later cells "
            "use what it computes) but is never presented, in any plan; the tables give its code lines in "
            "brackets. The sections that carry the chapter's ideas (`ideas` in `book/workshop.toml`) are presented "
            "in every plan; the 60-minute session skips other sections (run only) and sets some exercises as "
            "homework until it fits in 60 minutes. The two-session plan presents every section and splits them at "
            "the section boundary that balances the two sessions, each within 60 minutes.")
    body = "\n".join(render_chapter(plan) for plan in plans)
    return (f"# Instructor's guide\n\nGenerated by `python -m course_tools.guide` from the notebooks, "
            f"`results/sections.json` and `book/workshop.toml`; edit those, not this file.\n\n"
            f"{intro}\n\n{rule}\n\n{body}").rstrip() + "\n"


def over_budget(solutions: Path = REPO / "solutions", store: Path = SECTIONS,
                workshop_path: Path = WORKSHOP) -> list[str]:
    """Plans that add up to more than SESSION_MINUTES a session: the 60-minute one, or one of the two sessions."""
    found = []
    for plan in chapter_plans(solutions, store, workshop_path):
        if plan.total(True) > SESSION_MINUTES:
            found.append(f"{plan.name}: {plan.total(True):.0f} minutes in one session")
        for number, spent in enumerate(plan.two_sessions(), start=1):
            if spent > SESSION_MINUTES:
                found.append(f"{plan.name}: {spent:.0f} minutes in session {number} of two")
    return found


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate INSTRUCTORS.md, the instructor's guide.")
    parser.add_argument("--record", nargs="+", type=Path, metavar="FOLDER",
                        help="first add the section times of the executed copies in these folders")
    parser.add_argument("--check", action="store_true", help="fail if INSTRUCTORS.md is out of date")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        if args.record:
            record(args.record)
        text = render()
    except GuideError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.check:
        if not GUIDE.exists() or GUIDE.read_text(encoding="utf-8") != text:
            print(f"{GUIDE} is out of date: run `python -m course_tools.guide`.", file=sys.stderr)
            return 1
        return 0
    write_text_atomically(GUIDE, text)
    print(f"updated {GUIDE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
