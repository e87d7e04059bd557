import functools

import pytest
import torch

from hopnb import corrupt


def g(seed=0):
    return torch.Generator().manual_seed(seed)


X = torch.rand(64, 36, generator=g(99)) * 0.8 + 0.1  # no exact zeros or ones


def test_mask_pixels_masks_the_asked_fraction_reproducibly():
    a = corrupt.mask_pixels(X, 0.5, generator=g())
    b = corrupt.mask_pixels(X, 0.5, generator=g())
    assert torch.equal(a, b)
    assert abs((a == 0).float().mean().item() - 0.5) < 0.03
    kept = a != 0
    assert torch.equal(a[kept], X[kept])


def test_row_and_border_masks():
    bottom = corrupt.mask_rows(X, (6, 6), 0.5).reshape(-1, 6, 6)
    assert bool((bottom[:, 3:] == 0).all()) and torch.equal(bottom[:, :3], X.reshape(-1, 6, 6)[:, :3])
    top = corrupt.mask_rows(X, (6, 6), 1 / 3, side="top").reshape(-1, 6, 6)
    assert bool((top[:, :2] == 0).all()) and bool((top[:, 2:] != 0).all())
    border = corrupt.mask_border(X, (6, 6), 2 / 3).reshape(-1, 6, 6)
    assert bool((border[:, 2:4, 2:4] != 0).all()) and (border == 0).sum(dim=(1, 2)).eq(32).all()
    colour = corrupt.mask_rows(torch.rand(2, 48), (4, 4, 3), 0.5).reshape(2, 4, 4, 3)
    assert bool((colour[:, 2:] == 0).all())


def test_noise_shift_salt_pepper_dropout():
    noisy = corrupt.gaussian_noise(X, 0.1, generator=g())
    assert abs((noisy - X).std().item() - 0.1) < 0.01
    uhn = corrupt.gaussian_noise(X, 2.0, generator=g(), clamp=True)
    assert 0 <= uhn.min() and uhn.max() <= 1
    torch.testing.assert_close(corrupt.shift(X, -0.25), X - 0.25)
    sp = corrupt.salt_and_pepper(X, 0.3, generator=g())
    changed = sp != X
    assert set(sp[changed].unique().tolist()) <= {0.0, 1.0} and abs(changed.float().mean() - 0.3) < 0.03
    drop = corrupt.dropout(X, 0.5, generator=g())
    kept = drop != 0
    torch.testing.assert_close(drop[kept], 2 * X[kept])
    torch.testing.assert_close(torch.dropout(torch.ones(1), 0.0, True), corrupt.dropout(torch.ones(1, 1), 0.0)[0])


@pytest.mark.parametrize("call, message", [
    (lambda: corrupt.mask_pixels(X, 1.5), r"fraction must lie in \[0, 1\]; got 1.5"),
    (lambda: corrupt.mask_pixels(X, -0.1), "fraction must be finite and ≥ 0"),
    (lambda: corrupt.mask_rows(X, (5, 5)), r"shape must be \(H, W\) or \(H, W, C\) with H·W·C = d = 36"),
    (lambda: corrupt.mask_rows(X, (6, 6), side="left"), "side must be 'bottom' or 'top'"),
    (lambda: corrupt.gaussian_noise(X, -1.0), "sigma must be finite and ≥ 0"),
    (lambda: corrupt.VariantDistribution(X, []), "transforms must be a non-empty sequence"),
    (lambda: corrupt.VariantDistribution(X, [corrupt.shift], mode="all"), "mode must be 'mix' or 'chain'"),
    (lambda: corrupt.VariantDistribution(X, [corrupt.shift], probs=[0.5, 0.5]), "probs needs mode='mix' and one"),
])
def test_bad_arguments_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_variant_distribution_mix_and_chain():
    of = corrupt.VariantDistribution.of
    noise, mask = of(corrupt.gaussian_noise, sigma=0.05), of(corrupt.mask_pixels, fraction=1.0)
    mix = corrupt.VariantDistribution(X, [noise, mask], probs=[0.25, 0.75])
    source, variants = mix.sample(4000, generator=g())
    assert source.shape == (4000,) and variants.shape == (4000, 36)
    fully_masked = (variants == 0).all(dim=1)
    assert abs(fully_masked.float().mean().item() - 0.75) < 0.03
    near = (variants[~fully_masked] - X[source[~fully_masked]]).abs().amax(dim=1) < 0.5
    assert bool(near.all())
    again = mix.sample(4000, generator=g())
    assert torch.equal(again[1], variants)
    chain = corrupt.VariantDistribution(X, [of(corrupt.shift, bias=1.0), functools.partial(corrupt.mask_rows, shape=(6, 6),
                                                                                             fraction=0.5)], mode="chain")
    source, variants = chain.sample(10, generator=g())
    torch.testing.assert_close(variants[:, :18], X[source][:, :18] + 1.0)
    assert bool((variants[:, 18:] == 0).all())
