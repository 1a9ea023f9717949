"""The instructor's class report: what a class got right and wrong, per assignment, check and mistake.

    python -m autograder.class_grading.report                              # every assignment in the gradebook
    python -m autograder.class_grading.report 01_to_categorical 03_compile --course /srv/course --out /tmp/report
    python -m autograder.class_grading.grade --report                      # grade, then write the report

Reads nbgrader's gradebook (the URL in the course's nbgrader config, as `autograder.class_grading.grade` finds it) for
the scores, and the autograded notebooks, autograded/<student>/<assignment>/<notebook>.ipynb, for the failure
records the checks leave in a failed test cell (a `display_data` output of mime type `RECORD_MIME`). Writes into
--out (default <course>/reports/): report.html (one self-contained file: plots as base64 PNG, no external CSS,
JavaScript or fonts, so it works offline and by e-mail), report.json (the same tables) and one CSV per table.

The module goes read -> tables (plain dicts and lists) -> plots -> HTML. Matplotlib is imported only when a
plot is drawn (Agg backend), so importing this module stays cheap.
"""
import argparse
import base64
import csv
import html
import io
import json
import math
import statistics
import sys
from collections import defaultdict
from pathlib import Path

from autograder.checks.errors import RECORD_MIME, split_grade_id
from autograder.grading.cells import cell_is_graded, grade_id as grade_id_of
LOW_DISCRIMINATION = 0.2
UPPER_LOWER_SHARE = 0.27
MISTAKES_SHOWN = 12  # the rest of an assignment's mistakes table is folded away (all of it is in mistakes.csv)
HEATMAP_LABELLED_ROWS = 80  # more students than this: the heat map's rows are not labelled (see heatmap.csv)


# --- read ------------------------------------------------------------------------------------------------

def read_gradebook(url, assignments=None):
    """Scores from nbgrader's gradebook: {"students": [ids], "assignments": {name: {"notebooks": [names],
    "checks": {grade_id: {"notebook", "max_score"}}, "scores": {student: {grade_id: score}}}}}.

    Only code grade cells count as checks (nbgrader's autograded tests); `assignments` None means every
    assignment in the gradebook. Raises KeyError for an assignment the gradebook does not have."""
    from nbgrader.api import Gradebook, MissingEntry

    result = {"students": [], "assignments": {}}
    with Gradebook(url) as gb:
        result["students"] = sorted(s.id for s in gb.students)
        names = [a.name for a in gb.assignments] if assignments is None else list(assignments)
        for name in names:
            try:
                assignment = gb.find_assignment(name)
            except MissingEntry:
                raise KeyError(name) from None
            notebooks = sorted(n.name for n in assignment.notebooks)
            checks = {}
            for notebook in assignment.notebooks:
                for cell in notebook.grade_cells:
                    if cell.cell_type == "code":
                        checks[cell.name] = {"notebook": notebook.name, "max_score": float(cell.max_score or 0)}
            scores = {}
            for submission in assignment.submissions:
                student = submission.student.id
                scores[student] = {}
                for notebook in notebooks:
                    for grade in gb.find_submission_notebook(notebook, name, student).grades:
                        if grade.name in checks:
                            scores[student][grade.name] = float(grade.score or 0)
            result["assignments"][name] = {"notebooks": notebooks, "checks": checks, "scores": scores}
    return result


def read_notebook(path):
    """What an autograded notebook tells: (grade ids in cell order, {grade_id: failure record}, seconds or None).

    A record is the JSON object of a `RECORD_MIME` display_data output of the grade cell. The seconds are the
    span of the cells' execution timestamps (nbclient's metadata.execution), when every executed cell has them.
    A missing or unreadable notebook gives ([], {}, None)."""
    try:
        cells = json.loads(Path(path).read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError):
        return [], {}, None
    order, records, starts, ends, untimed = [], {}, [], [], False
    for cell in cells:
        meta = cell.get("metadata", {})
        grade_id = grade_id_of(cell)
        if grade_id and cell_is_graded(cell):
            order.append(grade_id)
        for output in cell.get("outputs", []):
            data = output.get("data") or {}
            if output.get("output_type") == "display_data" and RECORD_MIME in data and grade_id:
                record = data[RECORD_MIME]
                records[grade_id] = json.loads(record) if isinstance(record, str) else record
        if cell.get("cell_type") == "code" and cell.get("execution_count") is not None:
            timing = meta.get("execution") or {}
            if "iopub.execute_input" in timing and "shell.execute_reply" in timing:
                starts.append(timing["iopub.execute_input"])
                ends.append(timing["shell.execute_reply"])
            else:
                untimed = True
    return order, records, (_span_seconds(min(starts), max(ends)) if starts and not untimed else None)


