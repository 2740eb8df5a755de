"""Training the cpu-test preset for real: loss falls, kill -9 resumes the same curve, sampling and eval work."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import SHARED, cli_env, run_cli
from synthloop.errors import UserError
from synthloop.train.config import TrainConfig
from synthloop.train.data import Source, batch, parse_source
from synthloop.train.evaluate import parse_grades
from synthloop.train.loop import train

STORIES = SHARED / "corpora" / "tinystories_sample.jsonl"
ARGS = [
    "--preset",
    "cpu-test",
    "--max-steps",
    "40",
    "--batch-size",
    "8",
    "--block-size",
    "64",
    "--eval-every",
    "20",
    "--checkpoint-every",
    "5",
    "--vocab-size",
    "512",
    "--threads",
    "1",
    "--no-progress",
]


def test_cpu_preset_trains_and_loss_falls(tmp_path: Path) -> None:
    cfg = TrainConfig(
        sources=[str(STORIES)],
        out=tmp_path / "run",
        max_steps=40,
        batch_size=8,
        block_size=64,
        vocab_size=512,
        eval_every=20,
        threads=1,
        progress=False,
    )
    result = train(cfg)
    assert result.steps == 40 and result.parameters > 10_000 and result.device in ("cpu", "cuda")
    losses = [p["loss"] for p in result.curve]
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) - 0.5
    assert result.validation_loss < losses[0]
    for name in ("model.pt", "tokenizer.json", "curve.json", "curve.png", "checkpoint.pt", "config.json"):
        assert (tmp_path / "run" / name).exists()


def test_kill_9_resumes_the_same_loss_curve(tmp_path: Path) -> None:
    reference = run_cli("train", "--in", str(STORIES), "--out", str(tmp_path / "reference"), *ARGS)
    assert reference.returncode == 0, reference.stderr
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "synthloop.cli", "train", "--in", str(STORIES), "--out", str(out), *ARGS]
    process = subprocess.Popen(command, env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not (out / "checkpoint.pt").exists():
        time.sleep(0.02)
    time.sleep(0.3)
    process.send_signal(signal.SIGKILL)
    process.wait()
    resumed = run_cli("train", "--in", str(STORIES), "--out", str(out), *ARGS)
    assert resumed.returncode == 0, resumed.stderr
    expected = json.loads((tmp_path / "reference" / "curve.json").read_text())
    got = json.loads((out / "curve.json").read_text())
    assert [p["step"] for p in got] == list(range(1, 41))
    assert [p["loss"] for p in got] == [p["loss"] for p in expected]  # bit for bit
    assert not [p for p in out.iterdir() if p.name.startswith(".tmp-")]


def test_sample_and_eval_commands(tmp_path: Path) -> None:
    assert run_cli("train", "--in", str(STORIES), "--out", str(tmp_path / "m"), *ARGS).returncode == 0
    sampled = run_cli(
        "sample", "--model", str(tmp_path / "m"), "--prompt", "Once upon a time", "--count", "2", "--max-tokens", "20"
    )
    assert sampled.returncode == 0 and sampled.stdout.count("--- sample") == 2
    grader = tmp_path / "grader.toml"
    grader.write_text(
        '[backend]\nname = "scripted"\n[backend.options]\n'
        'reply = "Nice try. Grammar: 6/10, Creativity: **7** out of 10, Consistency = 5, Plot: 4/10"\n'
    )
    held_out = tmp_path / "held_out.jsonl"
    first_three = [json.loads(line)["text"] for line in STORIES.read_text().splitlines()[:3]]
    held_out.write_text("".join(json.dumps({"text": text}) + "\n" for text in first_three))
    evaluated = run_cli(
        "eval",
        "--model",
        str(tmp_path / "m"),
        "--text",
        str(STORIES),
        "--text",
        str(held_out),
        "--grader-config",
        str(grader),
        "--max-tokens",
        "16",
    )
    assert evaluated.returncode == 0, evaluated.stderr
    results = json.loads((tmp_path / "m" / "eval.json").read_text())
    assert set(results["perplexity"]) == {str(STORIES), str(held_out)}
    assert all(v["perplexity"] > 1 and v["tokens"] > 100 for v in results["perplexity"].values())
    assert len(results["completions"]) == 12 and "constraint_following" in results
    assert results["grades"] == {
        "graded": 12,
        "unparsed": 0,
        "grammar": 6.0,
        "creativity": 7.0,
        "consistency": 5.0,
        "plot": 4.0,
    }


def test_parse_grades_is_robust() -> None:
    assert parse_grades("**Grammar**: 8/10\nCreativity - 6 out of 10\nconsistency=7\nPlot: 11/10") == {
        "grammar": 8.0,
        "creativity": 6.0,
        "consistency": 7.0,
    }
    assert parse_grades("I liked it.") == {}


def test_sources_mix_by_weight() -> None:
    a = Source(Path("a"), 3.0, np.zeros(1000, np.uint16), np.zeros(10, np.uint16), 1)
    b = Source(Path("b"), 1.0, np.ones(1000, np.uint16), np.ones(10, np.uint16), 1)
    rows = np.concatenate([batch([a, b], "train", 64, 8, 0, step)[0][:, 0] for step in range(50)])
    assert 0.2 < rows.mean() < 0.3  # a quarter of rows from b
    assert parse_source("data/x:0.5") == (Path("data/x"), 0.5) and parse_source("data/x") == (Path("data/x"), 1.0)


def test_bad_training_inputs(tmp_path: Path) -> None:
    result = run_cli("train", "--in", str(STORIES), "--out", str(tmp_path / "r"), "--preset", "huge")
    assert result.returncode == 2 and "argument --preset: invalid choice: 'huge'" in result.stderr
    assert not (tmp_path / "r").exists()
    result = run_cli("train", "--in", str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "r"))
    assert result.returncode == 2 and "no such file" in result.stderr
    result = run_cli("train", "--in", f"{STORIES}:-1", "--out", str(tmp_path / "r"))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert run_cli("train", "--in", str(STORIES), "--out", str(tmp_path / "s"), *ARGS).returncode == 0
    other = run_cli("train", "--in", str(STORIES), "--out", str(tmp_path / "s"), *ARGS, "--learning-rate", "0.1")
    assert other.returncode == 2 and "learning_rate" in other.stderr
    with pytest.raises(UserError, match="no trained model"):
        from synthloop.train.sample import load_model

        load_model(tmp_path / "nothing")
