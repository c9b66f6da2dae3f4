"""torchdiffeq side of the package's `ode-wp` bench (bench/ode_wp.ts): ODE work-precision on the MLP field.

Problem (node_mlp_throughput.py's field and weights): f(t, y) = Linear(hidden, dim)(tanh(Linear(dim, hidden)(y))),
weights then y0 ~ N(0, 1) of shape (batch, dim), all from Mulberry32(seed) (see _common.py); float32; t in [0, t1].
For every method and tolerance (rtol = atol = tol): one recorded solve (NFE, accepted step sizes, rejected
steps, the initial step; the error at t1 against the float64 reference that the TypeScript side wrote to
--reference, max |y(t1) - y_ref(t1)| over the batch), then `repeats` timed forward solves (no grad, after one
untimed warm-up solve). Every timed sample is returned, so that both sides take minima and medians over the
same samples. The last stdout line is the JSON result. Run with PEER_DIR's _common.py importable (the package's
bench runs it with the peers' folder as its working directory).
"""
import argparse
import json
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.getcwd())
sys.path.insert(0, os.environ.get("PEER_DIR", os.getcwd()))

import _common as C  # noqa: E402
import torch  # noqa: E402
from node_mlp_throughput import MLPFunc  # noqa: E402  (the same field as the mlp-grid peer)


class RecordingField(MLPFunc):
    """The MLP field with torchdiffeq's step callbacks: accepted step sizes, rejections, the first step."""

    def reset(self):
        self.nfe = 0
        self.accepted = []
        self.rejected = []
        self.first = None

    def callback_step(self, t0, y0, dt):
        if self.first is None:
            self.first = float(dt)

    def callback_accept_step(self, t0, y0, dt):
        self.accepted.append(float(dt))

    def callback_reject_step(self, t0, y0, dt):
        self.rejected.append(float(dt))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--dim", type=int, default=32)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--t1", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--methods", default="dopri5,bosh3")
    p.add_argument("--tols", default="1e-3,1e-4,1e-5,1e-6,1e-7")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--reference", required=True, help="float64 little-endian file: y_ref(t1), batch x dim, row-major")
    args = p.parse_args()

    C.setup_torchdiffeq()
    from torchdiffeq import odeint

    C.set_threads(args.threads)
    rng = C.Mulberry32(args.seed)
    func = RecordingField(args.dim, args.hidden, rng)
    func.reset()
    y0 = C.tensor_from(rng.normals(args.batch * args.dim), (args.batch, args.dim))
    import numpy as np

    ref = torch.from_numpy(np.fromfile(args.reference, dtype="<f8").reshape(args.batch, args.dim))
    t = torch.tensor([0.0, args.t1], dtype=torch.float32)
    rows = []
    for method in [m for m in args.methods.split(",") if m]:
        for tol in [float(x) for x in args.tols.split(",") if x]:
            kw = dict(method=method, rtol=tol, atol=tol)
            with torch.no_grad():
                func.reset()
                yT = odeint(func, y0, t, **kw)[-1]
                err = (yT.double() - ref).abs()
                row = {
                    "method": method, "tol": tol, "nfe": func.nfe, "accepted": list(func.accepted), "rejected": list(func.rejected),
                    "first_step": func.first, "err_max": float(err.max()), "err_rms": float(err.pow(2).mean().sqrt()),
                }

                def solve():
                    odeint(func, y0, t, **kw)

                solve()
                samples = []
                for _ in range(args.repeats):
                    t0 = time.perf_counter()
                    solve()
                    samples.append((time.perf_counter() - t0) * 1e3)
                row["ms"] = samples
            rows.append(row)
            C.log(f"{method} tol {tol:g}: nfe {row['nfe']}, err {row['err_max']:.3g}, ms {min(samples):.2f}")
    C.emit({
        "benchmark": "ode_wp", "peer": "torchdiffeq", "env": C.env_info(), "threads": torch.get_num_threads(),
        "param_fingerprint": C.param_fingerprint(func), "rows": rows,
    })


if __name__ == "__main__":
    main()
