/* Sequential S6 selective scan for CPUs, float32, state kept in registers and L1.
 *
 * h_t = exp(dt_t * A) * h_{t-1} + dt_t * B_t * u_t,   y_t = C_t . h_t + D * u_t
 *
 * Inputs are token-major: row t of u / dt / y holds the channels of token t (row stride `row`),
 * row t of B / C holds its N state coefficients. One call scans channels [d0, d1) of one group
 * over all L tokens; the caller runs calls for different groups and channel ranges on several
 * threads. The loop over channels is innermost and contiguous so that it vectorises, with no
 * horizontal reduction. The exponential is exp2 of a range-reduced argument with a degree-6
 * Taylor polynomial (relative error about 2e-7, the size of float32 rounding).
 */
#include <stdint.h>
#include <string.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#define MAX_W 128
#define MAX_N 64

static inline float exp2_approx(float x) {
    /* x = k + f with k integer and |f| <= 1/2; 2^x = 2^k * e^(f ln 2). Branch-free so that the
     * channel loop vectorises: clamps are min/max, rounding adds and removes 1.5 * 2^23. */
    x = x < -126.0f ? -126.0f : x;
    x = x > 126.0f ? 126.0f : x;
    float k = (x + 12582912.0f) - 12582912.0f;
    float f = (x - k) * 0.69314718055994531f;
    float p = 1.0f + f * (1.0f + f * (0.5f + f * (0.16666666666666667f
              + f * (0.041666666666666667f + f * (0.0083333333333333333f
              + f * 0.0013888888888888889f)))));
    union { int32_t i; float v; } s;
    s.i = ((int32_t)k + 127) << 23;
    return p * s.v;
}

static inline float softplus_approx(float x) {
    /* log(1 + e^x) = max(x, 0) + log1p(e^-|x|); log1p(z) = 2 atanh(s), s = z / (2 + z) <= 1/3,
     * by its series to s^15 (relative error below 1e-8), branch-free */
    float ax = x < 0.0f ? -x : x;
    float z = exp2_approx(-ax * 1.4426950408889634f);
    float s = z / (2.0f + z);
    float s2 = s * s;
    float q = 1.0f + s2 * (1.0f / 3 + s2 * (1.0f / 5 + s2 * (1.0f / 7 + s2 * (1.0f / 9
              + s2 * (1.0f / 11 + s2 * (1.0f / 13 + s2 * (1.0f / 15)))))));
    return (x > 0.0f ? x : 0.0f) + 2.0f * s * q;
}

/* Returns 0 on success, 1 if the channel range or state size exceeds the local buffers.
 * A2: (dg, N) A * log2(e) of the group; Dv: (dg,) or NULL; state: (dg, N) in/out.
 * With out_rows == NULL, y_t is stored in row t of y; otherwise it is added to row
 * out_rows[t] of acc (row stride acc_row): the scatter back to source order, done here so that
 * no output copy is written and read again. Calls that add into the same acc rows must not
 * run at the same time for the same channels. `dt` holds raw step sizes: `bias` (dg,) or NULL
 * is added and, if `softplus` is non-zero, softplus applied, as the kernels of mamba-ssm do. */
int mmm_scan_group(const float *u, const float *dt, const float *A2, const float *Bm,
                   const float *Cm, const float *Dv, float *state, float *y, int64_t L,
                   int64_t row, int64_t N, int64_t d0, int64_t d1, int64_t dg,
                   const int64_t *out_rows, float *acc, int64_t acc_row,
                   const float *bias, int64_t softplus) {
    const int64_t W = d1 - d0;
    if (W <= 0) return 0;
    if (W > MAX_W || N > MAX_N) return 1;
    (void)dg;
#if defined(__SSE__)
    /* flush denormals to zero: a decaying state would otherwise crawl through slow paths */
    unsigned int csr = _mm_getcsr();
    _mm_setcsr(csr | 0x8040);
#endif
    /* the state loop runs over Wp >= W lanes, a multiple of 16, so that it has no scalar
     * remainder; the extra lanes hold zeros and are never stored */
    const int64_t Wp = (W + 15) & ~(int64_t)15;
    float h[MAX_N][MAX_W], a[MAX_N][MAX_W];
    float dtv[MAX_W], dtu[MAX_W], sum[MAX_W], dsk[MAX_W], bsk[MAX_W];
    memset(dtv, 0, sizeof dtv);
    memset(dtu, 0, sizeof dtu);
    for (int64_t n = 0; n < N; ++n)
        for (int64_t j = 0; j < Wp; ++j) {
            h[n][j] = j < W ? state[(d0 + j) * N + n] : 0.0f;
            a[n][j] = j < W ? A2[(d0 + j) * N + n] : 0.0f;
        }
    for (int64_t j = 0; j < W; ++j) {
        dsk[j] = Dv ? Dv[d0 + j] : 0.0f;
        bsk[j] = bias ? bias[d0 + j] : 0.0f;
    }
    for (int64_t t = 0; t < L; ++t) {
        const float *ut = u + t * row + d0;
        const float *dtt = dt + t * row + d0;
        const float *bt = Bm + t * N;
        const float *ct = Cm + t * N;
        if (softplus) {
            for (int64_t j = 0; j < W; ++j) {
                float v = softplus_approx(dtt[j] + bsk[j]);
                dtv[j] = v;
                dtu[j] = v * ut[j];
            }
        } else {
            for (int64_t j = 0; j < W; ++j) {
                float v = dtt[j] + bsk[j];
                dtv[j] = v;
                dtu[j] = v * ut[j];
            }
        }
        for (int64_t j = 0; j < Wp; ++j) sum[j] = 0.0f;
        for (int64_t n = 0; n < N; ++n) {
            const float b = bt[n], c = ct[n];
            float *hn = h[n];
            const float *an = a[n];
            for (int64_t j = 0; j < Wp; ++j) {
                float v = exp2_approx(dtv[j] * an[j]) * hn[j] + dtu[j] * b;
                hn[j] = v;
                sum[j] += v * c;
            }
        }
        if (out_rows) {
            float *at = acc + out_rows[t] * acc_row + d0;
            for (int64_t j = 0; j < W; ++j) at[j] += sum[j] + dsk[j] * ut[j];
        } else {
            float *yt = y + t * row + d0;
            for (int64_t j = 0; j < W; ++j) yt[j] = sum[j] + dsk[j] * ut[j];
        }
    }
    for (int64_t n = 0; n < N; ++n)
        for (int64_t j = 0; j < W; ++j) state[(d0 + j) * N + n] = h[n][j];
#if defined(__SSE__)
    _mm_setcsr(csr);
#endif
    return 0;
}