def _span_seconds(start, end):
    from datetime import datetime

    try:
        parse = lambda text: datetime.fromisoformat(text.replace("Z", "+00:00"))  # noqa: E731
        return max(0.0, (parse(end) - parse(start)).total_seconds())
    except (TypeError, ValueError):
        return None


def read_timings(path):
    """{(student, assignment): seconds} of the notebooks grade_class graded, from its `--json` output."""
    results = json.loads(Path(path).read_text(encoding="utf-8")).get("results", [])
    return {(r["student"], r["assignment"]): float(r["seconds"]) for r in results if r.get("status") == "graded"}


def read_course(root, assignments=None, timings=None):
    """The gradebook (`read_gradebook`) plus, per assignment, the records and check order of the autograded
    notebooks and the time per notebook: from `timings` ({(student, assignment): seconds}, grade_class's) when
    given, otherwise from the notebooks' execution timestamps when they have them."""
    from autograder.class_grading.grade import course_app, gradebook_url

    data = read_gradebook(gradebook_url(root), assignments)
    autograded = Path(root) / course_app(root).coursedir.autograded_directory
    for name, assignment in data["assignments"].items():
        order, records, seconds = [], {}, {}
        for student in assignment["scores"]:
            records[student] = {}
            for notebook in assignment["notebooks"]:
                cells, found, span = read_notebook(autograded / student / name / f"{notebook}.ipynb")
                order += [c for c in cells if c not in order]
                records[student].update(found)
                if span is not None:
                    seconds[student] = seconds.get(student, 0.0) + span
        position = {grade_id: i for i, grade_id in enumerate(order)}
        assignment["order"] = sorted(assignment["checks"], key=lambda g: (position.get(g, len(position)), g))
        assignment["records"] = records
        from_grading = {s: t for (s, a), t in (timings or {}).items() if a == name and s in assignment["scores"]}
        assignment["seconds"] = from_grading or seconds
        assignment["timing_source"] = ("grade_class" if from_grading else "notebook" if seconds else None)
    return data


# --- tables ----------------------------------------------------------------------------------------------

def pearson(xs, ys):
    """Pearson's correlation of two equally long sequences; None when either is constant (or too short)."""
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return None if sxx == 0 or syy == 0 else sxy / math.sqrt(sxx * syy)


def upper_lower_index(passed, rest, share=UPPER_LOWER_SHARE):
    """Pass rate of the top `share` of students minus that of the bottom `share`, ranked by `rest` (their score
    without the check; ties broken by position, i.e. student id). None with fewer than two students."""
    n = len(passed)
    if n < 2:
        return None
    size = max(1, round(share * n))
    ranked = sorted(range(n), key=lambda i: (-rest[i], i))
    upper, lower = ranked[:size], ranked[-size:]
    return sum(passed[i] for i in upper) / size - sum(passed[i] for i in lower) / size


def _median(values):
    return statistics.median(values) if values else None


def _mean(values):
    return sum(values) / len(values) if values else None


