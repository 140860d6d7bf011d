"""Recipes are strict, round-trip, and every shipped recipe loads."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from edgekp.config.loader import apply_overrides, dump_recipe, load_recipe, load_recipe_data
from edgekp.config.train import TrainRecipe
from edgekp.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted((REPO / "recipes").rglob("*.yaml"))


def test_there_is_a_train_recipe():
    assert any(p.parent.name == "train" for p in SHIPPED)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(REPO)))
def test_every_shipped_recipe_loads(path):
    recipe = load_recipe(path)
    assert recipe.kind and recipe.version == 1


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(REPO)))
def test_recipe_round_trips(path, tmp_path):
    recipe = load_recipe(path)
    dumped = tmp_path / "dumped.yaml"
    dumped.write_text(yaml.safe_dump(dump_recipe(recipe), sort_keys=False))
    again = load_recipe(dumped)
    assert again == recipe
    assert dump_recipe(again) == dump_recipe(recipe)


def test_unknown_nested_key_suggests_nearest():
    with pytest.raises(ConfigError, match=r"unknown key 'data\.crop\.margn'; did you mean 'margin'\?"):
        load_recipe_data({"kind": "train", "version": 1, "data": {"crop": {"margn": 0.1}}}, "x.yaml")


def test_unknown_key_inside_list_item_suggests_nearest():
    data = {"kind": "train", "version": 1, "data": {"train": [{"path": "a", "fromat": "pts"}]}}
    with pytest.raises(ConfigError, match=r"did you mean 'format'\?"):
        load_recipe_data(data, "x.yaml")


def test_enum_is_checked():
    with pytest.raises(ConfigError, match=r"loss\.type"):
        load_recipe_data({"kind": "train", "version": 1, "loss": {"type": "l3"}}, "x.yaml")


def test_unknown_kind_suggests():
    with pytest.raises(ConfigError, match=r"did you mean 'train'\?"):
        load_recipe_data({"kind": "trian", "version": 1}, "x.yaml")


def test_kind_and_version_required():
    with pytest.raises(ConfigError, match="missing 'kind:'"):
        load_recipe_data({"version": 1}, "x.yaml")
    with pytest.raises(ConfigError, match="missing 'version:'"):
        load_recipe_data({"kind": "train"}, "x.yaml")


def test_overrides_set_nested_and_list_values():
    data = {"optim": {"lr": 1.0}, "data": {"train": [{"path": "a"}]}}
    out = apply_overrides(data, ["optim.lr=0.5", "data.train.0.path=b", "data.train.1.path=c", "seed=3"])
    assert out["optim"]["lr"] == 0.5
    assert [d["path"] for d in out["data"]["train"]] == ["b", "c"]
    assert out["seed"] == 3
    assert data["optim"]["lr"] == 1.0  # the input is not modified


def test_override_with_misspelt_key_is_caught():
    data = apply_overrides({"kind": "train", "version": 1}, ["optim.patiance=3"])
    with pytest.raises(ConfigError, match="did you mean 'patience'"):
        load_recipe_data(data, "--set")


def test_recipe_defaults_are_valid():
    assert TrainRecipe().model.name == "kp_hvit_s"
