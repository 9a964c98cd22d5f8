"""The batch runner with a stand-in worker: planning, bad files, resuming, interruption, kill -9, workers."""
from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edit_batch_stub import StubFactory
from pipeline.common import UserError
from pipeline.edit.batch_runner import check_manifest, plan_batch, run_batch
from pipeline.edit.local_engine import LocalEngine

REPO = Path(__file__).resolve().parents[2]


def make_folder(root: Path) -> Path:
    """3 good photos, a corrupt JPEG, a text file renamed .jpg, a 'faceless' photo, a non-image."""
    src = root / "in"
    src.mkdir()
    rng = np.random.default_rng(0)
    for name in ("a.png", "b.png", "c.jpg"):
        Image.fromarray(rng.integers(40, 255, (24, 32, 3), dtype=np.uint8)).save(src / name)
    good = (src / "c.jpg").read_bytes()
    (src / "corrupt.jpg").write_bytes(good[:40] + b"\x00garbage" * 10)
    (src / "notes.jpg").write_text("this is a text file, not a photo\n")
    Image.fromarray(np.zeros((24, 32, 3), np.uint8)).save(src / "noface.png")
    (src / "readme.txt").write_text("ignored")
    return src


def outputs(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def calls(log_dir: Path) -> list[str]:
    return [line.split()[2] for f in log_dir.glob("calls-*.txt") for line in f.read_text().splitlines()]


def test_plan_finds_images_mirrors_tree_and_refuses_overwriting(tmp_path):
    src = make_folder(tmp_path)
    (src / "sub").mkdir()
    Image.fromarray(np.full((8, 8, 3), 99, np.uint8)).save(src / "sub" / "d.WEBP")
    Image.fromarray(np.full((8, 8, 3), 99, np.uint8)).save(src / "sub" / "e.tiff")
    (src / ".hidden.jpg").write_bytes(b"x")
    flat = plan_batch(src, tmp_path / "out")
    assert [j.name for j in flat] == ["a.png", "b.png", "c.jpg", "corrupt.jpg", "noface.png", "notes.jpg"]
    deep = plan_batch(src, tmp_path / "out", recursive=True)
    assert [j.name for j in deep][-2:] == ["sub/d.WEBP", "sub/e.tiff"]
    assert deep[-1].output == tmp_path / "out" / "sub" / "e.tiff"
    assert deep[-1].record == tmp_path / "out" / "reports" / "sub" / "e.tiff.json"
    # An output folder inside the input folder is never read back as input.
    (src / "edited").mkdir()
    Image.fromarray(np.full((8, 8, 3), 99, np.uint8)).save(src / "edited" / "a.png")
    assert not any(j.name.startswith("edited/") for j in plan_batch(src, src / "edited", recursive=True))
    # Two inputs that would become the same output get distinct names.
    Image.fromarray(np.full((8, 8, 3), 99, np.uint8)).save(src / "a.jpg")
    names = [j.output.name for j in plan_batch(src, tmp_path / "o2", output_suffix=".png")]
    assert len(set(names)) == len(names) and "a_jpg.png" in names
    with pytest.raises(UserError, match="would overwrite"):
        plan_batch(src, src)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no images"):
        plan_batch(tmp_path / "empty", tmp_path / "o3")


def test_bad_photos_are_reported_and_a_rerun_does_nothing(tmp_path):
    src, out, log = make_folder(tmp_path), tmp_path / "out", tmp_path / "log"
    log.mkdir()
    jobs = plan_batch(src, out)
    outcome = run_batch(jobs, StubFactory(log_dir=str(log)), output_dir=out, progress=False)
    assert sorted(outcome.failed) == ["corrupt.jpg", "noface.png", "notes.jpg"]
    assert outcome.processed == 6 and outcome.skipped == 0
    for name in ("a.png", "b.png", "c.jpg"):
        assert (out / name).is_file()
    for name in ("corrupt.jpg", "noface.png", "notes.jpg"):
        assert not (out / name).exists()
        reason = outcome.records[name]["reason"]
        assert name in reason and "\n" not in reason
    assert "no face" in outcome.records["noface.png"]["reason"]

    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert [r["photo"] for r in rows] == [j.name for j in jobs]
    by_name = {r["photo"]: r for r in rows}
    assert by_name["a.png"]["status"] == "done" and by_name["a.png"]["final_distances_px"] == "0.50 0.75"
    assert by_name["a.png"]["seconds_drag"] == "0.200" and by_name["notes.jpg"]["status"] == "failed"

    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and p.name != "summary.csv"}
    again = run_batch(jobs, StubFactory(log_dir=str(log)), output_dir=out, progress=False)
    assert again.processed == 0 and again.skipped == 6 and sorted(again.failed) == sorted(outcome.failed)
    assert len(calls(log)) == 6  # nothing was run a second time
    assert before == {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and p.name != "summary.csv"}

    # A failed photo that was fixed (the file changed) is tried again; --retry-failed retries all.
    Image.fromarray(np.full((24, 32, 3), 120, np.uint8)).save(src / "noface.png")
    third = run_batch(jobs, StubFactory(log_dir=str(log)), output_dir=out, progress=False)
    assert third.processed == 1 and sorted(third.failed) == ["corrupt.jpg", "notes.jpg"]
    fourth = run_batch(jobs, StubFactory(log_dir=str(log)), output_dir=out, progress=False, retry_failed=True)
    assert fourth.processed == 2


