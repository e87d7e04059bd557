// ℓ1 distances D[b, j] = Σ_i |q[b, i] − ξ[j, i]| and their gradients, for hopnb/l1.py.
//
// Plain C++ with the compiler's vector extensions (GCC and Clang): one vector is 64 bytes
// (16 floats or 8 doubles), which the compiler maps onto the widest registers the CPU has.
// Every distance is summed in the same order on every CPU and thread count: 16 (or 8)
// partial sums over the vector part of d, added left to right, then the tail.

#include <cmath>
#include <cstdint>

template <typename T> struct Vec;
template <> struct Vec<float> {
  typedef float v __attribute__((vector_size(64), aligned(4)));
  typedef int32_t i __attribute__((vector_size(64)));
};
template <> struct Vec<double> {
  typedef double v __attribute__((vector_size(64), aligned(8)));
  typedef int64_t i __attribute__((vector_size(64)));
};
template <typename T> using V = typename Vec<T>::v;
template <typename T> using I = typename Vec<T>::i;
template <typename T> constexpr int64_t lanes = 64 / sizeof(T);

template <typename T> static inline V<T> vabs(V<T> x) {
  const I<T> sign = (I<T>){} + ((I<T>){} + 1 << (8 * sizeof(T) - 1));
  return (V<T>)((I<T>)x & ~sign);
}

// dist[b * M + j] for every b < B and j0 ≤ j < j1: 4 queries × 4 memories at a time, so each
// vector loaded serves four differences, over blocks of 64 memories that stay in cache.
// `one` is 1, passed at run time so that the compiler keeps `acc += |x| · one` as a fused
// multiply-add: the additions then share the multiply-add units with the subtractions' adders.
template <typename T>
static void distance(const T* q, const T* m, T* dist, int64_t B, int64_t M, int64_t d, int64_t j0, int64_t j1,
                     T one) {
  constexpr int TB = 4, TM = 4;
  constexpr int64_t W = lanes<T>, block = 64;
  const int64_t dv = d - d % W;
  const V<T> ones = (V<T>){} + one;
  for (int64_t jb = j0; jb < j1; jb += block) {
    const int64_t je = jb + block < j1 ? jb + block : j1;
    for (int64_t b = 0; b < B; b += TB) {
      const T* qp[TB];
      for (int s = 0; s < TB; ++s) qp[s] = q + (b + s < B ? b + s : B - 1) * d;
      for (int64_t j = jb; j < je; j += TM) {
        const T* mp[TM];
        for (int t = 0; t < TM; ++t) mp[t] = m + (j + t < je ? j + t : je - 1) * d;
        V<T> acc[TB][TM] = {};
        for (int64_t i = 0; i < dv; i += W) {
          V<T> qv[TB], mv[TM];
          for (int s = 0; s < TB; ++s) qv[s] = *(const V<T>*)(qp[s] + i);
          for (int t = 0; t < TM; ++t) mv[t] = *(const V<T>*)(mp[t] + i);
          for (int s = 0; s < TB; ++s)
            for (int t = 0; t < TM; ++t) acc[s][t] += vabs<T>(qv[s] - mv[t]) * ones;
        }
        for (int s = 0; s < TB && b + s < B; ++s)
          for (int t = 0; t < TM && j + t < je; ++t) {
            T sum = 0;
            for (int k = 0; k < W; ++k) sum += acc[s][t][k];
            for (int64_t i = dv; i < d; ++i) sum += std::fabs(qp[s][i] - mp[t][i]);
            dist[(b + s) * M + j + t] = sum;
          }
      }
    }
  }
}

// grad[x, :] = Σ_y g[x · gx + y · gy] · sign(a[x, :] − b[y, :]) for x0 ≤ x < x1, y < ny
// (sign(0) = 0, as torch.cdist's gradient). With a = queries, b = memories and g = ∂L/∂D
// it is ∂L/∂q; with the roles swapped, ∂L/∂ξ.
template <typename T>
static void gradient(const T* a, const T* b, const T* g, T* grad, int64_t ny, int64_t d, int64_t gx, int64_t gy,
                     int64_t x0, int64_t x1) {
  constexpr int64_t W = lanes<T>;
  const int64_t dv = d - d % W;
  for (int64_t x = x0; x < x1; ++x) {
    const T* ax = a + x * d;
    T* out = grad + x * d;
    for (int64_t i = 0; i < d; ++i) out[i] = 0;
    for (int64_t y = 0; y < ny; ++y) {
      const T w = g[x * gx + y * gy];
      if (w == 0) continue;
      const T* by = b + y * d;
      const V<T> wv = (V<T>){} + w;
      for (int64_t i = 0; i < dv; i += W) {
        const V<T> diff = *(const V<T>*)(ax + i) - *(const V<T>*)(by + i);
        const V<T> sign = __builtin_convertvector((diff < 0) - (diff > 0), V<T>);
        *(V<T>*)(out + i) += wv * sign;
      }
      for (int64_t i = dv; i < d; ++i) out[i] += w * ((ax[i] > by[i]) - (ax[i] < by[i]));
    }
  }
}

extern "C" {
void hopnb_l1_distance_f32(const float* q, const float* m, float* dist, int64_t B, int64_t M, int64_t d, int64_t j0,
                           int64_t j1, float one) {
  distance<float>(q, m, dist, B, M, d, j0, j1, one);
}
void hopnb_l1_distance_f64(const double* q, const double* m, double* dist, int64_t B, int64_t M, int64_t d,
                           int64_t j0, int64_t j1, double one) {
  distance<double>(q, m, dist, B, M, d, j0, j1, one);
}
void hopnb_l1_gradient_f32(const float* a, const float* b, const float* g, float* grad, int64_t ny, int64_t d,
                           int64_t gx, int64_t gy, int64_t x0, int64_t x1) {
  gradient<float>(a, b, g, grad, ny, d, gx, gy, x0, x1);
}
void hopnb_l1_gradient_f64(const double* a, const double* b, const double* g, double* grad, int64_t ny, int64_t d,
                           int64_t gx, int64_t gy, int64_t x0, int64_t x1) {
  gradient<double>(a, b, g, grad, ny, d, gx, gy, x0, x1);
}
}
