"""A simulated cluster: the fields a real API server owns, edits and deletes logged (JSON pointers)."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .manifests import SERVER_FIELDS, key


def _split_pointer(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"a JSON pointer starts with '/', e.g. '/spec/replicas'; found {pointer!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer[1:].split("/")]


def _set_at(obj: Any, parts: Sequence[str], value: Any) -> None:
    node = obj
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            index = int(part)
            if last:
                node[index] = value
            else:
                node = node[index]
        else:
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})


def _remove_at(obj: Any, parts: Sequence[str]) -> None:
    node = obj
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        del node[int(parts[-1])]
    else:
        del node[parts[-1]]


# -- the simulated cluster ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClusterEvent:
    """One write to the cluster: who did it (``argocd``, ``kubectl``, ``hpa``...), what, to which object."""

    tick: int
    actor: str
    action: str  #: "apply", "edit", "delete"
    key: str
    detail: str = ""


_DELETE = object()


class Cluster:
    """The actual state: live objects keyed ``Kind/namespace/name``, with the fields a real API server adds.

    Reads always return deep copies, so comparing with git can never change the cluster by accident. Writes
    are logged in :attr:`events`. Times come from a counter, so runs are reproducible.
    """

    #: Deletes a field when passed as the value to :meth:`edit`.
    DELETE: Any = _DELETE

    def __init__(self, start: datetime = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)) -> None:
        self._objects: dict[str, dict[str, Any]] = {}
        self._version = 1000
        self._uids = 0
        self._start = start
        self.events: list[ClusterEvent] = []

    # -- reading ------------------------------------------------------------------------------------------
    def objects(self) -> dict[str, dict[str, Any]]:
        """Every live object (deep copies), keyed ``Kind/namespace/name``, in key order."""
        return {k: copy.deepcopy(v) for k, v in sorted(self._objects.items())}

    def keys(self) -> list[str]:
        return sorted(self._objects)

    def get(self, object_key: str) -> dict[str, Any]:
        if object_key not in self._objects:
            raise KeyError(f"no live object {object_key!r}; the cluster has {self.keys()}")
        return copy.deepcopy(self._objects[object_key])

    def __contains__(self, object_key: object) -> bool:
        return object_key in self._objects

    def __len__(self) -> int:
        return len(self._objects)

    # -- writing ------------------------------------------------------------------------------------------
    def _tick(self) -> int:
        self._version += 1
        return self._version

    def _stamp(self, obj: dict[str, Any], *, spec_changed: bool) -> None:
        meta = obj["metadata"]
        meta["resourceVersion"] = str(self._tick())
        if spec_changed or "generation" not in meta:
            meta["generation"] = int(meta.get("generation", 0)) + 1
        if obj.get("kind") == "Deployment":
            replicas = (obj.get("spec") or {}).get("replicas", 1)
            obj["status"] = {
                "observedGeneration": meta["generation"],
                "replicas": replicas,
                "readyReplicas": replicas,
                "updatedReplicas": replicas,
            }

    def apply(self, obj: Mapping[str, Any], *, namespace: str | None = None, actor: str = "argocd") -> str:
        """Create or replace an object (``kubectl apply`` of a whole manifest); returns its key.

        The stored object gets ``metadata.namespace`` (from ``namespace`` when the manifest names none) and
        the server-owned fields; an existing object keeps its ``uid`` and ``creationTimestamp``.
        """
        new = copy.deepcopy(dict(obj))
        object_key = key(new, namespace)
        new.setdefault("metadata", {})["namespace"] = object_key.split("/")[1]
        for pointer in SERVER_FIELDS:  # a manifest cannot set what the server owns
            parts = _split_pointer(pointer)
            with suppress(KeyError, IndexError, TypeError):
                _remove_at(new, parts)
        old = self._objects.get(object_key)
        meta = new["metadata"]
        if old is None:
            self._uids += 1
            meta["uid"] = f"00000000-0000-4000-8000-{self._uids:012d}"
            meta["creationTimestamp"] = (self._start + timedelta(minutes=self._version - 1000)).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
            spec_changed = True
        else:
            meta["uid"] = old["metadata"]["uid"]
            meta["creationTimestamp"] = old["metadata"]["creationTimestamp"]
            meta["generation"] = old["metadata"].get("generation", 1)
            spec_changed = old.get("spec") != new.get("spec")
        self._stamp(new, spec_changed=spec_changed)
        self._objects[object_key] = new
        self.events.append(
            ClusterEvent(self._version, actor, "apply", object_key, "created" if old is None else "replaced")
        )
        return object_key

    def edit(self, object_key: str, pointer: str, value: Any, *, actor: str = "kubectl") -> None:
        """Change one field of a live object by hand — drift. ``value=Cluster.DELETE`` removes the field.

        ``pointer`` is a JSON pointer (RFC 6901): ``/spec/replicas``, ``/metadata/labels/debug``,
        ``/spec/template/spec/containers/0/image``; ``~1`` stands for ``/`` inside a name.
        """
        if object_key not in self._objects:
            raise KeyError(f"no live object {object_key!r} to edit; the cluster has {self.keys()}")
        parts = _split_pointer(pointer)
        if not parts or parts[0] in ("kind", "apiVersion") or pointer in SERVER_FIELDS:
            raise ValueError(
                f"{pointer!r} cannot be edited by hand: pick a field under /spec, /data or /metadata/labels"
            )
        obj = self._objects[object_key]
        before = copy.deepcopy(obj.get("spec"))
        try:
            if value is _DELETE:
                _remove_at(obj, parts)
            else:
                _set_at(obj, parts, copy.deepcopy(value))
        except (KeyError, IndexError, ValueError, TypeError):
            raise ValueError(f"{object_key} has no field {pointer!r} to change") from None
        self._stamp(obj, spec_changed=before != obj.get("spec"))
        shown = "deleted" if value is _DELETE else f"= {value!r}"
        self.events.append(ClusterEvent(self._version, actor, "edit", object_key, f"{pointer} {shown}"))

    def create(self, obj: Mapping[str, Any], *, namespace: str | None = None, actor: str = "kubectl") -> str:
        """An object created by hand (``kubectl create``): it exists live but not in git."""
        return self.apply(obj, namespace=namespace, actor=actor)

    def delete(self, object_key: str, *, actor: str = "argocd") -> None:
        if object_key not in self._objects:
            raise KeyError(f"no live object {object_key!r} to delete; the cluster has {self.keys()}")
        del self._objects[object_key]
        self.events.append(ClusterEvent(self._tick(), actor, "delete", object_key))


# -- the lab: a config repository, its remote, two clones, a teammate and a cluster -------------------------
