"""Bad or extreme inputs across the public API: each gets a clear error that names the argument,
what was expected and what came, or a correct (finite, checked) result. One parametrised case per
input tried; the classes follow the list of issue 17 (dtypes, extreme magnitudes, NaN/inf
parameters, empty sizes, user callables, generators and seeds, counts and rates, budgets)."""

import functools
import math

import pytest
import torch

import hopnb
from hopnb import (AssociativeMemory, corrupt, data, experiments, footprint, kernel, metrics, nn, plot, separation,
                   similarity)
from hopnb.models import (AdaptiveHopfield, ClassicalHopfield, DenseAssociativeMemory, ModernHopfield, UHop,
                          separation_margins)

NAN, INF = float("nan"), float("inf")
g = torch.Generator().manual_seed(0)
M4 = torch.randn(4, 3, generator=g)
Q2 = torch.randn(2, 3, generator=g)
BIN = torch.tensor([[1.0, -1.0, 1.0, -1.0], [1.0, 1.0, -1.0, -1.0]])
SWEEP = dict(n_memories=[3], similarities=["dot"], separations=["max"],
             corruptions={"none": lambda x, level, generator: x}, levels=[0.0], progress=False)


def ok(f, check):
    """A case whose result must be correct: ``check(result)`` is True."""
    return ("ok", f, check)


def err(f, error, match):
    return (error, f, match)


def finite(x):
    return bool(torch.isfinite(torch.as_tensor(x)).all())


