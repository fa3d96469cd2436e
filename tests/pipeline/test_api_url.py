"""After a deploy the stage's API URL is printed (a PR stage's URL is what the reviewer opens)."""

from __future__ import annotations

import json

import pytest
import typer

from stagewise.pipeline.console import api_url, finish
from stagewise.pipeline.history import Kind
from stagewise.pipeline.progress import QuietProgress
from stagewise.pipeline.runner import RunResult, RunState


class FakeProvider:
    def __init__(self, outputs: dict[str, dict[str, str]]) -> None:
        self._outputs = outputs

    def outputs(self, stack: str) -> dict[str, str]:
        return self._outputs.get(stack, {})


def test_the_first_http_url_output_of_the_stacks_is_the_api_url() -> None:
    provider = FakeProvider({
        "pr-42-notes-infra": {"TableName": "pr-42-notes-notes", "QueueUrl": "not-http"},
        "pr-42-notes-notes-api": {"ApiUrl": "https://abc.execute-api.us-east-1.amazonaws.com/pr-42"},
    })
    assert api_url(provider, ["pr-42-notes-notes-api", "pr-42-notes-infra"]) == (
        "https://abc.execute-api.us-east-1.amazonaws.com/pr-42"
    )
    assert api_url(FakeProvider({}), ["x"]) is None


@pytest.mark.parametrize("as_json", [False, True])
def test_finish_prints_the_url(capsys, as_json: bool) -> None:
    result = RunResult(stage="pr-42", kind=Kind.DEPLOY, state=RunState.SUCCEEDED, build="b-1")
    with pytest.raises(typer.Exit):
        finish(result, as_json=as_json, reporter=QuietProgress(), url="https://abc.example/pr-42")
    out = capsys.readouterr().out
    if as_json:
        assert json.loads(out)["url"] == "https://abc.example/pr-42"
    else:
        assert "API  https://abc.example/pr-42" in out
