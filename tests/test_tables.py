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


def _stabiliser_row(variant, generator, seed, budget, iterations, fcd, classes=10):
    return {"variant": variant, "seed": seed, "generator": generator, "budget_seconds": budget,
            "iterations": iterations, "fcd": fcd, "classes_covered": classes, "eval_samples": 1000}


def _pggan_run(seed, fcd, classes, overrides=None):
    return {"preset": "pggan", "seed": seed, "overrides": overrides or {},
            "schedule": {"stage_batch_sizes": [16, 16, 8]},
            "evaluations": [{"at": "end of 7x7", "images_seen": 100, "fcd": 300.0, "classes_covered": 5,
                             "num_samples": 1000},
                            {"at": "end of run", "images_seen": 800, "fcd": fcd, "classes_covered": classes,
                             "num_samples": 1000}]}


def test_readme_results_on_synthetic_results_files(tmp_path):
    _write(tmp_path / "stabilisers.jsonl", [
        _stabiliser_row("dcgan", "raw", 1, 600.0, 900, 42.0, 9),
        _stabiliser_row("dcgan", "raw", 0, 600.0, 900, 40.0),
        _stabiliser_row("dcgan", "raw", 0, 150.0, 200, 90.0),         # a shorter budget: left out
        _stabiliser_row("dcgan", "ema0.99", 0, 600.0, 850, 10.0),     # an averaged generator: left out
        _stabiliser_row("sngan", "raw", 0, 900.0, 800, 20.0),         # another variant, a longer budget: left out
    ])
    _write(tmp_path / "pggan.jsonl", [
        _pggan_run(1, 66.0, 10),
        _pggan_run(0, 60.0, 8),
        _pggan_run(0, 1.0, 10, overrides={"ema": 0.999}),             # a run with overrides: left out
        {"variant": "dcgan", "seed": 0, "generator": "raw", "budget_seconds": 10.0, "iterations": 5, "fcd": 2.0},
    ])
    text = tables.render("readme_results", tmp_path)
    assert text.startswith(
        "| model | generator iterations | seeds | FCD, mean ± std over seeds | classes covered (per seed) "
        "| decision record |\n|---|---|---|---|---|---|\n"
        "| `dcgan` (the default preset), the stabilisers ablation's longest budget | 900 | 0, 1 | 41.0 ± 1.4 | 10, 9 "
        "| [008](docs/decisions/008-stabilisers-off.md) |\n"
        "| `pggan` (progressive growing 7x7 -> 14x14 -> 28x28), end of the run | 100 | 0, 1 | 63.0 ± 4.2 | 8, 10 "
        "| [009](docs/decisions/009-pggan-preset.md) |\n")
    caption = text.split("\n")[-2]
    assert "`benchmarks/results/stabilisers.jsonl`" in caption and "`benchmarks/results/pggan.jsonl`" in caption
    assert "FCD over 1,000 samples" in caption and "decision records" in caption
    for record in tables.README_RECORDS.values():
        assert (REPO / record).exists(), record

    # FCDs over different sample counts are not put in one table
    rows = [json.loads(x) for x in (tmp_path / "stabilisers.jsonl").read_text().splitlines()]
    rows[0]["eval_samples"] = 500
    _write(tmp_path / "stabilisers.jsonl", rows)
    with pytest.raises(ValueError, match="different sample counts"):
        tables.render("readme_results", tmp_path)


def test_the_readme_carries_the_generated_results_table():
    text = (REPO / "README.md").read_text()
    assert "<!-- table:readme_results -->" in text
    assert [m.group("name") for m in tables.MARKER.finditer(text)] == ["readme_results"]
