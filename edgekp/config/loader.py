"""Load recipes from YAML: pick the model by the explicit ``kind:``, apply ``--set`` overrides,
validate strictly."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel

from edgekp.config.base import nearest, validate
from edgekp.config.kinds import recipe_kinds
from edgekp.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


# The checkout edgekp runs from (an editable install of a clone): its recipes/ folder is the second place
# a relative recipe path is looked up, so `edgekp run recipes/quickstart.yaml` works from any folder.
CHECKOUT = Path(__file__).resolve().parents[2]


def resolve_recipe_path(path: str | Path) -> Path:
    """``path`` as given (relative to the current folder), else under the edgekp checkout (``recipes/x.yaml``
    there, or ``x.yaml`` inside its recipes/ folder). ConfigError naming every place looked at."""
    given = Path(path).expanduser()
    candidates = [given]
    if not given.is_absolute() and (CHECKOUT / "recipes").is_dir():
        candidates += [CHECKOUT / given, CHECKOUT / "recipes" / given]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = ", ".join(repr(str(c)) for c in dict.fromkeys(candidates))
    raise ConfigError(
        f"recipe file not found: {str(path)!r} (looked at {looked}); give the path of a YAML recipe "
        "(examples in the repository's recipes/ folder)"
    )


def read_yaml(path: str | Path) -> dict[str, Any]:
    path = resolve_recipe_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"recipe {str(path)!r} cannot be read as UTF-8 text: {' '.join(str(exc).split())}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = " ".join(
            str(getattr(exc, "problem", None) or exc).split()
        )  # one line: the CLI prints it after "edgekp: error:"
        raise ConfigError(f"recipe {str(path)!r} is not valid YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"recipe {str(path)!r} must be a mapping with 'kind:' and 'version:' at the top")
    return data


def parse_override(text: str) -> tuple[list[str | int], Any]:
    """``a.b.0.c=value`` -> (['a', 'b', 0, 'c'], value parsed as a YAML scalar)."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set expects key.sub=value, got {text!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    path: list[str | int] = [int(p) if p.isdigit() else p for p in key.strip().split(".")]
    return path, value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Return a copy of ``data`` with each ``key.sub=value`` set; validation happens afterwards."""
    import copy

    result = copy.deepcopy(data)
    for text in overrides:
        path, value = parse_override(text)
        node: Any = result
        for i, part in enumerate(path[:-1]):
            nxt = path[i + 1]
            if isinstance(node, list):
                if not isinstance(part, int) or part > len(node):
                    raise ConfigError(f"--set {text!r}: index {part!r} is outside the list of {len(node)}")
                if part == len(node):  # one past the end appends a new item
                    node.append([] if isinstance(nxt, int) else {})
                node = node[part]
                continue
            if part not in node or node[part] is None:
                node[part] = [] if isinstance(nxt, int) else {}
            node = node[part]
        last = path[-1]
        if isinstance(node, list):
            if not isinstance(last, int) or last > len(node):
                raise ConfigError(f"--set {text!r}: index {last!r} is outside the list of {len(node)}")
            if last == len(node):
                node.append(value)
            else:
                node[last] = value
        else:
            node[last] = value
    return result


def load_recipe_data(data: dict[str, Any], source: str, expect: type[M] | None = None) -> M:
    kinds = recipe_kinds()
    kind = data.get("kind")
    if kind is None:
        raise ConfigError(f"{source}: missing 'kind:' at the top; one of: {', '.join(sorted(kinds))}")
    if not isinstance(kind, str) or kind not in kinds:
        hint = nearest(str(kind), kinds)
        tip = f"; did you mean {hint!r}?" if hint else ""
        raise ConfigError(f"{source}: unknown recipe kind {kind!r}{tip} (valid: {', '.join(sorted(kinds))})")
    if "version" not in data:
        raise ConfigError(f"{source}: missing 'version:' at the top (current: 1)")
    model = kinds[kind]
    if expect is not None and model is not expect:
        wanted = next(k for k, v in kinds.items() if v is expect)
        raise ConfigError(f"{source}: this command needs a recipe of kind {wanted!r}, got kind {kind!r}")
    return validate(model, data, source)


def load_recipe(path: str | Path, overrides: list[str] | None = None, expect: type[M] | None = None) -> M:
    data = apply_overrides(read_yaml(path), overrides or [])
    return load_recipe_data(data, str(path), expect)


def default_recipe(model: type[M], overrides: list[str] | None = None) -> M:
    """The recipe's defaults with ``--set`` overrides applied, for verbs run without ``--recipe``."""
    base = model().model_dump(mode="json")
    return validate(model, apply_overrides(base, overrides or []), "--set")


def dump_recipe(recipe: BaseModel) -> dict[str, Any]:
    """The fully resolved recipe as plain data (what goes into a manifest and round-trips)."""
    return recipe.model_dump(mode="json")