CASES = {
    # ------------------------------------------------------------------ dtypes
    "dot float16": err(lambda: similarity.dot(M4.half(), Q2.half()), TypeError, "memories must be torch.float32 or torch.float64; got torch.float16"),
    "euclidean bfloat16": err(lambda: similarity.euclidean(M4.bfloat16(), Q2.bfloat16()), TypeError, "memories must be torch.float32 or torch.float64; got torch.bfloat16"),
    "manhattan float16": err(lambda: similarity.manhattan(M4.half(), Q2.half()), TypeError, "memories must be .*float16"),
    "cosine int64": err(lambda: similarity.cosine(M4.long(), Q2), TypeError, "memories must be a floating-point tensor"),
    "dot bool queries": err(lambda: similarity.dot(M4, Q2 > 0), TypeError, "queries must be a floating-point tensor"),
    "dot float32 vs float64": err(lambda: similarity.dot(M4, Q2.double()), TypeError, "queries must have the dtype of memories"),
    "memory float16 streamed": err(lambda: AssociativeMemory(torch.randn(70, 3).half(), chunk_size=7), TypeError, "memories must be .*float16"),
    "memory bfloat16": err(lambda: ModernHopfield(M4.bfloat16()), TypeError, "memories must be .*bfloat16"),
    "memory queries float64": err(lambda: AssociativeMemory(M4)(Q2.double()), TypeError, "queries must have the dtype of memories"),
    "memory complex": err(lambda: AssociativeMemory(M4.to(torch.complex64)), TypeError, "memories must be a floating-point tensor"),
    "uhop int64 memories": err(lambda: UHop(M4.long()), TypeError, "memories must be a floating-point tensor"),
    "ahop int memories": err(lambda: AdaptiveHopfield(M4.int()), TypeError, "memories must be a floating-point tensor"),
    "ahop float16": err(lambda: AdaptiveHopfield(M4.half()), TypeError, "memories must be .*float16"),
    "classical bfloat16": err(lambda: ClassicalHopfield(BIN.bfloat16()), TypeError, "memories must be .*bfloat16"),
    "dense int": err(lambda: DenseAssociativeMemory(BIN.long()), TypeError, "memories must be a floating-point tensor"),
    "classical states float64": err(lambda: ClassicalHopfield(BIN).retrieve(BIN.double()), TypeError, "states must have the dtype of memories"),
    "random_patterns int64": err(lambda: data.random_patterns(2, 3, dtype=torch.int64), TypeError, "dtype must be a floating-point"),
    "random_patterns bool": err(lambda: data.random_patterns(2, 3, "gaussian", dtype=torch.bool), TypeError, "dtype must be"),
    "random_patterns dtype str": err(lambda: data.random_patterns(2, 3, dtype="float32"), TypeError, "dtype must be"),
    "random_patterns float64": ok(lambda: data.random_patterns(2, 3, dtype=torch.float64), lambda x: x.dtype == torch.float64),
    "nn states float16": err(lambda: nn.Hopfield()(torch.randn(1, 2, 3).half(), torch.randn(1, 2, 3).half()), TypeError, "states must be .*float16"),
    "nn float32 states float64 stored": err(lambda: nn.Hopfield()(torch.randn(1, 2, 3), torch.randn(1, 2, 3).double()), TypeError, "stored must have the dtype of states"),
    "nn int states": err(lambda: nn.Hopfield()(torch.ones(1, 2, 3, dtype=torch.long), torch.randn(1, 2, 3)), TypeError, "states must be a floating-point"),
    "kernel float64 inputs": err(lambda: kernel.KernelSimilarity(3)(M4.double(), Q2.double()), TypeError, "inputs must have the dtype of the kernel's W"),
    "kernel int inputs": err(lambda: kernel.KernelSimilarity(3)(M4.long(), Q2), TypeError, "memories must be a floating-point"),
    "kernel dtype float16": err(lambda: kernel.KernelSimilarity(3, dtype=torch.float16), TypeError, "dtype must be torch.float32"),
    "footprint sim float64": err(lambda: footprint.FootprintSimilarity(3)(M4.double(), Q2.double()), TypeError, "must have the footprint weights' dtype"),
    "footprint sim dtype int": err(lambda: footprint.FootprintSimilarity(3, dtype=torch.int32), TypeError, "dtype must be"),
    "softmax int scores": err(lambda: separation.softmax()(torch.ones(2, 3, dtype=torch.long)), TypeError, "scores must be a floating-point"),
    "softmax float16 scores": err(lambda: separation.softmax()(torch.ones(2, 3).half()), TypeError, "scores must be .*float16"),
    "metrics float16": err(lambda: metrics.sse(Q2.half(), Q2.half()), TypeError, "retrieved must be .*float16"),
    "corrupt float16 ok": ok(lambda: corrupt.mask_pixels(Q2.half(), 0.5, generator=torch.Generator().manual_seed(0)), lambda x: x.dtype == torch.float16),
    "corrupt int x": err(lambda: corrupt.gaussian_noise(Q2.long(), 0.1), TypeError, "x must be a floating-point"),
    "source_accuracy bool source": err(lambda: metrics.source_accuracy(torch.tensor([True, False]), weights=Q2), TypeError, "source must be a tensor"),
    "source_accuracy fractional source": err(lambda: metrics.source_accuracy(torch.tensor([0.5, 1.0]), weights=Q2), ValueError, "source must hold whole-number"),
    # ------------------------------------------------------------------ extreme magnitudes
    "dot 1e30": err(lambda: similarity.dot(M4 * 1e30, Q2), ValueError, r"memories has entries up to \|x\| = .*e\+30.*Rescale"),
    "euclidean 1e30 queries": err(lambda: similarity.euclidean(M4, Q2 * 1e30), ValueError, r"queries has entries up to"),
    "squared euclidean 1e20": err(lambda: similarity.euclidean(M4 * 1e20, Q2 * 1e20, squared=True), ValueError, "memories has entries up to"),
    "cosine 1e30": err(lambda: similarity.cosine(M4 * 1e30, Q2 * 1e30), ValueError, "memories has entries up to"),
    "cosine 1e-30": err(lambda: similarity.cosine(M4 * 1e-30, Q2), ValueError, "cosine similarity needs rows of memories with norm"),
    "cosine 1e-15 queries in memory": err(lambda: AssociativeMemory(M4, "cosine")(Q2 * 1e-15), ValueError, "rows of queries with norm"),
    "cosine zero row ok": ok(lambda: similarity.cosine(M4, torch.zeros(1, 3)), lambda s: bool((s == 0).all())),
    "cosine 1e10 ok": ok(lambda: similarity.cosine(M4 * 1e10, Q2 * 1e10), lambda s: torch.allclose(s, similarity.cosine(M4, Q2), atol=1e-5)),
    "dot 1e17 ok": ok(lambda: similarity.dot(M4 * 1e17, Q2), finite),
    "manhattan 1e17 ok": ok(lambda: similarity.manhattan(M4 * 1e17, Q2 * 1e17), lambda s: finite(s) and bool((s <= 0).all())),
    "euclidean 1e-30 ok": ok(lambda: AssociativeMemory(M4 * 1e-30, "euclidean")(Q2 * 1e-30), finite),
    "softmax beta 1e6 one-hot ok": ok(lambda: ModernHopfield(torch.eye(3), beta=1e6)(torch.tensor([[0.9, 0.1, 0.0]])), lambda z: z.tolist() == [[1.0, 0.0, 0.0]]),
    "energy M=1 ok": ok(lambda: ModernHopfield(M4[:1]).energy(M4[:1]), finite),
    "dot 1e30 float64 ok": ok(lambda: similarity.dot(M4.double() * 1e30, Q2.double()), lambda s: finite(s)),
    "softmax retrieval 1e30": err(lambda: ModernHopfield(M4 * 1e30)(Q2), ValueError, "memories has entries up to"),
    "softmax retrieval queries 1e30": err(lambda: ModernHopfield(M4)(Q2 * 1e30), ValueError, "queries has entries up to"),
    "euclidean softmax 1e30": err(lambda: AssociativeMemory(M4 * 1e30, "euclidean"), ValueError, "memories has entries up to"),
    "softmax beta*scores overflow": err(lambda: ModernHopfield(M4 * 1e17, beta=1e30)(Q2 * 1e17), ValueError, "retrieval has .* NaN or infinite"),
    "energy 1e20": err(lambda: ModernHopfield(M4).energy(Q2 * 1e20), ValueError, "states has entries up to|queries has entries up to"),
    "energy memories 1e20": err(lambda: ModernHopfield(M4 * 1e20), ValueError, "memories has entries up to"),
    "energy beta overflow": err(lambda: ModernHopfield(M4 * 1e17, beta=1e35).energy(Q2 * 1e17), ValueError, "the energy has .* NaN or infinite"),
    "energy 1e8 ok": ok(lambda: ModernHopfield(M4.double() * 1e8).energy(Q2.double() * 1e8), finite),
    "polynomial n=200 normalize ~40": ok(lambda: separation.polynomial(200, normalize=True)(torch.tensor([[40.0, 39.0, 10.0]])),
                                         lambda w: finite(w) and abs(float(w.sum()) - 1) < 1e-5 and float(w[0, 0]) > 0.99),
    "polynomial n=200 normalize in memory": ok(lambda: AssociativeMemory(torch.eye(3) * 40, "dot", separation.polynomial(200, normalize=True))(torch.tensor([[1.0, 0.9, 0.0]])),
                                               lambda z: finite(z) and torch.allclose(z, torch.tensor([[40.0, 0.0, 0.0]]), atol=1e-3)),
    "polynomial n=200 unnormalised overflow": err(lambda: separation.polynomial(200)(torch.tensor([[40.0, 1.0]])), ValueError, "Polynomial weights has 1 NaN or infinite"),
    "dense exponential energy d=2000": ok(lambda: DenseAssociativeMemory(torch.ones(1, 2000), "exponential").energy(torch.ones(1, 2000)), lambda e: float(e) == -2000.0),
    "dense exponential log energy ok": ok(lambda: DenseAssociativeMemory(torch.ones(1, 1000), "exponential").log_neg_energy(torch.ones(1, 1000)), lambda e: float(e) == 1000.0),
    "dense polynomial d^n overflow": err(lambda: DenseAssociativeMemory(torch.ones(1, 1000), n=200).energy(torch.ones(1, 1000)), ValueError, "d\\^n = 1000\\^200 overflows"),
    "sse 1e20": err(lambda: metrics.sse(Q2 * 1e20, Q2), ValueError, "retrieved has entries up to"),
    "fraction_cosine 1e30": err(lambda: metrics.fraction_cosine(Q2 * 1e30, Q2), ValueError, "retrieved has entries up to"),
    "shift 1e30 x ok": ok(lambda: corrupt.shift(Q2 * 1e30, 1.0), finite),
    "separation_margins 1e30": err(lambda: separation_margins(M4 * 1e30), ValueError, "memories has entries up to"),
    "kernel fit 1e30": err(lambda: kernel.KernelSimilarity(3).fit(M4 * 1e30, 1, progress=False), ValueError, "memories has entries up to"),
    "footprint 1e30": err(lambda: footprint.footprint(M4 * 1e30, Q2), ValueError, "memories has entries up to"),
    "nn stored 1e30": err(lambda: nn.Hopfield()(torch.randn(1, 2, 3), torch.randn(1, 2, 3) * 1e30), ValueError, "stored has entries up to"),
    "scores +inf": err(lambda: separation.softmax()(torch.tensor([[INF, 0.0]])), ValueError, "scores contain 1 NaN or \\+inf"),
    "scores -inf masks ok": ok(lambda: separation.softmax()(torch.tensor([[-INF, 0.0]])), lambda w: w.tolist() == [[0.0, 1.0]]),
    "scores all -inf": err(lambda: separation.softmax()(torch.tensor([[-INF, -INF]])), ValueError, "Softmax weights has 2 NaN"),
    "softmax beta 1e38 on 10": err(lambda: separation.softmax(beta=1e38)(torch.tensor([[10.0, 0.0]])), ValueError, "Softmax weights has"),
    # ------------------------------------------------------------------ NaN / inf parameters
    "threshold theta NaN": err(lambda: separation.threshold(theta=NAN), ValueError, "theta must be a finite number; got nan"),
    "threshold theta inf": err(lambda: separation.threshold(theta=INF), ValueError, "theta must be a finite number"),
    "threshold theta str": err(lambda: separation.threshold(theta="0"), TypeError, "theta must be a real number"),
    "softmax beta NaN": err(lambda: separation.softmax(beta=NAN), ValueError, "beta must be finite"),
    "softmax beta inf": err(lambda: separation.softmax(beta=INF), ValueError, "beta must be finite"),
    "softmax beta 0": err(lambda: separation.softmax(beta=0), ValueError, "beta must be finite and > 0"),
    "softmax beta -1": err(lambda: separation.softmax(beta=-1.0), ValueError, "beta must be finite and > 0"),
    "softmax beta tensor NaN": err(lambda: separation.softmax(beta=torch.tensor(NAN)), ValueError, "beta must be finite"),
    "softmax beta learnable NaN": err(lambda: separation.softmax(beta=torch.tensor(NAN, requires_grad=True)), ValueError, "beta must be a positive finite scalar"),
    "softmax beta learnable inf": err(lambda: separation.softmax(beta=torch.tensor(INF, requires_grad=True)), ValueError, "beta must be a positive finite scalar"),
    "softmax beta learnable vector": err(lambda: separation.softmax(beta=torch.ones(2, requires_grad=True)), ValueError, "beta must be a positive finite scalar"),
    "softmax beta learnable negative": err(lambda: separation.softmax(beta=torch.tensor(-3.0, requires_grad=True)), ValueError, "beta must be a positive finite scalar"),
    "softmax beta learnable flag negative": err(lambda: separation.softmax(beta=-3.0, learnable=True), ValueError, "beta must be finite and > 0"),
    "entmax alpha learnable 1": err(lambda: separation.entmax(alpha=torch.tensor(1.0, requires_grad=True)), ValueError, "entmax alpha must be a positive finite scalar \\(> 1\\)"),
    "softmax learnable str": err(lambda: separation.softmax(learnable="yes"), TypeError, "learnable must be a bool"),
    "memory beta trained stays positive": ok(lambda: _trained_far_down(), lambda beta: 0 < beta < 1e-3),
    "entmax alpha 1": err(lambda: separation.entmax(alpha=1.0), ValueError, "entmax alpha must be finite and > 1"),
    "entmax alpha NaN": err(lambda: separation.entmax(alpha=NAN), ValueError, "entmax alpha must be finite"),
    "polynomial n NaN": err(lambda: separation.polynomial(NAN), ValueError, "polynomial order n must be finite"),
    "polynomial n 0.5": err(lambda: separation.polynomial(0.5), ValueError, "polynomial order n must be finite and ≥ 1"),
    "polynomial n 2.5 unrectified": err(lambda: separation.polynomial(2.5), ValueError, "must be an integer unless rectified"),
    "shift bias NaN": err(lambda: corrupt.shift(Q2, NAN), ValueError, "bias must be a finite number; got nan"),
    "shift bias inf": err(lambda: corrupt.shift(Q2, INF), ValueError, "bias must be a finite number"),
    "shift bias -inf": err(lambda: corrupt.shift(Q2, -INF), ValueError, "bias must be a finite number"),
    "shift bias str": err(lambda: corrupt.shift(Q2, "0.1"), TypeError, "bias must be a real number"),
    "shift bias tensor ok": ok(lambda: corrupt.shift(Q2, torch.tensor(0.5)), lambda x: torch.equal(x, Q2 + 0.5)),
    "mask value NaN": err(lambda: corrupt.mask_pixels(Q2, 0.5, value=NAN), ValueError, "value must be a finite number"),
    "mask_rows value inf": err(lambda: corrupt.mask_rows(torch.ones(1, 4), (2, 2), value=INF), ValueError, "value must be a finite"),
    "mask_border value NaN": err(lambda: corrupt.mask_border(torch.ones(1, 16), (4, 4), value=NAN), ValueError, "value must be a finite"),
    "salt low NaN": err(lambda: corrupt.salt_and_pepper(Q2, 0.5, low=NAN), ValueError, "low must be a finite"),
    "salt high inf": err(lambda: corrupt.salt_and_pepper(Q2, 0.5, high=INF), ValueError, "high must be a finite"),
    "gaussian sigma NaN": err(lambda: corrupt.gaussian_noise(Q2, NAN), ValueError, "sigma must be finite"),
    "gaussian sigma -1": err(lambda: corrupt.gaussian_noise(Q2, -1.0), ValueError, "sigma must be finite and ≥ 0"),
    "mask fraction NaN": err(lambda: corrupt.mask_pixels(Q2, NAN), ValueError, "fraction must be finite"),
    "mask fraction 1.5": err(lambda: corrupt.mask_pixels(Q2, 1.5), ValueError, "fraction must lie in"),
    "dropout p NaN": err(lambda: corrupt.dropout(Q2, NAN), ValueError, "p must be finite"),
    "dropout x list": err(lambda: corrupt.dropout([[1.0]], 1.0), TypeError, "x must be a torch.Tensor"),
    "fraction_correct threshold NaN": err(lambda: metrics.fraction_correct(Q2, Q2, threshold=NAN), ValueError, "threshold must be finite"),
    "fraction_correct threshold -1": err(lambda: metrics.fraction_correct(Q2, Q2, threshold=-1), ValueError, "threshold must be finite and > 0"),
    "fraction_correct threshold inf": err(lambda: metrics.fraction_correct(Q2, Q2, threshold=INF), ValueError, "threshold must be finite"),
    "fraction_cosine threshold 2": err(lambda: metrics.fraction_cosine(Q2, Q2, threshold=2), ValueError, r"threshold \(a cosine similarity\) must be a finite number in \[-1, 1\]; got 2"),
    "fraction_cosine threshold NaN": err(lambda: metrics.fraction_cosine(Q2, Q2, threshold=NAN), ValueError, "threshold .*must be a finite number"),
    "fraction_cosine threshold -1 ok": ok(lambda: metrics.fraction_cosine(Q2, -Q2, threshold=-1.0), lambda f: f == 1.0),
    "source_accuracy NaN weights": err(lambda: metrics.source_accuracy(torch.tensor([0, 1]), weights=torch.tensor([[NAN, 0.0], [0.0, 1.0]])), ValueError, "weights contains 1 NaN"),
    "max separation NaN scores": err(lambda: separation.max()(torch.tensor([[NAN, 1.0]])), ValueError, "scores contain 1 NaN"),
    "sparsemax NaN scores": err(lambda: separation.sparsemax()(torch.tensor([[NAN, 1.0, 0.0]])), ValueError, "scores contain 1 NaN"),
    "entmax NaN scores": err(lambda: separation.entmax(1.5)(torch.tensor([[NAN, 1.0]])), ValueError, "scores contain"),
    "tol NaN": err(lambda: AssociativeMemory(M4).retrieve(Q2, 2, tol=NAN), ValueError, "tol must be finite"),
    "tol -1": err(lambda: AssociativeMemory(M4).retrieve(Q2, 2, tol=-1), ValueError, "tol must be finite and ≥ 0"),
    "eps NaN": err(lambda: similarity.euclidean(M4, Q2, eps=NAN), ValueError, "eps must be finite"),
    "eps 0 get": err(lambda: similarity.get("cosine", eps=0.0), ValueError, "eps must be finite and > 0"),
    "dense beta NaN": err(lambda: DenseAssociativeMemory(BIN, "exponential", beta=NAN), ValueError, "beta must be finite"),
    "kernel t NaN": err(lambda: kernel.separation_loss(M4, t=NAN), ValueError, "t must be finite"),
    "kernel features NaN": err(lambda: kernel.separation_loss(torch.tensor([[NAN, 1.0], [0.0, 1.0]])), ValueError, "features contains 1 NaN"),
    "interval confidence NaN": err(lambda: experiments.interval([1.0, 2.0], NAN), ValueError, "confidence must be a finite number in \\(0, 1\\)"),
    "interval confidence str": err(lambda: experiments.interval([1.0, 2.0], "95%"), TypeError, "confidence must be a real number"),
    "interval NaN values": err(lambda: experiments.interval([1.0, NAN]), ValueError, "values must be finite"),
    "sweep level NaN": err(lambda: experiments.retrieval_sweep(torch.rand(5, 3), **{**SWEEP, "levels": [NAN]}), ValueError, "each of levels must be a finite number"),
    "sweep threshold 0": err(lambda: experiments.retrieval_sweep(torch.rand(5, 3), **SWEEP, threshold=0), ValueError, "threshold must be finite and > 0"),
    "variant probs NaN": err(lambda: corrupt.VariantDistribution(M4, [corrupt.shift, corrupt.shift], probs=[NAN, 1.0]), ValueError, "each of probs must be a finite number"),
    "variant probs negative": err(lambda: corrupt.VariantDistribution(M4, [corrupt.shift, corrupt.shift], probs=[-1.0, 1.0]), ValueError, "each of probs must be a finite number in \\[0"),
    "memories NaN": err(lambda: AssociativeMemory(torch.tensor([[NAN, 0.0]])), ValueError, "memories contains 1 NaN"),
    "projection inf": err(lambda: AssociativeMemory(M4, projection=torch.full((4, 2), INF)), ValueError, "projection contains 8 NaN"),
    "nn states NaN": err(lambda: nn.Hopfield()(torch.full((1, 2, 3), NAN), torch.randn(1, 2, 3)), ValueError, "states contains 6 NaN"),
    "image_grid NaN": err(lambda: plot.image_grid(torch.full((2, 4), NAN), (2, 2)), ValueError, "contains NaN"),
    # ------------------------------------------------------------------ empty or zero sizes
    "memories M=0": err(lambda: AssociativeMemory(torch.ones(0, 3)), ValueError, r"memories must not be empty; got shape \[0, 3\]"),
    "memories d=0": err(lambda: AssociativeMemory(torch.ones(3, 0)), ValueError, r"memories must not be empty"),
    "queries B=0": err(lambda: AssociativeMemory(M4)(torch.ones(0, 3)), ValueError, "queries must not be empty"),
    "projection d'=0": err(lambda: AssociativeMemory(M4, projection=torch.ones(4, 0)), ValueError, "projection must not be empty"),
    "scores M=0": err(lambda: separation.softmax()(torch.ones(2, 0)), ValueError, "M ≥ 1"),
    "scores 1-D": err(lambda: separation.softmax()(torch.ones(3)), ValueError, r"takes scores \[B, M\]; got \[3\]"),
    "HopfieldLayer memories=0": err(lambda: nn.HopfieldLayer(8, memories=0), ValueError, "memories must be a positive int; got 0"),
    "HopfieldLayer d_out=0": err(lambda: nn.HopfieldLayer(8, memories=4, d_out=0), ValueError, "d_out .*must be a positive int; got 0"),
    "HopfieldLayer d=0": err(lambda: nn.HopfieldLayer(0, memories=4), ValueError, "d must be a positive int"),
    "HopfieldLayer memories 2.5": err(lambda: nn.HopfieldLayer(8, memories=2.5), TypeError, "memories must be a positive int"),
    "HopfieldPooling queries=0": err(lambda: nn.HopfieldPooling(8, queries=0), ValueError, "queries must be a positive int"),
    "nn stored [2,0,8]": err(lambda: nn.Hopfield()(torch.randn(2, 3, 8), torch.randn(2, 0, 8)), ValueError, r"stored must not be empty.*\[2, 0, 8\]"),
    "nn values d_v=0": err(lambda: nn.Hopfield()(torch.randn(2, 3, 8), torch.randn(2, 4, 8), torch.randn(2, 4, 0)), ValueError, "values must not be empty"),
    "nn states N mismatch": err(lambda: nn.Hopfield()(torch.randn(2, 3, 8), torch.randn(1, 4, 8)), ValueError, "must agree in N and L"),
    "random_patterns n=0": err(lambda: data.random_patterns(0, 3), ValueError, "n and d must be positive"),
    "random_patterns d=2.5": err(lambda: data.random_patterns(2, 2.5), TypeError, "d must be a positive int"),
    "load n=0": err(lambda: data.load("digits", n=0), ValueError, "n must be a positive int"),
    "load n=True": err(lambda: data.load("digits", n=True), ValueError, "n must be a positive int"),
    "load n too big": err(lambda: data.load("digits", n=10**6), ValueError, "n=1000000 asked for more"),
    "load name int": err(lambda: data.load(3), ValueError, "unknown dataset 3"),
    "load root int": err(lambda: data.load("mnist", root=3), TypeError, "root must be a folder"),
    "load split empty": err(lambda: data.load("mnist", ""), ValueError, "split must be one of"),
    "separation_margins M=1": err(lambda: separation_margins(M4[:1]), ValueError, "M ≥ 2"),
    "kernel margins M=1": err(lambda: kernel.KernelSimilarity(3).margins(M4[:1]), ValueError, "M ≥ 2"),
    "kernel features=0": err(lambda: kernel.KernelSimilarity(3, features=0), ValueError, "features .*must be a positive int"),
    "kernel d=True": err(lambda: kernel.KernelSimilarity(True), TypeError, "d must be a positive int"),
    "separation_loss M=1": err(lambda: kernel.separation_loss(M4[:1]), ValueError, "at least 2 feature vectors"),
    "separation_loss_bound 1": err(lambda: kernel.separation_loss_bound(1), ValueError, r"n_memories must be an int ≥ 2; got 1"),
    "separation_loss_bound 0": err(lambda: kernel.separation_loss_bound(0), ValueError, "n_memories must be"),
    "separation_loss_bound 2.5": err(lambda: kernel.separation_loss_bound(2.5), TypeError, "n_memories must be"),
    "separation_loss_bound ok": ok(lambda: kernel.separation_loss_bound(2), lambda v: v == -8.0),
    "image_grid n=0": err(lambda: plot.image_grid(torch.rand(2, 4), (2, 2), n=0), ValueError, r"n \(columns\) must be a positive int; got 0"),
    "image_grid empty rows": err(lambda: plot.image_grid({}, (2, 2)), ValueError, "rows must hold at least one row"),
    "image_grid empty tensor": err(lambda: plot.image_grid(torch.rand(0, 4), (2, 2)), ValueError, "must hold at least one pattern"),
    "image_grid shape 2.5": err(lambda: plot.image_grid(torch.rand(2, 4), (2.5, 2)), ValueError, "shape must be"),
    "image_grid size 0": err(lambda: plot.image_grid(torch.rand(2, 4), (2, 2), size=0), ValueError, "size must be a positive"),
    "variant transforms empty": err(lambda: corrupt.VariantDistribution(M4, []), ValueError, "transforms must be a non-empty"),
    "variant transforms callable": err(lambda: corrupt.VariantDistribution(M4, corrupt.shift), TypeError, "transforms must be a list"),
    "variant sample n=0": err(lambda: corrupt.VariantDistribution(M4, [corrupt.shift]).sample(0), ValueError, "n must be a positive int"),
    "variant sample n=2.0": err(lambda: corrupt.VariantDistribution(M4, [corrupt.shift]).sample(2.0), TypeError, "n must be a positive int"),
    "footprint sim d=0": err(lambda: footprint.FootprintSimilarity(0), ValueError, "d must be a positive int"),
    "footprint bases str": err(lambda: footprint.FootprintSimilarity(3, bases="dis"), ValueError, "bases must be a non-empty subset"),
    "interval empty": err(lambda: experiments.interval([]), ValueError, "values must hold at least one"),
    "paired length": err(lambda: experiments.paired([1.0], [1.0, 2.0]), ValueError, "a and b must pair up"),
    "mask_rows shape 2.5": err(lambda: corrupt.mask_rows(torch.ones(1, 4), (2.5, 2)), TypeError, "each entry of shape must be a positive int"),
    "mask_rows shape mismatch": err(lambda: corrupt.mask_rows(torch.ones(1, 4), (3, 2)), ValueError, "shape must be \\(H, W\\)"),
    # ------------------------------------------------------------------ shapes from user callables
    "similarity returns [B, M-1]": err(lambda: AssociativeMemory(M4, lambda m, q: (q @ m.T)[:, :-1])(Q2), ValueError, r"similarity must return scores \[B, M\] = \[2, 4\]; got \[2, 3\]"),
    "similarity returns list": err(lambda: AssociativeMemory(M4, lambda m, q: [[0.0]])(Q2), ValueError, "similarity must return scores .* got list"),
    "similarity returns NaN": err(lambda: AssociativeMemory(M4, lambda m, q: torch.full((q.shape[0], m.shape[0]), NAN))(Q2), ValueError, "the similarity's scores has 8 NaN"),
    "similarity returns float64": err(lambda: AssociativeMemory(M4, lambda m, q: (q @ m.T).double())(Q2), TypeError, "similarity must return scores of the queries' dtype"),
    "separation callable wrong shape": err(lambda: AssociativeMemory(M4, "dot", lambda s: s[:, :2])(Q2), ValueError, r"separation must return weights \[B, M\] = \[2, 4\].*got \[2, 2\]"),
    "separation callable returns NaN": err(lambda: AssociativeMemory(M4, "dot", lambda s: s * NAN)(Q2), ValueError, "retrieval has 6 NaN"),
    "nn similarity wrong shape": err(lambda: nn.Hopfield(similarity=lambda k, q: q @ k.transpose(1, 2)[..., :1])(torch.randn(1, 2, 3), torch.randn(1, 4, 3)), ValueError, r"similarity must return scores \[N, S, L\]"),
    "nn separation wrong shape": err(lambda: nn.Hopfield(separation=lambda s: s[..., :1])(torch.randn(1, 2, 3), torch.randn(1, 4, 3)), ValueError, "separation must return weights of the scores' shape"),
    "nn similarity not callable": err(lambda: nn.Hopfield(similarity=3), TypeError, "similarity must be a name"),
    "nn normalize=True": err(lambda: nn.Hopfield(normalize=True), TypeError, "normalize .*must be a positive int; got True"),
    "nn normalize mismatch": err(lambda: nn.Hopfield(normalize=4)(torch.randn(1, 2, 3), torch.randn(1, 4, 3)), ValueError, "states must have d=4 features"),
    "nn projections mismatch": err(lambda: nn.Hopfield(projections=(4, 2))(torch.randn(1, 2, 3), torch.randn(1, 4, 3)), ValueError, "states must have d=4 features"),
    "nn projections values mismatch": err(lambda: nn.Hopfield(projections=(3, 2))(torch.randn(1, 2, 3), torch.randn(1, 4, 3), torch.randn(1, 4, 5)), ValueError, "values must have d=3 features"),
    "nn projections scalar": err(lambda: nn.Hopfield(projections=4), TypeError, "projections must be a pair"),
    "nn projections zero": err(lambda: nn.Hopfield(projections=(3, 0)), ValueError, r"projections\[1\] must be a positive int"),
    "variant transform wrong shape": err(lambda: corrupt.VariantDistribution(M4, [lambda x, generator: x[:, :2]]).sample(3), ValueError, "must return variants of its input's shape"),
    "variant transform returns list": err(lambda: corrupt.VariantDistribution(M4, [lambda x, generator: x.tolist()], mode="chain").sample(3), ValueError, "must return variants"),
    "variant transform NaN": err(lambda: corrupt.VariantDistribution(M4, [lambda x, generator: x * NAN]).sample(3), ValueError, "NaN"),
    "sweep corruption wrong shape": err(lambda: experiments.retrieval_sweep(torch.rand(5, 3), **{**SWEEP, "corruptions": {"cut": lambda x, level, generator: x[:, :2]}}), ValueError, r"corruptions\['cut'\] must return queries"),
    "sweep corruptions list": err(lambda: experiments.retrieval_sweep(torch.rand(5, 3), **{**SWEEP, "corruptions": [corrupt.shift]}), TypeError, "corruptions must be a non-empty mapping"),
    "sweep corruption not callable": err(lambda: experiments.retrieval_sweep(torch.rand(5, 3), **{**SWEEP, "corruptions": {"x": 3}}), TypeError, r"corruptions\['x'\] must be a callable"),
    "sweep n_memories [2.5]": err(lambda: experiments.retrieval_sweep(torch.rand(5, 3), **{**SWEEP, "n_memories": [2.5]}), TypeError, "each of n_memories must be a positive int"),
    "sweep n_memories int": err(lambda: experiments.retrieval_sweep(torch.rand(5, 3), **{**SWEEP, "n_memories": 3}), TypeError, "n_memories must be a list of ints"),
    "sweep n_memories []": err(lambda: experiments.retrieval_sweep(torch.rand(5, 3), **{**SWEEP, "n_memories": []}), ValueError, "n_memories must hold at least one"),
    "sweep levels float": err(lambda: experiments.retrieval_sweep(torch.rand(5, 3), **{**SWEEP, "levels": 0.5}), TypeError, "levels must be a list of numbers"),
    "sweep similarities []": err(lambda: experiments.retrieval_sweep(torch.rand(5, 3), **{**SWEEP, "similarities": []}), ValueError, "similarities must hold at least one"),
    "sweep separations 3": err(lambda: experiments.retrieval_sweep(torch.rand(5, 3), **{**SWEEP, "separations": 3}), TypeError, "separations must be a name"),
    "sweep queries_per_run 0": err(lambda: experiments.retrieval_sweep(torch.rand(5, 3), **SWEEP, queries_per_run=0), ValueError, "queries_per_run .*must be a positive int"),
    "sweep single callable ok": ok(lambda: experiments.retrieval_sweep(torch.rand(5, 3), **{**SWEEP, "separations": separation.max()}), lambda rows: len(rows) == 1),
    "ahop variants wrong type": err(lambda: AdaptiveHopfield(M4).fit([1, 2]), TypeError, "variants must be a sampler with sample"),
    "memory similarity 3": err(lambda: AssociativeMemory(M4, 3), TypeError, "similarity must be a name"),
    # ------------------------------------------------------------------ generators and seeds
    "seed 2**70": err(lambda: hopnb.seed(2**70), ValueError, "seed plus HOPNB_SEED_OFFSET must be below 2\\*\\*63"),
    "seed -1": err(lambda: hopnb.seed(-1), ValueError, "seed must be a non-negative int"),
    "seed float": err(lambda: hopnb.seed(1.0), ValueError, "seed must be a non-negative int"),
    "seed None": err(lambda: hopnb.seed(None), ValueError, "seed must be a non-negative int"),
    "seed bad device": err(lambda: hopnb.seed(0, device="gpu0"), ValueError, "device must name a torch device"),
    "seed numpy int ok": ok(lambda: hopnb.seed(__import__("numpy").int64(3)), lambda gen: gen.initial_seed() == 3 + hopnb.seed_offset()),
    "device bad name": err(lambda: hopnb.device("tpu9", verbose=False), ValueError, "device must name a torch device"),
    "random_patterns generator=42": err(lambda: data.random_patterns(2, 3, generator=42), TypeError, "generator must be a torch.Generator"),
    "mask_pixels generator=42": err(lambda: corrupt.mask_pixels(Q2, 0.5, generator=42), TypeError, "generator must be a torch.Generator"),
    "shift generator=42": err(lambda: corrupt.shift(Q2, 0.1, generator=42), TypeError, "generator must be a torch.Generator"),
    "mask_rows generator str": err(lambda: corrupt.mask_rows(torch.ones(1, 4), (2, 2), generator="0"), TypeError, "generator must be"),
    "dropout generator=1": err(lambda: corrupt.dropout(Q2, 0.5, generator=1), TypeError, "generator must be"),
    "variant sample generator=1": err(lambda: corrupt.VariantDistribution(M4, [corrupt.shift]).sample(2, generator=1), TypeError, "generator must be"),
    "kernel generator=0": err(lambda: kernel.KernelSimilarity(3, generator=0), TypeError, "generator must be"),
    "uhop generator=0": err(lambda: UHop(M4, generator=0), TypeError, "generator must be"),
    "binary run generator=0": err(lambda: ClassicalHopfield(BIN).retrieve(BIN, generator=0), TypeError, "generator must be"),
    "binary step_async generator str": err(lambda: ClassicalHopfield(BIN).step_async(BIN, generator="x"), TypeError, "generator must be"),
    "sweep seeds [-1]": err(lambda: experiments.retrieval_sweep(torch.rand(5, 3), **SWEEP, seeds=[-1]), ValueError, "each of seeds must be a non-negative int"),
    "sweep seeds int": err(lambda: experiments.retrieval_sweep(torch.rand(5, 3), **SWEEP, seeds=0), TypeError, "seeds must be a list of ints"),
    "sweep seeds [1.5]": err(lambda: experiments.retrieval_sweep(torch.rand(5, 3), **SWEEP, seeds=[1.5]), TypeError, "each of seeds must be"),
    # ------------------------------------------------------------------ counts, rates, records
    "retrieve max_record 0": err(lambda: AssociativeMemory(M4).retrieve(Q2, 3, record=True, max_record=0), ValueError, "max_record must be a positive int; got 0"),
    "retrieve max_record -5": err(lambda: AssociativeMemory(M4).retrieve(Q2, 3, record=True, max_record=-5), ValueError, "max_record must be a positive int; got -5"),
    "retrieve max_record 2.5": err(lambda: AssociativeMemory(M4).retrieve(Q2, 3, record=True, max_record=2.5), TypeError, "max_record must be a positive int"),
    "retrieve max_record 1 ok": ok(lambda: AssociativeMemory(M4).retrieve(Q2, 3, record=True, max_record=1), lambda r: r.trajectory.shape[0] == 1),
    "retrieve record str": err(lambda: AssociativeMemory(M4).retrieve(Q2, 3, record="yes"), TypeError, "record must be a bool"),
    "retrieve steps 0": err(lambda: AssociativeMemory(M4).retrieve(Q2, 0), ValueError, "steps must be a positive int; got 0"),
    "retrieve steps 2.0": err(lambda: AssociativeMemory(M4).retrieve(Q2, 2.0), TypeError, "steps must be a positive int"),
    "retrieve steps True": err(lambda: AssociativeMemory(M4).retrieve(Q2, True), TypeError, "steps must be a positive int"),
    "chunk_size True": err(lambda: AssociativeMemory(M4, chunk_size=True), TypeError, "chunk_size must be a positive int"),
    "chunk_size -1": err(lambda: AssociativeMemory(M4, chunk_size=-1), ValueError, "chunk_size must be a positive int"),
    "chunk_size 1 ok": ok(lambda: AssociativeMemory(M4, chunk_size=1)(Q2), lambda z: torch.allclose(z, AssociativeMemory(M4)(Q2), atol=1e-6)),
    "uhop fit lr NaN": err(lambda: UHop(M4).fit(1, lr=NAN, progress=False), ValueError, "lr must be finite"),
    "uhop fit lr 0": err(lambda: UHop(M4).fit(1, lr=0, progress=False), ValueError, "lr must be finite and > 0"),
    "uhop fit lr -1": err(lambda: UHop(M4).fit(1, lr=-1, progress=False), ValueError, "lr must be finite and > 0"),
    "uhop fit lr 1e300": err(lambda: UHop(M4, generator=torch.Generator().manual_seed(0)).fit(3, lr=1e300, progress=False), FloatingPointError, "lower the learning rate"),
    "uhop fit steps -1": err(lambda: UHop(M4).fit(-1, progress=False), ValueError, "steps must be a non-negative int"),
    "uhop fit steps 1.5": err(lambda: UHop(M4).fit(1.5, progress=False), TypeError, "steps must be a non-negative int"),
    "uhop fit t inf": err(lambda: UHop(M4).fit(1, t=INF, progress=False), ValueError, "t must be finite"),
    "uhop fit kind": err(lambda: UHop(M4).fit(1, kind="min", progress=False), ValueError, "kind must be one of"),
    "uhop fit progress str": err(lambda: UHop(M4).fit(1, progress="no"), TypeError, "progress must be a bool"),
    "ahop fit epochs 0": err(lambda: AdaptiveHopfield(M4).fit(corrupt.VariantDistribution(M4, [corrupt.shift]), epochs=0), ValueError, "epochs must be a positive int"),
    "ahop fit epochs True": err(lambda: AdaptiveHopfield(M4).fit(corrupt.VariantDistribution(M4, [corrupt.shift]), epochs=True), ValueError, "epochs must be a positive int"),
    "ahop fit lr inf": err(lambda: AdaptiveHopfield(M4).fit(corrupt.VariantDistribution(M4, [corrupt.shift]), lr=INF), ValueError, "lr must be finite"),
    "ahop fit batch 0": err(lambda: AdaptiveHopfield(M4).fit(corrupt.VariantDistribution(M4, [corrupt.shift]), batch_size=0), ValueError, "batch_size must be a positive int"),
    "binary steps 0": err(lambda: ClassicalHopfield(BIN).retrieve(BIN, steps=0), ValueError, "steps must be a positive int"),
    "binary steps 1.5": err(lambda: ClassicalHopfield(BIN).retrieve(BIN, steps=1.5), TypeError, "steps must be a positive int"),
    "binary mode": err(lambda: ClassicalHopfield(BIN).retrieve(BIN, mode="parallel"), ValueError, "mode must be 'async' or 'sync'"),
    "binary states 0/1": err(lambda: ClassicalHopfield(BIN).retrieve((BIN + 1) / 2), ValueError, "states must hold only ±1 entries"),
    "dense n 0": err(lambda: DenseAssociativeMemory(BIN, n=0), ValueError, "polynomial order n must be finite and ≥ 1"),
    "dense n 2.5": err(lambda: DenseAssociativeMemory(BIN, n=2.5), ValueError, "polynomial order n must be an integer"),
    "dense interaction": err(lambda: DenseAssociativeMemory(BIN, "cubic"), ValueError, "interaction must be one of"),
    # ------------------------------------------------------------------ budgets
    "stage I M=40000": err(lambda: kernel.separation_loss(torch.ones(40000, 1).expand(40000, 2)), ValueError, r"M=40000 .*pairwise distances .*budget"),
    "stage I fit M=40000": err(lambda: kernel.KernelSimilarity(2).fit(torch.ones(40000, 1).expand(40000, 2), 1, progress=False), ValueError, "above the budget"),
    "uhop fit M=40000": err(lambda: UHop(torch.ones(40000, 1).expand(40000, 2)).fit(1, progress=False), ValueError, "hopnb.kernel.PAIR_BUDGET"),
    "footprint 2000x500x784": err(lambda: footprint.footprint(torch.zeros(500, 1).expand(500, 784), torch.zeros(2000, 1).expand(2000, 784)), ValueError, r"\[2000, 500, 784\].*FootprintSimilarity"),
    "footprint small ok": ok(lambda: footprint.footprint(M4, Q2, "dot"), lambda f: f.shape == (2, 4, 3) and torch.allclose(f[..., -1], Q2 @ M4.T, atol=1e-6)),
}


def _trained_far_down():
    """Gradient steps that would drive an unconstrained β below 0 leave the log-parametrised β positive."""
    mem = AssociativeMemory(M4, "dot", separation.softmax(beta=1.0, learnable=True))
    optimiser = torch.optim.SGD(mem.parameters(), lr=10.0)
    for _ in range(5):
        optimiser.zero_grad()
        mem.separation.beta.backward()  # minimise β itself
        optimiser.step()
    assert bool(torch.isfinite(mem(Q2)).all())
    return float(mem.separation.beta)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("label", list(CASES))
def test_bad_or_extreme_input(label):
    kind, call, expect = CASES[label]
    if kind == "ok":
        result = call()
        assert expect(result), f"{label}: wrong result {result!r}"
    else:
        with pytest.raises(kind, match=expect):
            call()


def test_the_list_covers_every_class():
    correct = sum(kind == "ok" for kind, _, _ in CASES.values())
    assert len(CASES) >= 250 and correct >= 20, (len(CASES), correct)
