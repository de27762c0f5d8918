"""Fits the polynomial coefficients of wgsl_math.ts (run: python3 fit_coefficients.py).

Near-minimax fits (least squares on Chebyshev nodes, then Lawson reweighting) against mpmath at 40
digits, with the error weighted as it reaches the function's value. Coefficients are rounded to
float32 and printed as the shortest decimals that read back as those floats.
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40


def fit(f, lo, hi, deg, weight, n=2000):
    k = np.arange(n)
    x = (lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.pi * (k + 0.5) / n)
    y = np.array([float(f(mp.mpf(float(v)))) for v in x])
    w = np.array([float(weight(mp.mpf(float(v)))) for v in x])
    a = np.vstack([x**i for i in range(deg + 1)]).T
    c, *_ = np.linalg.lstsq(a * w[:, None], y * w, rcond=None)
    for _ in range(30):
        err = np.abs((a @ c - y) * w)
        ww = w * np.sqrt(err / err.max() + 1e-3)
        c, *_ = np.linalg.lstsq(a * ww[:, None], y * ww, rcond=None)
    c32 = c.astype(np.float32).astype(np.float64)
    xs = np.linspace(lo, hi, 20001)
    ys = np.array([float(f(mp.mpf(float(v)))) for v in xs])
    ws = np.array([float(weight(mp.mpf(float(v)))) for v in xs])
    err = np.max(np.abs((np.polyval(c32[::-1], xs) - ys) * ws))
    return c32, err


def show(name, c, err):
    print(f'// weighted max error 2^{np.log2(err):.1f}')
    print(f'const {name} = [{", ".join(repr(float(v)) for v in c)}];')


def exp_q(r):  # exp(r) = 1 + r + r²·q(r)
    return (mp.exp(r) - 1 - r) / r**2 if r != 0 else mp.mpf(0.5)


def log_l(z):  # log(1+f) = f - f²/2 + s·(f²/2 + z·l(z)), s = f/(2+f), z = s²
    if z == 0:
        return mp.mpf(2) / 3
    s = mp.sqrt(z)
    return (2 * mp.atanh(s) - 2 * s) / (s * z)


def tanh_t(z):  # tanh(x) = x + x³·t(x²)
    if z == 0:
        return mp.mpf(-1) / 3
    x = mp.sqrt(z)
    return (mp.tanh(x) - x) / x**3


def erf_e(z):  # erf(x) = x + x·e(x²)
    if z == 0:
        return 2 / mp.sqrt(mp.pi) - 1
    x = mp.sqrt(z)
    return (mp.erf(x) - x) / x


def erfc_g(x):  # erfc(x) = exp(-x²)·g(x)
    return mp.erfc(x) * mp.exp(x * x)


LN2_2 = 0.3466  # |r| ≤ ln2/2 after exp's range reduction, with margin for rounding of k
S2 = float(((mp.sqrt(2) - 1) / (mp.sqrt(2) + 1)) ** 2)  # s² for 1+f in [√½, √2)
show('EXP_Q', *fit(exp_q, -LN2_2, LN2_2, 4, lambda r: r**2 / mp.exp(r)))
show('LOG_L', *fit(log_l, 0, S2 * 1.01, 2, lambda z: z / 2))
show('TANH_T', *fit(tanh_t, 0, 0.55**2, 4, lambda z: z))
show('ERF_E', *fit(erf_e, 0, 0.75**2, 5, lambda z: 1))
# g on [0.75, 2] in u = (x - 1.375)·1.6 and on [2, 4] in u = x - 3, both u in [-1, 1]
show('ERFC_G1', *fit(lambda u: erfc_g(1.375 + u / 1.6), -1, 1, 8, lambda u: 1 / erfc_g(1.375 + u / 1.6)))
show('ERFC_G2', *fit(lambda u: erfc_g(3 + u), -1, 1, 8, lambda u: 1 / erfc_g(3 + u)))
