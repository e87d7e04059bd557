"""The API reference: every public name says which chapter (and equation) derives it, and
every public module has its page in book/api.

The agreed form, which renders as links in the HTML book (as Dive into Deep Learning's
"Defined in §"), is a line of the docstring such as

    Defined in :doc:`/book/ch03_modern_hopfield`, Eq. :eq:`eq-ch03-update`.

The page must be one of the book's (listed in _toc.yml) and each equation label must be
defined in that page.
"""

import importlib
import inspect
import json
import re
from pathlib import Path

import pytest
from test_book import toc_files

import hopnb

ROOT = Path(__file__).resolve().parents[1]
DEFINED = re.compile(r"Defined in (:doc:`/book/[\w/]+`.*?)(?:\n\n|$)", re.S)
DOC = re.compile(r":doc:`/(book/[\w/]+)`")
EQ = re.compile(r":eq:`([\w-]+)`")
# Modules whose names are public without being listed in hopnb.__all__: hopnb re-exports
# from them, or they hold what hopnb.models re-exports.
EXTRA_MODULES = ("hopnb.memory", "hopnb.runtime", "hopnb.models.binary", "hopnb.models.learned", "hopnb.models.modern")


def public_modules():
    mods = {"hopnb": hopnb}
    for name in hopnb.__all__:
        obj = getattr(hopnb, name)
        if inspect.ismodule(obj):
            mods[obj.__name__] = obj
    for name in EXTRA_MODULES:
        mods[name] = importlib.import_module(name)
    return mods


def public_names():
    """(qualified name, object) for every module and every class or function in an ``__all__``."""
    out, seen = [], set()
    for modname, mod in public_modules().items():
        out.append((modname, mod))
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name)
            if inspect.ismodule(obj) or not callable(obj) or id(obj) in seen:
                continue  # modules are checked as modules; constants carry a `#:` comment instead
            seen.add(id(obj))
            out.append((f"{modname}.{name}", obj))
    return out


def toc_pages() -> set[str]:
    return set(toc_files())


def labels(page: str) -> set[str]:
    nb = ROOT / f"{page}.ipynb"
    text = ("\n".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "markdown")
            if nb.exists() else (ROOT / f"{page}.md").read_text())
    return set(re.findall(r"\$\$\s*\(([\w-]+)\)", text)) | set(re.findall(r":label:\s*([\w-]+)", text))


NAMES = public_names()


def test_the_walk_finds_the_public_api():
    names = {n for n, _ in NAMES}
    assert {"hopnb.AssociativeMemory", "hopnb.separation.Softmax", "hopnb.similarity.dot", "hopnb.models.UHop",
            "hopnb.experiments.interval", "hopnb.corrupt.mask_pixels"} <= names
    assert len(names) > 60


@pytest.mark.parametrize("name,obj", NAMES, ids=[n for n, _ in NAMES])
def test_docstring_names_the_chapter_and_equation_that_derive_it(name, obj):
    doc = inspect.getdoc(obj) or ""
    found = DEFINED.search(doc)
    assert found, f"{name}'s docstring lacks a line 'Defined in :doc:`/book/<chapter>`[, Eq. :eq:`<label>`].'"
    pages = DOC.findall(found.group(1))
    missing = [p for p in pages if p not in toc_pages()]
    assert not missing, f"{name} cites pages that are not in _toc.yml: {missing}"
    known = set().union(*(labels(p) for p in pages))
    unknown = [e for e in EQ.findall(found.group(1)) if e not in known]
    assert not unknown, f"{name} cites equation labels that {pages} do not define: {unknown}"


def test_every_public_module_has_an_api_page():
    toc = toc_pages()
    for modname in public_modules():
        if modname in ("hopnb", "hopnb.models.binary", "hopnb.models.learned", "hopnb.models.modern"):
            continue  # the package on the index page; the model files on hopnb.models's page
        page = f"book/api/{modname.split('.')[-1]}"
        assert page in toc, f"{modname} has no page {page} in _toc.yml"
        assert f"automodule:: {modname}\n" in (ROOT / f"{page}.md").read_text(), f"{page}.md does not document {modname}"


@pytest.mark.parametrize("chapter", sorted((ROOT / "book").glob("ch*.ipynb")), ids=lambda p: p.name)
def test_every_chapter_links_the_api_it_introduces(chapter):
    cells = json.loads(chapter.read_text())["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert "**API:**" in text and "{doc}`api/" in text, f"{chapter.name} has no '**API:**' line linking book/api pages"


# Where a doctest cannot run: explorer draws into a notebook front end (chapter 0 runs it).
NO_EXAMPLE = {"hopnb.plot.explorer"}


def public_callables():
    """(qualified name, object) for every public function, class, method and property."""
    out = []
    for name, obj in public_names():
        if inspect.ismodule(obj) or name in NO_EXAMPLE:
            continue
        out.append((name, obj))
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if not attr.startswith("_") and attr != "extra_repr" and (callable(member) or isinstance(member, property)):
                    out.append((f"{name}.{attr}", getattr(obj, attr)))
    return out


@pytest.mark.parametrize("name, obj", public_callables(), ids=[n for n, _ in public_callables()])
def test_every_public_name_has_a_runnable_example(name, obj):
    # the docstring (or the one it inherits) holds a doctest, which `pytest hopnb` runs
    assert ">>>" in (inspect.getdoc(obj) or ""), f"{name} has no example in its docstring"
