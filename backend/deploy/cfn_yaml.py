"""CloudFormation YAML read as data: the short-form intrinsics (`!Sub`, `!GetAtt A.B`, `!Ref`)
become their long form (`{"Fn::Sub": ...}`, `{"Fn::GetAtt": ["A", "B"]}`, `{"Ref": ...}`)."""

from __future__ import annotations

from typing import Any

import yaml


class _Loader(yaml.SafeLoader):
    """A SafeLoader that also reads the short-form intrinsics (registered below)."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else ("Condition" if suffix == "Condition" else f"Fn::{suffix}")
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_Loader.add_multi_constructor("!", _intrinsic)


def load(text: str) -> dict[str, Any]:
    """A template (the base or the rendered one) as a dict."""
    loaded: dict[str, Any] = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    return loaded
