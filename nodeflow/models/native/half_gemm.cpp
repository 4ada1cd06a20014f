// NodeFlow's CPU kernel for linear layers whose weights are stored in 16 bits (fp16 or bf16, exactly as
// in the checkpoint file) while the model computes in fp32: y[M,N] = x[M,K] @ w[N,K]^T + b[N].
// Every weight is widened to fp32 in registers (exact: fp16 and bf16 values are fp32 values) and
// multiplied in fp32 with fp32 accumulation, so the result is the fp32 layer's up to summation order.
// Written for few rows (M <= ~64: UNet levels at small latents), where a layer is bound by reading
// its weights: 2 bytes per weight instead of 4. Built by half_gemm.py with g++ (AVX2, FMA, F16C, OpenMP).
// The output columns are split over OpenMP threads: the process's libgomp is torch's (same soname), so
// the work runs on torch's own thread team and never competes with its spinning threads.
#include <immintrin.h>
#include <omp.h>
#include <stdint.h>

namespace {

constexpr long X_BYTES = 256 * 1024;  // the x block kept in L2 while weight rows stream past it
constexpr int MB = 4;     // rows of x per micro-kernel
constexpr int R = 3;      // rows of w per micro-kernel (MB * R accumulators + R weights + 1 x: 16 registers)

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

struct F16 {
  static inline __m256 load8(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)p)); }
  static inline float load1(uint16_t v) { return _cvtsh_ss(v); }
};

struct BF16 {
  static inline __m256 load8(const uint16_t* p) {
    __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i*)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }
  static inline float load1(uint16_t v) {
    uint32_t bits = (uint32_t)v << 16;
    float f;
    __builtin_memcpy(&f, &bits, 4);
    return f;
  }
};

// y[m0..m0+MBT, n..n+ROWS) (+)= x[m, k0..k1) . w[n.., k0..k1): every loop bound is a constant, so the
// MBT * ROWS accumulators stay in registers
template <class W, int MBT, int ROWS>
inline void block(const float* x, const uint16_t* w, float* y, long N, long K, long m0, long n, long k0, long k1,
                  bool first) {
  __m256 acc[MBT][ROWS];
  for (int i = 0; i < MBT; i++)
    for (int r = 0; r < ROWS; r++) acc[i][r] = _mm256_setzero_ps();
  const float* xr[MBT];
  for (int i = 0; i < MBT; i++) xr[i] = x + (m0 + i) * K;
  const uint16_t* wr[ROWS];
  for (int r = 0; r < ROWS; r++) wr[r] = w + (n + r) * K;
  const long k8 = k0 + ((k1 - k0) & ~7L);
  for (long k = k0; k < k8; k += 8) {
    __m256 wv[ROWS];
    for (int r = 0; r < ROWS; r++) wv[r] = W::load8(wr[r] + k);
    for (int i = 0; i < MBT; i++) {
      const __m256 xv = _mm256_loadu_ps(xr[i] + k);
      for (int r = 0; r < ROWS; r++) acc[i][r] = _mm256_fmadd_ps(xv, wv[r], acc[i][r]);
    }
  }
  for (int i = 0; i < MBT; i++)
    for (int r = 0; r < ROWS; r++) {
      float s = hsum(acc[i][r]);
      for (long t = k8; t < k1; t++) s += xr[i][t] * W::load1(wr[r][t]);
      float* out = y + (m0 + i) * N + n + r;
      *out = first ? s : *out + s;
    }
}

template <class W, int ROWS>
inline void column(const float* x, const uint16_t* w, float* y, long M, long N, long K, long n, long k0, long k1,
                   bool first) {
  long m0 = 0;
  for (; m0 + MB <= M; m0 += MB) block<W, MB, ROWS>(x, w, y, N, K, m0, n, k0, k1, first);
  switch (M - m0) {
    case 3: block<W, 3, ROWS>(x, w, y, N, K, m0, n, k0, k1, first); break;
    case 2: block<W, 2, ROWS>(x, w, y, N, K, m0, n, k0, k1, first); break;
    case 1: block<W, 1, ROWS>(x, w, y, N, K, m0, n, k0, k1, first); break;
    default: break;
  }
}

template <class W>
void rows(const float* x, const uint16_t* w, const float* b, float* y, long M, long N, long K, long n0, long n1) {
  // all of x fits in L2: one k-block, every weight row read once from start to end; else k-blocks of x
  const long kc = M * K * 4 <= X_BYTES ? K : ((X_BYTES / (M * 4)) & ~7L) > 64 ? ((X_BYTES / (M * 4)) & ~7L) : 64;
  for (long k0 = 0;; k0 += kc) {
    const long k1 = k0 + kc < K ? k0 + kc : K;
    const bool first = k0 == 0;
    long n = n0;
    for (; n + R <= n1; n += R) column<W, R>(x, w, y, M, N, K, n, k0, k1, first);
    for (; n < n1; n++) column<W, 1>(x, w, y, M, N, K, n, k0, k1, first);
    if (k1 >= K) break;
  }
  if (b)
    for (long m = 0; m < M; m++)
      for (long n = n0; n < n1; n++) y[m * N + n] += b[n];
}

}  // namespace

template <class W>
void parallel(const float* x, const uint16_t* w, const float* b, float* y, long M, long N, long K) {
  const int most = N >= 16 * R ? omp_get_max_threads() : 1;
#pragma omp parallel num_threads(most)
  {
    const long t = omp_get_thread_num(), team = omp_get_num_threads();
    const long blocks = (N + R - 1) / R;  // split on whole R-row blocks
    const long n0 = blocks * t / team * R, n1 = blocks * (t + 1) / team * R;
    rows<W>(x, w, b, y, M, N, K, n0, n1 < N ? n1 : N);
  }
}

extern "C" {
// y = x @ w^T + b; x, y fp32 row-major (row strides K and N), w 16-bit row-major [N, K], b fp32 or null
void nodeflow_linear_f16(const float* x, const uint16_t* w, const float* b, float* y, long M, long N, long K) {
  parallel<F16>(x, w, b, y, M, N, K);
}
void nodeflow_linear_bf16(const float* x, const uint16_t* w, const float* b, float* y, long M, long N, long K) {
  parallel<BF16>(x, w, b, y, M, N, K);
}
}