def assignment_tables(name, assignment, students):
    """Every table of one assignment, as plain dicts and lists (what report.json holds for it)."""
    checks, order, scores = assignment["checks"], assignment["order"], assignment["scores"]
    submitted = sorted(scores)
    max_total = sum(checks[g]["max_score"] for g in order)
    totals = {s: sum(scores[s].get(g, 0.0) for g in order) for s in submitted}
    passed = {g: {s: checks[g]["max_score"] > 0 and scores[s].get(g, 0.0) >= checks[g]["max_score"]
                  for s in submitted} for g in order}
    exercises = {}
    for g in order:
        for s in submitted:
            record = assignment["records"].get(s, {}).get(g)
            if record and record.get("exercise"):
                exercises.setdefault(g, record["exercise"])
        exercises.setdefault(g, split_grade_id(g)[0] or g)

    check_rows, failures = [], defaultdict(list)
    for g in order:
        kinds = defaultdict(list)
        for s in submitted:
            if passed[g][s]:
                continue
            record = assignment["records"].get(s, {}).get(g) or {}
            kind = record.get("kind") or "error"
            kinds[kind].append(s)
            failures[(g, kind, record.get("mistake"))].append((s, record.get("mistake_text")))
        flags_p = [passed[g][s] for s in submitted]
        rest = [totals[s] - scores[s].get(g, 0.0) for s in submitted]
        p = _mean([float(x) for x in flags_p])
        r = pearson([float(x) for x in flags_p], rest)
        d = upper_lower_index([float(x) for x in flags_p], rest)
        flags = []
        if submitted and p == 0:
            flags.append("nobody passes")
        if submitted and p == 1:
            flags.append("everybody passes")
        if r is not None and r < LOW_DISCRIMINATION:
            flags.append(f"discrimination below {LOW_DISCRIMINATION}")
        check_rows.append({
            "check": g, "exercise": exercises[g], "notebook": checks[g]["notebook"],
            "max_score": checks[g]["max_score"], "students": len(submitted), "passed": sum(flags_p),
            "pass_rate": p, "difficulty": p, "point_biserial": r, "upper_lower": d, "flags": flags,
            "kinds": {k: {"count": len(v), "students": sorted(v)}
                      for k, v in sorted(kinds.items(), key=lambda kv: (-len(kv[1]), kv[0]))}})

    mistake_rows = [{"check": g, "exercise": exercises[g], "kind": kind, "mistake": mistake,
                     "mistake_text": next((t for _, t in rows if t), None), "count": len(rows),
                     "students": sorted(s for s, _ in rows)}
                    for (g, kind, mistake), rows in failures.items()]
    mistake_rows.sort(key=lambda m: (-m["count"], m["mistake"] is None, order.index(m["check"]), m["kind"],
                                     m["mistake"] or ""))

    exercise_names = list(dict.fromkeys(exercises[g] for g in order))
    heat = {s: {} for s in submitted}
    for e in exercise_names:
        cells = [g for g in order if exercises[g] == e]
        top = sum(checks[g]["max_score"] for g in cells)
        for s in submitted:
            heat[s][e] = sum(scores[s].get(g, 0.0) for g in cells) / top if top else None

    values = [totals[s] for s in submitted]
    seconds = assignment.get("seconds") or {}
    timing = None
    if seconds:
        times = sorted(seconds.values())
        timing = {"source": assignment.get("timing_source"), "notebooks": len(times), "median": _median(times),
                  "mean": _mean(times), "max": times[-1],
                  "slowest": [{"student": s, "seconds": t}
                              for s, t in sorted(seconds.items(), key=lambda st: (-st[1], st[0]))[:5]],
                  "per_student": dict(sorted(seconds.items()))}
    return {
        "assignment": name,
        "summary": {"students": len(students), "submitted": len(submitted), "max_score": max_total,
                    "mean": _mean(values), "median": _median(values),
                    "full_marks": sum(v >= max_total for v in values) if max_total else 0,
                    "zeros": sum(v == 0 for v in values),
                    "not_submitted": sorted(set(students) - set(submitted))},
        "totals": totals, "checks": check_rows, "mistakes": mistake_rows,
        "exercises": exercise_names, "heatmap": heat, "timing": timing}


def failures_by_student(table):
    """{student: {check: (kind of failure, named mistake's id or None)}}: every failed check of each student of
    one assignment's tables (`assignment_tables`), read back from its mistakes table."""
    failed = defaultdict(dict)
    for row in table["mistakes"]:
        for student in row["students"]:
            failed[student][row["check"]] = (row["kind"], row["mistake"])
    return dict(failed)


def build_tables(data):
    """{"students": [...], "assignments": [tables of each assignment]} from `read_course`'s data."""
    return {"students": data["students"],
            "assignments": [assignment_tables(name, a, data["students"]) for name, a in data["assignments"].items()]}


# --- plots -----------------------------------------------------------------------------------------------

def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(figure):
    """The figure as a base64 PNG, closed afterwards."""
    plt = _pyplot()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def histogram_png(table):
    """The distribution of total scores of one assignment, one bar per possible total when there are few."""
    plt = _pyplot()
    values, top = list(table["totals"].values()), table["summary"]["max_score"]
    figure, axes = plt.subplots(figsize=(5.5, 2.6))
    bins = (int(top) + 1 if top == int(top) and top <= 40 else 20)
    axes.hist(values, bins=bins, range=(-0.5, top + 0.5) if bins == int(top) + 1 else (0, top or 1),
              color="#3b6ea8", edgecolor="white")
    axes.set_xlabel(f"total score (of {top:g})")
    axes.set_ylabel("students")
    axes.spines[["top", "right"]].set_visible(False)
    return _png(figure)