def test_interrupted_batch_leaves_no_partial_file_and_resumes(tmp_path):
    src, out, log = make_folder(tmp_path), tmp_path / "out", tmp_path / "log"
    log.mkdir()
    jobs = plan_batch(src, out)
    with pytest.raises(KeyboardInterrupt):
        run_batch(jobs, StubFactory(interrupt_on="b.png", log_dir=str(log)), output_dir=out, progress=False)
    assert outputs(out) == ["a.png", "reports/a.png.json", "summary.csv"]  # no temporary file either
    resumed = run_batch(jobs, StubFactory(log_dir=str(log)), output_dir=out, progress=False)
    assert resumed.skipped == 1 and resumed.processed == 5
    assert calls(log).count("a.png") == 1 and calls(log).count("b.png") == 2


def test_kill_9_mid_write_leaves_only_complete_outputs(tmp_path):
    src, out = make_folder(tmp_path), tmp_path / "out"
    script = textwrap.dedent(f"""
        import sys
        sys.path[:0] = [{str(REPO)!r}, {str(Path(__file__).parent)!r}]
        from edit_batch_stub import StubFactory
        from pipeline.edit.batch_runner import plan_batch, run_batch
        jobs = plan_batch({str(src)!r}, {str(out)!r})
        run_batch(jobs, StubFactory(slow_write_s=0.4), output_dir={str(out)!r}, progress=False)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO)
    try:
        deadline = time.time() + 60
        while not (out / "a.png").is_file() or not list(out.glob(".b.*.part*")):
            assert time.time() < deadline and proc.poll() is None, "the batch never got to its second photo"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)  # while b.png's temporary file is open
    finally:
        proc.wait()
    assert list(out.glob(".b.*.part*")), "expected the killed write's temporary file"
    assert not (out / "b.png").exists()
    Image.open(out / "a.png").verify()

    resumed = run_batch(plan_batch(src, out), StubFactory(), output_dir=out, progress=False)
    assert resumed.skipped == 1 and resumed.processed == 5
    assert not [p for p in out.rglob(".*") if p.is_file()], "the stale temporary file must be cleaned up"
    for name in ("a.png", "b.png", "c.jpg"):
        Image.open(out / name).verify()


def test_worker_processes_share_the_batch(tmp_path):
    src, out, log = make_folder(tmp_path), tmp_path / "out", tmp_path / "log"
    log.mkdir()
    outcome = run_batch(plan_batch(src, out), StubFactory(log_dir=str(log), wait_for_workers=2, slow_write_s=0.2),
                        output_dir=out, engine=LocalEngine(("cpu", "cpu"), threads_per_worker=1), progress=False)
    assert outcome.processed == 6 and sorted(outcome.failed) == ["corrupt.jpg", "noface.png", "notes.jpg"]
    pids = {f.name for f in log.glob("calls-*.txt")}
    assert len(pids) == 2 and str(os.getpid()) not in " ".join(pids)
    assert sorted(calls(log)) == sorted(j.name for j in plan_batch(src, out))


def test_manifest_refuses_other_settings(tmp_path):
    check_manifest(tmp_path, {"points": [1, 2], "steps": 10})
    check_manifest(tmp_path, {"steps": 10, "points": [1, 2]})  # same settings, any key order
    with pytest.raises(UserError, match="other points or settings"):
        check_manifest(tmp_path, {"points": [1, 2], "steps": 11})
