"""Every public function that takes a ``generator`` draws on the generator's device.

torch refuses ``torch.rand(..., generator=cpu_generator, device="cuda")``, so code that
draws on its data's device crashes on a GPU with the CPU generators ``hopnb.seed`` makes
by default. This machine may have no GPU, so the test gives each function a generator
that says it lives on CUDA while its data stay on the CPU, and records the device every
random function of torch was asked to draw on.
"""

import inspect

import pytest
import torch

import hopnb
from hopnb import corrupt, data, kernel, models

RANDOM = ("rand", "randn", "randint", "randperm", "multinomial", "bernoulli", "normal", "poisson",
          "rand_like", "randn_like", "randint_like")


class ForeignGenerator(torch.Generator):
    """A CPU generator that reports another device: what a CUDA generator looks like to hopnb."""

    @property
    def device(self):
        return torch.device("cuda")


@pytest.fixture
def recorded(monkeypatch):
    """Wrap torch's random functions: fail on a draw whose device is not its generator's."""
    wrong = []

    def wrap(name, real):
        def draw(*args, generator=None, device=None, **kw):
            if isinstance(generator, ForeignGenerator):
                asked = torch.device(device) if device is not None else None
                like = next((a for a in args if isinstance(a, torch.Tensor)), None)
                where = asked or (like.device if like is not None else torch.device("cpu"))
                if where != generator.device:
                    wrong.append(f"torch.{name} drew on {where} with a generator on {generator.device}")
                device = "cpu" if device is not None else None  # the generator really is a CPU one
            if isinstance(generator, ForeignGenerator) or generator is not None:
                kw["generator"] = generator
            return real(*args, device=device, **kw) if device is not None else real(*args, **kw)
        return draw

    for name in RANDOM:
        if hasattr(torch, name):
            monkeypatch.setattr(torch, name, wrap(name, getattr(torch, name)))
    return wrong


def g():
    return ForeignGenerator().manual_seed(0)


x = torch.rand(6, 16)
memories = torch.rand(5, 16)
binary = torch.where(torch.rand(3, 16) < 0.5, 1.0, -1.0)

CALLS = {
    "corrupt.mask_pixels": lambda: corrupt.mask_pixels(x, 0.5, generator=g()),
    "corrupt.mask_rows": lambda: corrupt.mask_rows(x, (4, 4), generator=g()),
    "corrupt.mask_border": lambda: corrupt.mask_border(x, (4, 4), generator=g()),
    "corrupt.gaussian_noise": lambda: corrupt.gaussian_noise(x, 0.1, generator=g()),
    "corrupt.shift": lambda: corrupt.shift(x, 0.1, generator=g()),
    "corrupt.salt_and_pepper": lambda: corrupt.salt_and_pepper(x, 0.3, generator=g()),
    "corrupt.dropout": lambda: corrupt.dropout(x, 0.3, generator=g()),
    "corrupt.VariantDistribution.sample": lambda: corrupt.VariantDistribution(
        memories, [corrupt.VariantDistribution.of(corrupt.mask_pixels, fraction=0.3),
                   corrupt.VariantDistribution.of(corrupt.gaussian_noise, sigma=0.1)]).sample(8, generator=g()),
    "data.random_patterns": lambda: [data.random_patterns(3, 4, kind, generator=g())
                                     for kind in ("binary", "gaussian", "uniform")],
    "kernel.KernelSimilarity": lambda: kernel.KernelSimilarity(16, generator=g()),
    "models.UHop": lambda: models.UHop(memories, generator=g()),
    "models.AdaptiveHopfield.fit": lambda: models.AdaptiveHopfield(memories).fit(
        corrupt.VariantDistribution(memories, [corrupt.VariantDistribution.of(corrupt.mask_pixels, fraction=0.3)]),
        epochs=1, samples=8, batch_size=8, generator=g(), progress=False)
    + models.AdaptiveHopfield(memories).fit((torch.arange(5), memories), epochs=1, generator=g(), progress=False),
    "models.BinaryNetwork.step_async": lambda: models.ClassicalHopfield(binary).step_async(binary, generator=g()),
    "models.BinaryNetwork.forward": lambda: models.ClassicalHopfield(binary)(binary, generator=g()),
    "models.BinaryNetwork.retrieve": lambda: models.DenseAssociativeMemory(binary).retrieve(binary, generator=g()),
}


def public_functions_taking_a_generator():
    """``module.qualname`` of every public function or method of hopnb with a ``generator`` parameter."""
    found = set()
    for modname in ("corrupt", "data", "experiments", "footprint", "kernel", "memory", "metrics", "models", "nn"):
        module = getattr(hopnb, modname)
        for name in module.__all__:
            obj = getattr(module, name)
            members = [obj]
            if inspect.isclass(obj):
                members += [f for m, f in inspect.getmembers(obj, callable) if not m.startswith("_")] + [obj.__init__]
            for f in members:
                try:
                    if "generator" in inspect.signature(f).parameters:
                        found.add(f"{modname}.{f.__qualname__.removesuffix('.__init__')}")
                except (TypeError, ValueError):
                    continue
    return found


def test_every_function_taking_a_generator_is_checked():
    assert public_functions_taking_a_generator() == set(CALLS)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_draws_happen_on_the_generators_device(name, recorded):
    CALLS[name]()
    assert not recorded, "\n".join(recorded)
