"""`import hopnb` loads the retrieval core only: no pyplot, no data or plotting code."""

import subprocess
import sys

import hopnb

HEAVY = ("matplotlib", "matplotlib.pyplot", "ipywidgets", "sklearn", "PIL", "hopnb.plot", "hopnb.data")


def test_import_hopnb_loads_no_plotting_or_data_code():
    code = ("import sys, hopnb; heavy = [m for m in %r if m in sys.modules]; "
            "assert 'matplotlib.pyplot' not in sys.modules; assert not heavy, heavy") % (HEAVY,)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_lazy_modules_load_on_first_access():
    code = ("import sys, hopnb; assert 'hopnb.plot' not in sys.modules; "
            "from hopnb import plot; assert hopnb.plot is plot is sys.modules['hopnb.plot']; "
            "assert callable(hopnb.plot.use_style) and 'matplotlib.pyplot' in sys.modules")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_every_name_in_all_resolves_and_is_listed_by_dir():
    for name in hopnb.__all__:
        assert getattr(hopnb, name) is not None
    assert set(hopnb.__all__) <= set(dir(hopnb))


def test_unknown_attribute_raises_attribute_error():
    try:
        hopnb.no_such_module
    except AttributeError as e:
        assert "no_such_module" in str(e)
    else:
        raise AssertionError("hopnb.no_such_module did not raise AttributeError")
