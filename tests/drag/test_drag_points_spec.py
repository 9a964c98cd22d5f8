"""The pts.json schema: valid files load, every malformed one is a one-line UserError."""
import json

import pytest

from pipeline.common import UserError
from pipeline.drag.drag_points import load_points, parse_points


def test_valid_file_round_trips(tmp_path):
    data = {"points": [{"handle": [10, 12.5], "target": [20, 12]}, {"handle": [3, 4], "target": [5, 6]}]}
    path = tmp_path / "pts.json"
    path.write_text(json.dumps(data))
    pts = load_points(path)
    assert pts.handles == [(10.0, 12.5), (3.0, 4.0)] and pts.targets == [(20.0, 12.0), (5.0, 6.0)]
    assert parse_points(pts.to_json()) == pts


@pytest.mark.parametrize(
    "data,match",
    [
        ([], "expected an object"),
        ({}, '"points" must be a list'),
        ({"points": []}, "is empty"),
        ({"points": [], "space": "crop"}, "unknown key"),
        ({"points": [[1, 2]]}, r"points\[0\] must be an object"),
        ({"points": [{"handle": [1, 2]}]}, "missing \\['target'\\]"),
        ({"points": [{"handle": [1, 2], "target": [3, 4], "anchor": 5}]}, "unknown key"),
        ({"points": [{"handle": [1, 2, 3], "target": [3, 4]}]}, "two numbers"),
        ({"points": [{"handle": [1, "2"], "target": [3, 4]}]}, "two numbers"),
        ({"points": [{"handle": [True, 2], "target": [3, 4]}]}, "two numbers"),
        ({"points": [{"handle": [1, 2], "target": [float("nan"), 4]}]}, "finite"),
    ],
)
def test_malformed(data, match):
    with pytest.raises(UserError, match=match) as info:
        parse_points(data)
    assert "\n" not in str(info.value)


def test_bad_json_and_missing_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"points": [')
    with pytest.raises(UserError, match="not valid JSON"):
        load_points(bad)
    with pytest.raises(UserError, match="cannot read points file"):
        load_points(tmp_path / "absent.json")
    nan = tmp_path / "nan.json"
    nan.write_text('{"points": [{"handle": [NaN, 1], "target": [2, 3]}]}')
    with pytest.raises(UserError, match="finite"):
        load_points(nan)