def heatmap_png(table):
    """Students (rows, best total first) × exercises (columns): the fraction of each exercise's points."""
    plt = _pyplot()
    students = sorted(table["heatmap"], key=lambda s: (-table["totals"][s], s))
    exercises = table["exercises"]
    grid = [[table["heatmap"][s][e] if table["heatmap"][s][e] is not None else float("nan") for e in exercises]
            for s in students]
    labelled = len(students) <= HEATMAP_LABELLED_ROWS
    height = 1.4 + (0.18 if labelled else 0.03) * max(len(students), 8)
    figure, axes = plt.subplots(figsize=(1.6 + 0.55 * max(len(exercises), 4), height))
    image = axes.imshow(grid, aspect="auto", cmap="RdYlGn", vmin=0, vmax=1, interpolation="nearest")
    axes.set_xticks(range(len(exercises)), exercises, rotation=40, ha="right", fontsize=8)
    if labelled:
        axes.set_yticks(range(len(students)), students, fontsize=7)
    else:
        axes.set_yticks([])
        axes.set_ylabel(f"{len(students)} students, best total on top")
    figure.colorbar(image, ax=axes, fraction=0.04, pad=0.02, label="fraction of points")
    return _png(figure)


def draw_plots(tables):
    """{assignment: {"histogram": base64 PNG, "heatmap": base64 PNG}} (none for an assignment nobody handed in)."""
    return {t["assignment"]: {"histogram": histogram_png(t), "heatmap": heatmap_png(t)}
            for t in tables["assignments"] if t["totals"]}


# --- HTML ------------------------------------------------------------------------------------------------

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d1d1f; margin: 0;
       background: #fafafa; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5em 2em 4em; background: white; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #3b6ea8; padding-bottom: 0.2em;
     margin-top: 2.2em; } h3 { margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.6em 0 1em; font-size: 0.92em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.7em; text-align: left; vertical-align: top; }
th { background: #f0f3f7; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.flag { display: inline-block; background: #fde8e8; color: #9b1c1c; border-radius: 0.8em; padding: 0 0.6em;
        margin: 0 0.2em 0.2em 0; font-size: 0.85em; white-space: nowrap; }
