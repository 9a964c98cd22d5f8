"""`cli.py batch --engine ray` on a real Ray cluster on this machine (`ray start --head`, 2 CPUs):
a mixed folder over 2 actors, Ctrl-C, a worker killed mid-batch, a worker that dies on a photo
twice, resuming across engines. Ray's processes are stopped at the end."""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from edit_batch_stub import StubFactory
from pipeline.edit.batch_runner import plan_batch, run_batch
from pipeline.edit.local_engine import LocalEngine

ray = pytest.importorskip("ray", reason="the ray engine's tests need the cluster extra: pip install -e '.[cluster]'")

from pipeline.edit.ray_engine import RayEngine  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
PHOTOS = REPO / "tests" / "data" / "photos"
RAY = Path(sys.executable).with_name("ray")
FAST = ["--model", "demo-face-64", "--invert-steps", "8", "--pti-steps", "4", "--steps", "8"]
POINTS = {"points": [{"handle": {"landmark": name}, "target": {"offset": [0, -0.15]}}
                     for name in ("mouth_left", "mouth_right")]}


def _ray_running() -> bool:
    return any(b"raylet" in Path(f"/proc/{pid}/cmdline").read_bytes()
               for pid in os.listdir("/proc") if pid.isdigit() and _readable(pid))


def _readable(pid: str) -> bool:
    try:
        Path(f"/proc/{pid}/cmdline").read_bytes()
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def ray_head():
    """A Ray head on this machine (2 CPUs, no GPU); its HOST:PORT. Workers find the test stub via PYTHONPATH."""
    if _ray_running():
        pytest.fail("a Ray instance is already running on this machine; `ray stop` it first (these tests stop Ray)")
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0",
           "PYTHONPATH": os.pathsep.join([str(REPO / "tests" / "edit"), str(REPO)])}
    started = subprocess.run([str(RAY), "start", "--head", "--port", "0", "--num-cpus", "2", "--num-gpus", "0",
                              "--include-dashboard", "false", "--disable-usage-stats"],
                             env=env, capture_output=True, text=True, timeout=120)
    assert started.returncode == 0, started.stderr[-2000:]
    address = re.search(r"ray start --address='([^']+)'", started.stdout + started.stderr).group(1)
    try:
        yield address
    finally:
        if ray.is_initialized():
            ray.shutdown()
        subprocess.run([str(RAY), "stop", "--force"], env=env, capture_output=True, timeout=120)
        assert not _ray_running(), "Ray's processes outlived the tests"


def batch_cli(src: Path, out: Path, points: Path, address: str, *extra: str) -> subprocess.Popen:
    """The batch as a user runs it: its own process, the driver of the Ray job."""
    args = [sys.executable, str(REPO / "cli.py"), "-q", "batch", str(src), "--points", str(points), "-o", str(out),
            "--engine", "ray", "--address", address, "--workers", "2", *FAST, *extra]
    return subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"})


def records(out: Path) -> dict[str, dict]:
    """photo name -> its record (temporary files of records being written left out)."""
    return {p.relative_to(out / "reports").as_posix()[:-5]: json.loads(p.read_text())
            for p in (out / "reports").rglob("*.json") if not p.name.startswith(".")}


def wait_for(condition, proc: subprocess.Popen, what: str, timeout: float = 240) -> None:
    deadline = time.time() + timeout
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"the batch ended before {what}: {proc.stderr.read()[-2000:]}")
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def no_partial_files(out: Path) -> bool:
    return not [p for p in out.rglob(".*") if p.is_file()]


