"""Fixtures for inversion tests: fresh tiny generators (tests may change them) and known targets."""
from __future__ import annotations

import pytest

from tiny_generators import make_known_target, tiny_dcgan, tiny_stylegan2


@pytest.fixture
def G():
    return tiny_stylegan2()


@pytest.fixture
def dcgan():
    return tiny_dcgan()


@pytest.fixture
def known_target():
    return make_known_target