.note { color: #555; font-size: 0.92em; max-width: 60em; } code { font-size: 0.92em; }
details summary { cursor: pointer; color: #3b6ea8; } details div { max-width: 34em; font-size: 0.9em; }
img { max-width: 100%; } nav a { margin-right: 1em; }
"""

READING = {
    "difficulty": "Difficulty p is the share of students who passed the check: near 1 an easy check, near 0 a hard "
                  "one. A check everybody or nobody passes says nothing about who understood the exercise.",
    "point_biserial": "Discrimination r is the point-biserial correlation between passing the check and the "
                      "student's score on the rest of the assignment (this check left out). From 0.3 up the check "
                      "separates strong from weak students well; below 0.2 it hardly does (a test of something "
                      "else, a confusing text, or luck); a negative r means weaker students pass it more often "
                      "than stronger ones: look at the check.",
    "upper_lower": "Upper–lower index D is the pass rate of the best 27% of students (ranked by their score "
                   "without this check) minus that of the weakest 27%; it reads like r (0.3 and more is good).",
}


def _e(value):
    return html.escape(str(value), quote=True)


def _num(value, digits=2):
    return "—" if value is None else f"{value:.{digits}f}"


def _students(names):
    """A collapsible list of students (escaped)."""
    if not names:
        return ""
    label = f"{len(names)} student{'s' if len(names) != 1 else ''}"
    return f"<details><summary>{label}</summary><div>{_e(', '.join(names))}</div></details>"


def _table(headers, rows):
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def summary_html(table):
    """The score summary of one assignment."""
    s = table["summary"]
    row = (f"<tr><td class=n>{s['submitted']}</td><td class=n>{_num(s['mean'])}</td>"
           f"<td class=n>{_num(s['median'], 1)}</td><td class=n>{s['max_score']:g}</td><td class=n>{s['full_marks']}"
           f"</td><td class=n>{s['zeros']}</td><td class=n>{len(s['not_submitted'])}"
           f"{_students(s['not_submitted'])}</td></tr>")
    return _table(["submitted", "mean", "median", "max", "full marks", "zero", "not submitted"], [row])


def checks_html(table):
    """Pass rate, failure kinds and item analysis of each check, in notebook order."""
    rows = []
    for c in table["checks"]:
        kinds = "<br>".join(f"{_e(k)} {v['count']}" for k, v in c["kinds"].items())
        flags = "".join(f"<span class=flag>{_e(f)}</span>" for f in c["flags"])
        rows.append(f"<tr><td><code>{_e(c['check'])}</code></td><td>{_e(c['exercise'])}</td>"
                    f"<td class=n>{c['passed']}/{c['students']}</td><td class=n>{_num(c['difficulty'])}</td>"
                    f"<td class=n>{_num(c['point_biserial'])}</td><td class=n>{_num(c['upper_lower'])}</td>"
                    f"<td>{kinds}</td><td>{flags}</td></tr>")
    return _table(["check", "exercise", "passed", "difficulty p", "discrimination r", "upper–lower D",
                   "failures by kind", "flags"], rows)


def mistakes_html(table):
    """Every (check, kind of failure, named mistake) that occurred, most common first, with its students."""
    if not table["mistakes"]:
        return "<p class=note>No check failed.</p>"
    rows = []
    for i, m in enumerate(table["mistakes"]):
        if i == MISTAKES_SHOWN:
            rows.append(f"<tr><td colspan=5><details><summary>{len(table['mistakes']) - i} more, less common"
                        f"</summary><table>")
        named = (f"{_e(m['mistake_text'] or m['mistake'])}<br><code>{_e(m['mistake'])}</code>" if m["mistake"]
                 else "<span class=note>no named mistake</span>")
        rows.append(f"<tr><td class=n>{m['count']}</td><td>{named}</td><td>{_e(m['kind'])}</td>"
                    f"<td><code>{_e(m['check'])}</code></td><td>{_students(m['students'])}</td></tr>")
    if len(table["mistakes"]) > MISTAKES_SHOWN:
        rows.append("</table></details></td></tr>")
    return _table(["count", "mistake", "kind", "check", "students"], rows)


def timing_html(table):
    """Time per notebook, or one sentence saying there is none."""
    t = table["timing"]
    if not t:
        return ("<p class=note>No timing: nbgrader does not store grading times, and neither grade_class's "
                "results nor the autograded notebooks' cell timestamps are available for this assignment.</p>")
    source = ("as measured by grade_class" if t["source"] == "grade_class"
              else "span of the cell execution timestamps in the autograded notebooks")
    slowest = ", ".join(f"{_e(x['student'])} {x['seconds']:.1f} s" for x in t["slowest"])
    return (f"<p>{t['notebooks']} notebooks ({source}): median {t['median']:.1f} s, mean {t['mean']:.1f} s, "
            f"max {t['max']:.1f} s. Slowest: {slowest}.</p>")


def render_html(tables, plots, title="Class report"):
    """The whole report as one self-contained HTML page."""
    parts = [f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{_e(title)}</title>"
             f"<meta name=viewport content='width=device-width, initial-scale=1'><style>{CSS}</style></head>"
             f"<body><main><h1>{_e(title)}</h1>"
             f"<p class=note>{len(tables['students'])} students in the gradebook, "
             f"{len(tables['assignments'])} assignments. A check is one graded test cell; it passes with full "
             f"points. Failures come from the checks' records in the autograded notebooks; a failed cell without "
             f"one counts as <code>error</code>.</p>"
             "<p class=note>" + " ".join(_e(text) for text in READING.values()) + "</p><nav>"]
    parts += [f"<a href='#{_e(t['assignment'])}'>{_e(t['assignment'])}</a>" for t in tables["assignments"]]
    parts.append("</nav>")
    for t in tables["assignments"]:
        name, plot = t["assignment"], plots.get(t["assignment"])
        parts.append(f"<h2 id='{_e(name)}'>{_e(name)}</h2>{summary_html(t)}")
        if plot:
            parts.append(f"<img alt='score distribution of {_e(name)}' src='data:image/png;base64,"
                         f"{plot['histogram']}'>")
        parts.append(f"<h3>Mistakes, most common first</h3>{mistakes_html(t)}")
        parts.append(f"<h3>Checks and item analysis</h3><p class=note>{_e(READING['difficulty'])} "
                     f"Flagged: checks nobody passes, everybody passes, or with r below {LOW_DISCRIMINATION}."
                     f"</p>{checks_html(t)}")
        if plot:
            parts.append(f"<h3>Students × exercises</h3><p class=note>Fraction of each exercise's points "
                         f"(green: all, red: none).</p><img alt='heat map of {_e(name)}' "
                         f"src='data:image/png;base64,{plot['heatmap']}'>")
        parts.append(f"<h3>Time per notebook</h3>{timing_html(t)}")
    parts.append("</main></body></html>")
    return "\n".join(parts)


# --- files -----------------------------------------------------------------------------------------------

def _write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)


def write_csvs(tables, out):
    """summary.csv, checks.csv, mistakes.csv, heatmap.csv and (when there is timing) timing.csv; lists of
    students are separated by spaces."""
    ts = tables["assignments"]
    _write_csv(out / "summary.csv", ["assignment", "students", "submitted", "max_score", "mean", "median",
                                     "full_marks", "zeros", "not_submitted"],
               [[t["assignment"], s["students"], s["submitted"], s["max_score"], s["mean"], s["median"],
                 s["full_marks"], s["zeros"], " ".join(s["not_submitted"])] for t in ts for s in [t["summary"]]])
    _write_csv(out / "checks.csv", ["assignment", "check", "exercise", "max_score", "students", "passed",
                                    "difficulty", "point_biserial", "upper_lower", "flags", "failures_by_kind"],
               [[t["assignment"], c["check"], c["exercise"], c["max_score"], c["students"], c["passed"],
                 c["difficulty"], c["point_biserial"], c["upper_lower"], "; ".join(c["flags"]),
                 "; ".join(f"{k} {v['count']}" for k, v in c["kinds"].items())] for t in ts for c in t["checks"]])
    _write_csv(out / "mistakes.csv", ["assignment", "check", "exercise", "kind", "mistake", "mistake_text", "count",
                                      "students"],
               [[t["assignment"], m["check"], m["exercise"], m["kind"], m["mistake"] or "", m["mistake_text"] or "",
                 m["count"], " ".join(m["students"])] for t in ts for m in t["mistakes"]])
    _write_csv(out / "heatmap.csv", ["assignment", "student", "total", "exercise", "fraction"],
               [[t["assignment"], s, t["totals"][s], e, t["heatmap"][s][e]]
                for t in ts for s in sorted(t["heatmap"]) for e in t["exercises"]])
    if any(t["timing"] for t in ts):
        _write_csv(out / "timing.csv", ["assignment", "student", "seconds", "source"],
                   [[t["assignment"], s, sec, t["timing"]["source"]]
                    for t in ts if t["timing"] for s, sec in t["timing"]["per_student"].items()])


def write_report(root, assignments=None, out=None, timings=None):
    """Read the course in `root`, write report.html, report.json and the CSV files into `out` (default
    <root>/reports/). Returns the tables."""
    root = Path(root).resolve()
    out = Path(out) if out else root / "reports"
    out.mkdir(parents=True, exist_ok=True)
    tables = build_tables(read_course(root, assignments, timings))
    (out / "report.html").write_text(render_html(tables, draw_plots(tables)), encoding="utf-8")
    (out / "report.json").write_text(json.dumps(tables, indent=1), encoding="utf-8")
    write_csvs(tables, out)
    return tables


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.class_grading.report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignments", nargs="*", help="assignments to report on (default: all in the gradebook)")
    parser.add_argument("--course", default=".", help="course root, the folder with nbgrader_config.py (default: .)")
    parser.add_argument("--out", help="folder to write into (default: <course>/reports/)")
    parser.add_argument("--timings", metavar="JSON", help="grade_class's --json output, for the time per notebook")
    args = parser.parse_args(argv)
    root = Path(args.course).resolve()
    if not (root / "nbgrader_config.py").is_file():
        print(f"{root}: no nbgrader_config.py here; pass the course root with --course", file=sys.stderr)
        return 2
    from autograder.class_grading.grade import _path_with_python_bin

    _path_with_python_bin()  # nbgrader's gradebook runs `alembic` from PATH
    try:
        timings = read_timings(args.timings) if args.timings else None
        tables = write_report(root, args.assignments or None, args.out, timings)
    except KeyError as error:
        print(f"there is no assignment {error.args[0]!r} in the gradebook", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else root / "reports"
    print(f"Wrote {out / 'report.html'} ({len(tables['assignments'])} assignments), report.json and CSV files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
