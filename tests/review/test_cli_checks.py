"""`synthloop review` checks the reviewer name and the port before it creates the review database (issue 15,
item 11): a refused command leaves the dataset as it was."""

from __future__ import annotations

import socket
from pathlib import Path

from review_helpers import make_dataset

from conftest import run_cli


def test_review_add_user_refuses_a_bad_name_before_creating_the_database(tmp_path: Path) -> None:
    dataset = make_dataset(tmp_path / "ds")
    result = run_cli("review", "add-user", "<b>x</b>", "--in", str(dataset))
    assert result.returncode == 2 and "reviewer name '<b>x</b>'" in result.stderr
    assert not (dataset / "review").exists()


def test_review_on_a_taken_port_is_one_line_before_creating_the_database(tmp_path: Path) -> None:
    dataset = make_dataset(tmp_path / "ds")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run_cli("review", "--in", str(dataset), "--port", str(taken.getsockname()[1]))
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "cannot serve there" in result.stderr
    assert "http://" not in result.stdout and not (dataset / "review").exists()


def test_the_review_commands_offer_exactly_what_export_and_apply_accept() -> None:
    from synthloop.cli import build_parser
    from synthloop.review.apply import CONFLICT_RULES
    from synthloop.review.export import FORMATS

    review = build_parser()._subparsers._group_actions[0].choices["review"]  # type: ignore[union-attr]
    actions = review._subparsers._group_actions[0].choices
    offered = {a.dest: tuple(a.choices) for name in ("apply", "export") for a in actions[name]._actions if a.choices}
    assert offered["format"] == FORMATS and offered["on_conflict"] == CONFLICT_RULES
