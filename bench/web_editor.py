"""The browser editor's speed as the page sees it: time to the first streamed frame of a drag,
and frames per second, measured by driving the server's HTTP API the way the page does.

    python -m bench.web_editor [--model M] [--device D] [--photo P] [--steps N]

Issue 16's targets: on the CPU with the default model the first frame within 2 s of pressing
Drag and at least 2 preview frames per second; on a GPU at least 15 full frames per second.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import torch

from bench.evaluation.script_args import add_device_argument
from pipeline.common import resolve_device
from pipeline.drag import DragConfig
from pipeline.edit import EditConfig
from pipeline.gan.loading import load_generator, resolve_model_arg

ROOT = Path(__file__).resolve().parents[1]


def post(url: str, body: dict | bytes) -> dict:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


def events(url: str):
    """Decoded server-sent events of a session, as they arrive."""
    with urllib.request.urlopen(url, timeout=900) as stream:
        for raw in stream:
            line = raw.decode().strip()
            if line.startswith("data: "):
                yield json.loads(line[6:])


def drive(base: str, photo: Path, lift: float) -> dict:
    opened = post(f"{base}/api/sessions", photo.read_bytes())
    sid = opened["id"]
    face = post(f"{base}/api/s/{sid}/face", {"index": 0})
    feed = events(f"{base}/api/s/{sid}/events")
    tick = time.perf_counter()
    for event in feed:
        if event["type"] == "inverted":
            break
        if event["type"] == "error":
            raise RuntimeError(event["message"])
    inversion_s = time.perf_counter() - tick
    lm = face["landmarks"]
    iod = ((lm[45][0] - lm[36][0]) ** 2 + (lm[45][1] - lm[36][1]) ** 2) ** 0.5
    handles = [lm[48], lm[54]]
    targets = [[x, y - lift * iod] for x, y in handles]
    pressed = time.perf_counter()
    post(f"{base}/api/s/{sid}/drag", {"handles": handles, "targets": targets})
    arrivals, frame_bytes, steps, status = [], [], 0, None
    for event in feed:
        if event["type"] == "step":
            steps += 1
            if event.get("image"):
                arrivals.append(time.perf_counter() - pressed)
                frame_bytes.append(len(event["image"]))
        elif event["type"] == "dragged":
            status = event["status"]
            break
        elif event["type"] == "error":
            raise RuntimeError(event["message"])
    span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else float("nan")
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    return {"inversion_s": inversion_s, "first_frame_s": arrivals[0] if arrivals else None, "frames": len(arrivals),
            "steps": steps, "status": status, "frames_per_s": (len(arrivals) - 1) / span if span > 0 else None,
            "median_gap_s": statistics.median(gaps) if gaps else None,
            "frame_kb": statistics.mean(frame_bytes) / 1024 if frame_bytes else None}


def main() -> int:
    import uvicorn

    from webui.app import create_app
    from webui.sessions import SessionRegistry

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="registry name or checkpoint (default: mobilestylegan-ffhq-1024)")
    add_device_argument(ap)
    ap.add_argument("--photo", type=Path, default=ROOT / "examples" / "grace_hopper.jpg")
    ap.add_argument("--invert-steps", type=int, default=20, help="projection steps (the drag is what is timed)")
    ap.add_argument("--pti-steps", type=int, default=10)
    ap.add_argument("--steps", type=int, default=60, help="drag steps at most")
    ap.add_argument("--lift", type=float, default=0.1, help="mouth corners moved up by this many eye distances")
    args = ap.parse_args()
    device = resolve_device(args.device)
    G = load_generator(resolve_model_arg(args.model), device=device)
    config = EditConfig(invert_steps=args.invert_steps, pti_steps=args.pti_steps, drag=DragConfig(max_steps=args.steps))
    with tempfile.TemporaryDirectory() as workdir:
        registry = SessionRegistry(G, config=config, device=device, workdir=Path(workdir))
        server = uvicorn.Server(uvicorn.Config(create_app(registry), host="127.0.0.1", port=0, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        figures = drive(f"http://127.0.0.1:{port}", args.photo, args.lift)
        server.should_exit = True
        thread.join(timeout=10)
    name = G.model_info.get("name")
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"web editor on {name} ({G.img_resolution} px, {where}); photo {args.photo.name}")
    print(f"inversion ({args.invert_steps} + PTI {args.pti_steps} steps): {figures['inversion_s']:.1f} s")
    print(f"drag: {figures['steps']} steps, {figures['status']}; first frame {figures['first_frame_s']:.2f} s after "
          f"pressing Drag; {figures['frames']} frames, {figures['frames_per_s']:.2f} frames/s (median gap "
          f"{figures['median_gap_s']:.3f} s), {figures['frame_kb']:.0f} kB per JPEG frame (at most 512 px)")
    first_ok = figures["first_frame_s"] is not None and figures["first_frame_s"] <= 2.0
    rate = figures["frames_per_s"] or 0.0
    goal = 15.0 if device.type == "cuda" else 2.0
    print(f"[{'met' if first_ok else 'NOT met'}] first frame within 2 s; "
          f"[{'met' if rate >= goal else 'NOT met'}] at least {goal:g} frames/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
