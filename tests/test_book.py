"""The book's structure: notebooks stored as executed, the table of contents, the environment files."""

import json
import re
from pathlib import Path

import pytest
import yaml

tomllib = pytest.importorskip("tomllib")

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
NOTEBOOKS = sorted(p for p in BOOK.rglob("*.ipynb") if "_build" not in p.parts and ".ipynb_checkpoints" not in p.parts)


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries:
            files.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc["parts"]:
        walk(part["chapters"])
    return files


def test_there_are_notebooks():
    assert NOTEBOOKS, "book/ holds no notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_was_executed_top_to_bottom_without_errors(path):
    cells = json.loads(path.read_text())["cells"]
    counts = [c.get("execution_count") for c in cells if c["cell_type"] == "code"]
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: re-run it with `make notebooks` ({counts[:8]}…)"
    for cell in cells:
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"{path.name} stores an error output"
            assert out.get("name") != "stderr", f"{path.name} stores stderr output: {''.join(out['text'])[:200]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_normalised_and_colab_ready(path):
    nb = json.loads(path.read_text())
    assert "widgets" not in nb["metadata"], "widget state is stored: run `make notebooks` to normalise"
    first = next(c for c in nb["cells"] if c["cell_type"] == "code")
    assert "remove-cell" in first["metadata"].get("tags", []) and "google.colab" in "".join(first["source"])
    # The core library has no plotting or data dependencies; the notebooks ask for the `book` extra.
    assert '"hopnb[book] @ git+' in "".join(first["source"]), f"{path.name}'s Colab cell must install hopnb[book]"


def test_core_dependencies_leave_plotting_and_data_to_the_book_extra():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {re.split(r"[<>=\[ ]", d)[0] for d in project["dependencies"]}
    book = {re.split(r"[<>=\[ ]", d)[0] for d in project["optional-dependencies"]["book"]}
    assert not core & {"matplotlib", "ipywidgets", "scikit-learn", "pillow"}, core
    assert {"matplotlib", "ipywidgets", "scikit-learn"} <= book, book


def test_toc_and_book_list_the_same_chapters():
    listed = {f + ext for f in toc_files() for ext in (".md", ".ipynb") if (ROOT / (f + ext)).exists()}
    assert len(listed) == len(toc_files()), f"_toc.yml names missing files: {toc_files()}"
    pages = {str(p.relative_to(ROOT)) for p in list(BOOK.rglob("*.md")) + NOTEBOOKS if "_build" not in p.parts}
    assert pages == listed, f"in book/ but not in _toc.yml: {pages - listed}; in _toc.yml only: {listed - pages}"


def test_every_citation_is_in_references_bib():
    keys = set(re.findall(r"@\w+\{([^,]+),", (ROOT / "references.bib").read_text()))
    texts = [p.read_text() for p in BOOK.rglob("*.md")] + [p.read_text() for p in NOTEBOOKS]
    cited = {k.strip() for t in texts for group in re.findall(r"\{cite[pt]?\}`([^`]+)`", t) for k in group.split(",")}
    assert cited and cited <= keys, f"cited but not in references.bib: {cited - keys}"


def test_environment_yml_mirrors_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    assert any(str(d).startswith("python") for d in deps) and "pip" in deps
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict))
    extras = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])
    wanted = f".[{','.join(sorted(extras))}]"
    assert any(wanted in p for p in pip_section), f"environment.yml's pip section must install {wanted}"


def test_pyproject_does_not_pin_torch():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    torch = [d for d in deps if d.startswith("torch")]
    assert torch == ["torch>=2.1"], "hopnb must not pin torch or bound it from above (Colab keeps its own)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_random_draw_goes_through_hopnb_seed(path):
    """HOPNB_SEED_OFFSET moves every seed of the book only if every generator comes from hopnb.seed."""
    code = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")
    found = re.findall(r"torch\.Generator\(|\.manual_seed\(|torch\.manual_seed\(|np\.random\.seed\(|random\.seed\(", code)
    assert not found, f"{path.name} seeds without hopnb.seed: {found}"
