"""Typed, strict recipes."""

from edgekp.config.base import StrictModel
from edgekp.config.loader import apply_overrides, default_recipe, dump_recipe, load_recipe, read_yaml

__all__ = ["StrictModel", "apply_overrides", "default_recipe", "dump_recipe", "load_recipe", "read_yaml"]
