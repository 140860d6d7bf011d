"""Named validation sets with their own normalization, and which one picks the checkpoint."""

from __future__ import annotations

import pytest

from edgekp.config.loader import load_recipe
from edgekp.config.train import TrainRecipe
from edgekp.errors import ConfigError

RECIPE = "recipes/train/kp_hvit_s_merlrav.yaml"


def test_merlrav_recipe_declares_both_validation_sets_and_selects_merlrav_test():
    recipe = load_recipe(RECIPE, ["data.root=../shared/data"], expect=TrainRecipe)
    assert recipe.data.val_sets() == [("300w_holdout", "inter_ocular"), ("merlrav_test", "box")]
    assert recipe.data.select == "merlrav_test" and recipe.data.uses_split()
    assert recipe.balance.strategy == "oversample" and recipe.optim.time_budget_min and recipe.optim.patience
    assert [d.path for d in recipe.data.train] == ["300w/helen_train", "300w/afw", "merlrav/train"]


def test_youtube_faces_is_a_command_line_addition():
    extra = ["data.train.3.path=ytf/train", "data.train.3.format=pts", "data.train.3.weight=0.5"]
    recipe = load_recipe(RECIPE, extra, expect=TrainRecipe)
    assert recipe.data.train[3].path == "ytf/train" and recipe.data.train[3].weight == 0.5


def test_explicit_val_replaces_the_split_unless_asked():
    recipe = load_recipe(RECIPE, ["data.val_split.with_val=false"], expect=TrainRecipe)
    assert recipe.data.val_sets() == [("merlrav_test", "box")] and not recipe.data.uses_split()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("data.select=nope", "names no validation set"),
        ("data.select=null", "different normalizations"),
        ("data.val.0.name=300w_holdout", "names repeat"),
    ],
)
def test_bad_selection_is_a_one_line_config_error(override, message):
    with pytest.raises(ConfigError, match=message) as info:
        load_recipe(RECIPE, [override], expect=TrainRecipe)
    assert "\n" not in str(info.value)
