"""The sentence embedding loads from the installed wheel and never touches the network."""

from __future__ import annotations

import socket
from typing import Any

import numpy as np
import pytest

from attune_classifier import embedding


def test_loading_and_embedding_make_no_network_call(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the embedding tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    embedding._model.cache_clear()  # load afresh, under the guard

    vectors = embedding.embed(["thanks, that really helps", "i want it all to stop", ""])

    assert vectors.shape == (3, embedding.FULL_DIM)
    assert np.allclose(np.linalg.norm(vectors[:2], axis=1), 1.0, atol=1e-5)


def test_the_weights_ship_inside_the_installed_package() -> None:
    weights = sorted(embedding.package_dir().glob("weights/*.safetensors"))
    assert [w.name for w in weights] == ["l2_supercat_256.safetensors"]


def test_meaning_beyond_the_words_is_captured() -> None:
    a, b, c = embedding.embed(
        ["i want to kill myself", "i want to end my life", "my commute was long today"]
    )
    assert float(a @ b) > float(a @ c) + 0.2
