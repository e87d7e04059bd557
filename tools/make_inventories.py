"""Write the small Sphinx inventories the API reference links through (offline builds).

CI builds the book without a network, so intersphinx cannot fetch torch's, NumPy's,
matplotlib's or Python's ``objects.inv``. These files hold only the names that hopnb's signatures and
docstrings mention, each with its address in the official documentation. Add a name
here when ``jupyter-book build -n`` reports a missing torch/numpy/python target, then run

    python tools/make_inventories.py

It writes _ext/inventories/{python,torch,matplotlib,numpy}.inv and reads each back with
``sphinx.util.inventory.InventoryFile``, as intersphinx will.
"""

from __future__ import annotations

import zlib
from pathlib import Path

from sphinx.util.inventory import InventoryFile

OUT = Path(__file__).resolve().parents[1] / "_ext" / "inventories"

# project: (version, base url, {name: (role, relative uri)})
INVENTORIES = {
    "python": ("3", "https://docs.python.org/3/", {
        "collections.abc.Callable": ("py:class", "library/collections.abc.html#collections.abc.Callable"),
        "collections.abc.Sequence": ("py:class", "library/collections.abc.html#collections.abc.Sequence"),
        "collections.abc.Mapping": ("py:class", "library/collections.abc.html#collections.abc.Mapping"),
        "collections.abc.Iterable": ("py:class", "library/collections.abc.html#collections.abc.Iterable"),
        "typing.NamedTuple": ("py:class", "library/typing.html#typing.NamedTuple"),
        "pathlib.Path": ("py:class", "library/pathlib.html#pathlib.Path"),
        "os.PathLike": ("py:class", "library/os.html#os.PathLike"),
        "UserWarning": ("py:exception", "library/exceptions.html#UserWarning"),
        "ValueError": ("py:exception", "library/exceptions.html#ValueError"),
        "TypeError": ("py:exception", "library/exceptions.html#TypeError"),
        "RuntimeError": ("py:exception", "library/exceptions.html#RuntimeError"),
        "tuple": ("py:class", "library/stdtypes.html#tuple"),
        "list": ("py:class", "library/stdtypes.html#list"),
        "dict": ("py:class", "library/stdtypes.html#dict"),
        "str": ("py:class", "library/stdtypes.html#str"),
        "int": ("py:class", "library/functions.html#int"),
        "float": ("py:class", "library/functions.html#float"),
        "bool": ("py:class", "library/functions.html#bool"),
        "object": ("py:class", "library/functions.html#object"),
    }),
    "torch": ("2", "https://pytorch.org/docs/stable/", {
        "torch.Tensor": ("py:class", "tensors.html#torch.Tensor"),
        "torch._C.Generator": ("py:class", "generated/torch.Generator.html#torch.Generator"),
        "torch.dtype": ("py:class", "tensor_attributes.html#torch.dtype"),
        "torch.device": ("py:class", "tensor_attributes.html#torch.device"),
        "torch.Generator": ("py:class", "generated/torch.Generator.html#torch.Generator"),
        "torch.nn.Module": ("py:class", "generated/torch.nn.Module.html#torch.nn.Module"),
        "torch.nn.Parameter": ("py:class", "generated/torch.nn.parameter.Parameter.html#torch.nn.parameter.Parameter"),
        "torch.cdist": ("py:function", "generated/torch.cdist.html#torch.cdist"),
        "torch.sort": ("py:function", "generated/torch.sort.html#torch.sort"),
        "torch.softmax": ("py:function", "generated/torch.softmax.html#torch.softmax"),
        "torch.nn.functional.scaled_dot_product_attention": (
            "py:function", "generated/torch.nn.functional.scaled_dot_product_attention.html"
                           "#torch.nn.functional.scaled_dot_product_attention"),
    }),
    "matplotlib": ("3", "https://matplotlib.org/stable/", {
        "matplotlib.figure.Figure": ("py:class", "api/_as_gen/matplotlib.figure.Figure.html#matplotlib.figure.Figure"),
        "matplotlib.axes.Axes": ("py:class", "api/_as_gen/matplotlib.axes.Axes.html#matplotlib.axes.Axes"),
    }),
    "numpy": ("2", "https://numpy.org/doc/stable/", {
        "numpy.ndarray": ("py:class", "reference/generated/numpy.ndarray.html#numpy.ndarray"),
        "numpy.random.Generator": ("py:class", "reference/random/generator.html#numpy.random.Generator"),
    }),
}


def write(project: str, version: str, names: dict[str, tuple[str, str]]) -> Path:
    header = (f"# Sphinx inventory version 2\n# Project: {project}\n# Version: {version}\n"
              "# The remainder of this file is compressed using zlib.\n")
    body = "".join(f"{name} {role} 1 {uri} -\n" for name, (role, uri) in sorted(names.items()))
    path = OUT / f"{project}.inv"
    path.write_bytes(header.encode() + zlib.compress(body.encode()))
    return path


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for project, (version, base, names) in INVENTORIES.items():
        path = write(project, version, names)
        with path.open("rb") as f:
            inv = InventoryFile.load(f, base, lambda base, uri: base + uri)
        found = {name for entries in inv.values() for name in entries}
        assert found == set(names), f"{path.name}: read back {sorted(found ^ set(names))} differently"
        print(f"{path.relative_to(OUT.parents[1])}: {len(names)} names")


if __name__ == "__main__":
    main()
