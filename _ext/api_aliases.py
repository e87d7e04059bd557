"""Sphinx extension: cross-references to hopnb's objects under the names they are used by.

Each object is documented once, under the module that defines it
(``hopnb.memory.AssociativeMemory``, on the API page of that module). A reference that
Sphinx cannot find is resolved to that entry when it names the object another way:
by the package it is re-exported from (``hopnb.AssociativeMemory``), or relative to
the module of the docstring it appears in (``KernelSimilarity.fit`` in
:mod:`hopnb.models.learned`, which imports it). A reference to a private helper
(``_gain``) renders as code without a link.
"""

import importlib


def _lookup(base, path: list[str]):
    for attr in path:
        base = getattr(base, attr, None)
        if base is None:
            return None
    return base


def _module(name: str | None):
    if not name:
        return None
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _find(target: str, module: str | None, cls: str | None):
    """The object ``target`` names: absolute, or from the referring class's or module's namespace."""
    parts = target.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        mod = _module(".".join(parts[:cut]))
        if mod is not None:
            obj = _lookup(mod, parts[cut:])
            if obj is not None:
                return obj
            break
    mod = _module(module)
    if mod is None:
        return None
    scopes = [mod]
    owner = _lookup(mod, cls.split(".")) if cls else None
    if owner is not None:
        scopes = [owner, _module(getattr(owner, "__module__", None)) or mod, mod]
    for scope in scopes:
        obj = _lookup(scope, parts)
        if obj is not None:
            return obj
    return None


def _resolve(app, env, node, contnode):
    target = node.get("reftarget", "")
    module = node.get("py:module")
    if node.get("refdomain") != "py" or not (target.startswith("hopnb.") or (module or "").startswith("hopnb")):
        return None
    obj = _find(target, module, node.get("py:class"))
    if obj is None:
        return None
    if target.split(".")[-1].startswith("_"):
        return contnode
    name = getattr(obj, "__qualname__", None)
    owner = getattr(obj, "__module__", None)
    if not (name and owner) or f"{owner}.{name}" == target:
        return None
    canonical = f"{owner}.{name}"
    node = node.deepcopy()
    node["reftarget"] = canonical
    return env.get_domain("py").resolve_xref(env, node["refdoc"], app.builder, node["reftype"], canonical, node,
                                             contnode)


def setup(app):
    app.connect("missing-reference", _resolve)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
