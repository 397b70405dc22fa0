"""Duplicate groups: connected components of the duplicate pairs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

Node = TypeVar("Node", int, tuple[int, int])


def connected_groups(pairs: Iterable[tuple[Node, Node]]) -> list[list[Node]]:
    """Groups of two or more members, largest first, each sorted."""
    parent: dict[Node, Node] = {}

    def root(node: Node) -> Node:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for first, second in pairs:
        a, b = root(first), root(second)
        if a != b:
            parent[max(a, b)] = min(a, b)
    members: dict[Node, list[Node]] = {}
    for node in parent:
        members.setdefault(root(node), []).append(node)
    return sorted((sorted(group) for group in members.values()), key=lambda g: (-len(g), g[0]))
