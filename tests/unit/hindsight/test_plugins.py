"""Plug-ins are named by strings that cross process boundaries: `module:ATTRIBUTE`."""

from __future__ import annotations

import pytest

import commerce.read.plugin
from hindsight.plugins import load


def test_module_and_attribute() -> None:
    assert load("commerce.read.plugin:STAGES") is commerce.read.plugin.STAGES


def test_a_module_alone_is_the_module_or_its_default_attribute() -> None:
    assert load("commerce.read.plugin") is commerce.read.plugin
    assert load("commerce.read.plugin", default="PORTS") is commerce.read.plugin.PORTS


def test_a_missing_name_says_which() -> None:
    with pytest.raises(ModuleNotFoundError, match="no_such_module"):
        load("no_such_module:X")
    with pytest.raises(AttributeError, match="NOPE"):
        load("commerce.read.plugin:NOPE")
