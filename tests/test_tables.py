"""The generated measurement tables (benchmarks/tables.py) agree with their data; no TensorFlow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import tables

REPO = Path(__file__).resolve().parents[1]


def test_every_generated_table_matches_its_data():
    stale = tables.stale(tables.documents(REPO))
    assert not stale, "tables out of date (run: python -m benchmarks.tables):\n" + "\n".join(stale)


def test_every_marker_names_a_known_table_and_is_closed():
    found = []
    for path in tables.documents(REPO):
        text = path.read_text()
        opened = text.count("<!-- table:") - text.count("`<!-- table:")  # a marker quoted in prose is no marker
        assert opened == text.count("<!-- /table -->") - text.count("`<!-- /table -->`"), path
        names = [m.group("name") for m in tables.MARKER.finditer(text)]
        assert len(names) == opened, path
        assert set(names) <= set(tables.TABLES), (path, set(names) - set(tables.TABLES))
        found += names
    assert {"update_rule", "conditional_ablation", "stabilisers_150", "pggan_seeds"} <= set(found)


def test_every_results_file_is_json_lines_with_a_source_or_machine():
    for path in sorted((REPO / "benchmarks" / "results").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            assert isinstance(row, dict), path


def _write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_generator_on_a_synthetic_results_file(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    _write(results / "update_rule.jsonl", [
        {"rule": "simultaneous", "iterations": 100, "fcd": 200.04, "seconds_per_iteration": 0.5},
        {"rule": "simultaneous", "iterations": 200, "fcd": 150.0, "seconds_per_iteration": 0.5},
        {"rule": "alternating", "iterations": 100, "fcd": 190.0, "seconds_per_iteration": 0.75,
         "cost_ratio_to_simultaneous": 1.5},
        {"rule": "alternating", "iterations": 200, "fcd": 149.96, "seconds_per_iteration": 0.75,
         "cost_ratio_to_simultaneous": 1.5},
    ])
    doc = tmp_path / "doc.md"
    doc.write_text("before\n<!-- table:update_rule -->\nhand-typed, stale\n<!-- /table -->\nafter\n")

    assert tables.stale([doc], results) == [f"{doc}: update_rule"]
    new = tables.update_text(doc.read_text(), results)
    assert new == (
        "before\n<!-- table:update_rule -->\n"
        "| generator iterations | 100 | 200 | cost per iteration |\n"
        "|---|---|---|---|\n"
        "| simultaneous (the presets) | 200.0 | 150.0 | 0.50 s |\n"
        "| alternating (Algorithm 1) | 190.0 | 150.0 | 0.75 s (1.50x) |\n"
        "<!-- /table -->\nafter\n"
    )
    doc.write_text(new)
    assert tables.stale([doc], results) == []
    assert tables.update_text(new, results) == new  # idempotent

    # A changed figure in the data makes the table stale again.
    rows = [json.loads(x) for x in (results / "update_rule.jsonl").read_text().splitlines()]
    rows[1]["fcd"] = 140.0
    _write(results / "update_rule.jsonl", rows)
    assert tables.stale([doc], results) == [f"{doc}: update_rule"]


def test_generic_table_names_its_source(tmp_path):
    _write(tmp_path / "gif_grey_levels.jsonl", [
        {"grey_levels": 32, "gif_mb": 1.8, "frames": 42, "frame_pixels": "484x629", "conditions": "not recorded",
         "source": "transcribed from x.py"},
    ])
    text = tables.render("gif_grey_levels", tmp_path)
    assert "| 32 | 1.8 | 42 | 484x629 | not recorded |" in text
    assert "`benchmarks/results/gif_grey_levels.jsonl`; transcribed from x.py" in text


def test_unknown_table_is_refused(tmp_path):
    with pytest.raises(KeyError, match="Unknown table 'nope'"):
        tables.update_text("<!-- table:nope -->\n<!-- /table -->\n", tmp_path)


def test_number_formatting():
    assert tables.num(1234.56) == "1,234.6"
    assert tables.num(1507, 0, thousands=False) == "1507"
    assert tables.pct(0.938) == "93.8%"
    assert tables.mean_std([1.0, 3.0]) == "2.0 ± 1.4"
    assert tables.mean_std([69.35]) == "69.3"