def mixed_folder(root: Path) -> Path:
    """3 portraits, a truncated JPEG, a text file named .jpg, a photo without a face."""
    src = root / "mixed"
    src.mkdir()
    for name in ("grace_hopper.jpg", "portrait_a.jpg", "portrait_b.jpg"):
        shutil.copy(PHOTOS / name, src / name)
    good = (PHOTOS / "messi5.jpg").read_bytes()
    (src / "broken.jpg").write_bytes(good[: len(good) // 3])
    (src / "text.jpg").write_text("not a photo\n")
    Image.open(PHOTOS / "portrait_a.jpg").crop((0, 0, 120, 120)).save(src / "faceless.png")
    return src


def test_mixed_folder_over_two_actors_matches_the_local_engine(ray_head, tmp_path):
    points = tmp_path / "pts.json"
    points.write_text(json.dumps(POINTS))
    src, out = mixed_folder(tmp_path), tmp_path / "out"
    proc = batch_cli(src, out, points, ray_head)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 1, err[-2000:]  # the broken photos fail, the batch goes on
    assert "3 edited" in err and "3 failed" in err
    rows = {r["photo"]: r for r in csv.DictReader((out / "summary.csv").open())}
    assert {n for n, r in rows.items() if r["status"] == "done"} == {"grace_hopper.jpg", "portrait_a.jpg",
                                                                     "portrait_b.jpg"}
    assert "no face" in rows["faceless.png"]["reason"] and rows["text.jpg"]["status"] == "failed"
    pids = {rec["worker"]["pid"] for rec in records(out).values()}
    assert len(pids) == 2 and os.getpid() not in pids  # both actors edited photos
    for name in ("grace_hopper.jpg", "portrait_a.jpg", "portrait_b.jpg"):
        with Image.open(out / name) as img, Image.open(src / name) as orig:
            assert img.size == orig.size
    assert no_partial_files(out)

    # The local engine resumes the Ray engine's folder: nothing left to do.
    again = subprocess.run([sys.executable, str(REPO / "cli.py"), "-q", "batch", str(src), "--points", str(points),
                            "-o", str(out), *FAST], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert "0 run now, 6 already finished" in again.stderr, again.stderr[-2000:]


def test_ctrl_c_then_a_killed_worker_then_a_rerun(ray_head, tmp_path):
    points = tmp_path / "pts.json"
    points.write_text(json.dumps(POINTS))
    src, out = tmp_path / "portraits", tmp_path / "out"
    src.mkdir()
    for i in range(3):
        for name in ("grace_hopper.jpg", "portrait_a.jpg"):
            shutil.copy(PHOTOS / name, src / f"{i}_{name}")

    # 1. Ctrl-C after the first photo: the driver stops, what was finished stays.
    proc = batch_cli(src, out, points, ray_head)
    wait_for(lambda: (out / "reports").is_dir() and records(out), proc, "the first photo")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "interrupted" in err, err[-2000:]
    kept = {name for name, rec in records(out).items() if rec["status"] == "done"}
    assert kept and all((out / name).is_file() for name in kept)

    # 2. Resume, and kill a worker's process while it edits: Ray replaces it and retries the photo.
    proc = batch_cli(src, out, points, ray_head)
    wait_for(lambda: len(records(out)) > len(kept), proc, "a photo of the resumed batch")
    new = [rec for name, rec in records(out).items() if name not in kept]
    victim = new[0]["worker"]["pid"]
    os.kill(victim, signal.SIGKILL)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-2000:]
    assert "6 edited" in err and "0 failed" in err
    final = records(out)
    assert all(rec["status"] == "done" for rec in final.values()) and len(final) == 6
    resumed_pids = {rec["worker"]["pid"] for name, rec in final.items() if name not in kept}
    # The victim, the other actor, and the victim's replacement, which edited the photo it held again.
    assert victim in resumed_pids and len(resumed_pids) == 3, resumed_pids
    for name in final:
        Image.open(out / name).verify()  # complete files only
    assert no_partial_files(out)

    # 3. A rerun adds nothing (summary.csv is rebuilt, with the same rows).
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and p.name != "summary.csv"}
    summary = (out / "summary.csv").read_text()
    proc = batch_cli(src, out, points, ray_head)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0 and "0 run now, 6 already finished" in err, err[-2000:]
    assert stamps == {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and p.name != "summary.csv"}
    assert (out / "summary.csv").read_text() == summary


def test_a_photo_that_kills_its_worker_twice_is_reported_and_the_rest_finish(ray_head, tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    for name in ("a.png", "b.png", "c.png", "d.png"):
        Image.new("RGB", (24, 32), (120, 90, 60)).save(src / name)
    jobs = plan_batch(src, out)
    outcome = run_batch(jobs, StubFactory(crash_on="b.png"), output_dir=out, progress=False,
                        engine=RayEngine(address="auto", workers=2, worker_logs=False))
    assert outcome.failed == ["b.png"] and outcome.processed == 4
    reason = outcome.records["b.png"]["reason"]
    assert "died while editing it, twice" in reason
    assert json.loads((out / "reports" / "b.png.json").read_text())["reason"] == reason
    assert not (out / "b.png").exists() and all((out / n).is_file() for n in ("a.png", "c.png", "d.png"))
    # The local engine reads the Ray engine's records: the failure stands, the rest is finished.
    resumed = run_batch(jobs, StubFactory(), output_dir=out, progress=False, engine=LocalEngine())
    assert resumed.processed == 0 and resumed.skipped == 4


def test_engine_options_are_checked_before_any_photo(tmp_path, capsys):
    import cli

    points = tmp_path / "pts.json"
    points.write_text(json.dumps(POINTS))
    src = mixed_folder(tmp_path)
    base = ["-q", "batch", str(src), "--points", str(points), "-o", str(tmp_path / "out"), *FAST]
    assert cli.main([*base, "--address", "auto"]) == 2
    assert "--address go with --engine ray" in capsys.readouterr().err
    assert cli.main([*base, "--engine", "ray", "--workers", "0"]) == 2
    assert "--workers must be >= 1" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_more_actors_than_a_local_ray_can_hold_is_one_line(tmp_path, monkeypatch):
    from pipeline.common import UserError

    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    if ray.is_initialized():
        ray.shutdown()  # this test is about the instance the engine starts itself
    src = tmp_path / "in"
    src.mkdir()
    for name in ("a.png", "b.png", "c.png"):
        Image.new("RGB", (24, 32), (120, 90, 60)).save(src / name)
    cores = os.cpu_count() or 1
    with pytest.raises(UserError, match=r"need \d+ CPUs but the cluster has"):
        run_batch(plan_batch(src, tmp_path / "out"), StubFactory(), output_dir=tmp_path / "out", progress=False,
                  engine=RayEngine(workers=3, cpus_per_worker=cores, worker_logs=False))
    assert not ray.is_initialized()  # the local instance it started is stopped again
