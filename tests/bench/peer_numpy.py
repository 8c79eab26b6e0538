#!/usr/bin/python3
"""NumPy peer for `make bench`.

Our own re-implementation (written for mlpsweep, not copied) of the CODE STRUCTURE
of the NTNU TDT4265 Assignment 2 starter code: plain NumPy arrays and `@`, a model
holding a list of (fan_in, fan_out) weight matrices, a forward that stores the
activations, a backward, SGD with momentum, batch 32, a fresh shuffle every epoch,
and a validation every 125 steps that runs model.forward() over ALL 20000 training
and ALL 10000 validation images in one go. Semantics: docs/assignment.md (task 3c,
fan-in normal init, improved sigmoid, momentum 0.9 / lr 0.02). No early stopping:
it runs a fixed number of epochs and times each one, so `make bench` can put the
C tool's epoch time next to the course's NumPy one.

Threads: set OPENBLAS_NUM_THREADS in the environment (this script never sets it).
The last line of stdout is one JSON object with the timings and the BLAS in use
(with --info, only that line's "openblas_core", "openblas_config" and "numpy").
"""
import os
import sys

# Let OpenBLAS detect the CPU itself: a forced kernel or cache size would skew the peer.
# The one exception is asked for by name: `bench --peer-avx2` sets
# MLPSWEEP_PEER_AVX2=1 with OPENBLAS_CORETYPE=Haswell to stand in for an AVX2 CPU.
for _var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    if _var == "OPENBLAS_CORETYPE" and os.environ.get("MLPSWEEP_PEER_AVX2") == "1":
        continue
    if _var in os.environ:
        print(f"peer_numpy: unsetting {_var}={os.environ.pop(_var)}", file=sys.stderr)

import argparse, ctypes, gzip, json, statistics, time  # noqa: E402
import numpy as np  # noqa: E402


def load_idx(data_dir, name):
    """One IDX file (gzipped or not) as a uint8 array of its stated shape."""
    for fname, opener in ((name + ".gz", gzip.open), (name, open)):
        path = os.path.join(data_dir, fname)
        if os.path.exists(path):
            with opener(path, "rb") as f:
                raw = f.read()
            ndim = raw[3]
            shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", ndim, 4))
            return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(shape)
    sys.exit(f"peer_numpy: {name}[.gz] not found in {data_dir}")


def pre_process_images(X, mean, std):
    X = (X.reshape(X.shape[0], -1) - mean) / std
    return np.concatenate((X, np.ones((X.shape[0], 1))), axis=1)  # bias trick: 785


def one_hot_encode(Y, num_classes=10):
    out = np.zeros((Y.shape[0], num_classes))
    out[np.arange(Y.shape[0]), Y] = 1
    return out


def cross_entropy_loss(targets, outputs):
    return -np.mean(np.sum(targets * np.log(outputs), axis=1))


class SoftmaxModel:
    def __init__(self, neurons_per_layer, use_improved_sigmoid, dtype):
        self.I = 785
        self.use_improved_sigmoid = use_improved_sigmoid
        self.ws = []
        prev = self.I
        for size in neurons_per_layer:  # fan-in normal init, N(0, 1/sqrt(fan_in))
            self.ws.append(np.random.normal(0, 1 / np.sqrt(prev), (prev, size)).astype(dtype))
            prev = size
        self.grads = [None for _ in self.ws]

    def f(self, z):
        if self.use_improved_sigmoid:
            return 1.7159 * np.tanh(2 / 3 * z)
        return 1 / (1 + np.exp(-z))

    def f_prime(self, z):
        if self.use_improved_sigmoid:
            return 1.7159 * 2 / 3 * (1 - np.tanh(2 / 3 * z) ** 2)
        s = 1 / (1 + np.exp(-z))
        return s * (1 - s)

    def forward(self, X):
        self.zs, self.activations = [], [X]
        a = X
        for w in self.ws[:-1]:
            z = a @ w
            a = self.f(z)
            self.zs.append(z)
            self.activations.append(a)
        z = a @ self.ws[-1]
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def backward(self, X, outputs, targets):
        N = X.shape[0]
        delta = -(targets - outputs)
        for l in range(len(self.ws) - 1, -1, -1):
            self.grads[l] = self.activations[l].T @ delta / N
            if l > 0:
                delta = self.f_prime(self.zs[l - 1]) * (delta @ self.ws[l].T)


def batch_loader(X, Y, batch_size):
    indices = np.arange(X.shape[0])
    np.random.shuffle(indices)
    for i in range(X.shape[0] // batch_size):  # the last partial batch is dropped
        idx = indices[i * batch_size:(i + 1) * batch_size]
        yield X[idx], Y[idx]


def parse_hidden(text):
    sizes = []
    for item in text.split(","):
        count, _, width = item.strip().rpartition("x")
        sizes += [int(width)] * (int(count) if count else 1)
    return sizes


def blas_info():
    """(core, config) of the BLAS that numpy has actually mapped into this process."""
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if "/" in line and ".so" in line}
    openblas = sorted(p for p in paths if "openblas" in p.lower())
    if not openblas:
        other = sorted(p for p in paths if "blas" in os.path.basename(p).lower())
        if any("/blas/" in p for p in other):
            return "reference BLAS (not OpenBLAS)", ", ".join(other)
        return "not OpenBLAS", ", ".join(other) or "no BLAS library mapped"
    lib = ctypes.CDLL(openblas[0])
    out = []
    for fn in ("openblas_get_corename", "openblas_get_config"):
        func = getattr(lib, fn, None) or getattr(lib, fn + "64_", None)
        if func is None:
            out.append(f"? ({fn} missing in {openblas[0]})")
            continue
        func.restype = ctypes.c_char_p
        out.append(func().decode())
    return out[0], out[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "data"))
    ap.add_argument("--hidden", default="64", help="comma list, e.g. 64,64 or 10x64")
    ap.add_argument("--activation", choices=("improved", "sigmoid"), default="improved")
    ap.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--info", action="store_true",
                    help="print only the JSON line of the NumPy and BLAS in use, then exit")
    args = ap.parse_args()
    if args.info:
        core, config = blas_info()
        print(json.dumps({"openblas_core": core, "openblas_config": config,
                          "numpy": np.__version__}))
        return
    if args.epochs < 1:
        ap.error("--epochs must be at least 1")
    dtype = np.dtype(args.dtype)
    np.random.seed(args.seed)

    X_train = load_idx(args.data, "train-images-idx3-ubyte")[:20000]
    Y_train = load_idx(args.data, "train-labels-idx1-ubyte")[:20000]
    X_val = load_idx(args.data, "t10k-images-idx3-ubyte")
    Y_val = load_idx(args.data, "t10k-labels-idx1-ubyte")
    mean, std = X_train.mean(), X_train.std()  # float64 scalars, population std
    X_train = pre_process_images(X_train, mean, std).astype(dtype)
    X_val = pre_process_images(X_val, mean, std).astype(dtype)
    Y_train, Y_val = one_hot_encode(Y_train).astype(dtype), one_hot_encode(Y_val).astype(dtype)

    hidden = parse_hidden(args.hidden)
    model = SoftmaxModel(hidden + [10], args.activation == "improved", dtype)
    velocity = [np.zeros_like(w) for w in model.ws]
    learning_rate, momentum_gamma, batch_size = 0.02, 0.9, 32
    num_steps_per_val = (X_train.shape[0] // batch_size) // 5  # 125

    def train_step(X_batch, Y_batch):
        outputs = model.forward(X_batch)
        model.backward(X_batch, outputs, Y_batch)
        for l, w in enumerate(model.ws):
            velocity[l] = model.grads[l] + momentum_gamma * velocity[l]
            w -= learning_rate * velocity[l]
        return cross_entropy_loss(Y_batch, outputs)

    def validation_step():
        out_train = model.forward(X_train)
        out_val = model.forward(X_val)
        return (cross_entropy_loss(Y_train, out_train),
                np.mean(out_train.argmax(1) == Y_train.argmax(1)),
                cross_entropy_loss(Y_val, out_val),
                np.mean(out_val.argmax(1) == Y_val.argmax(1)))

    global_step, epoch_seconds, val_acc = 0, [], None
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        for X_batch, Y_batch in batch_loader(X_train, Y_train, batch_size):
            train_loss = train_step(X_batch, Y_batch)
            if global_step % num_steps_per_val == 0:
                train_loss_full, train_acc, val_loss, val_acc = validation_step()
            global_step += 1
        epoch_seconds.append(time.perf_counter() - t0)
        if epoch == 0:  # the float32 variant must really stay float32 everywhere
            arrays = model.ws + model.grads + velocity + model.activations + model.zs
            assert all(a.dtype == dtype for a in arrays), [a.dtype for a in arrays]
        print(f"epoch {epoch + 1}: {epoch_seconds[-1]:.3f} s  batch loss {train_loss:.4f}  "
              f"train loss {train_loss_full:.4f} acc {train_acc:.4f}  "
              f"val loss {val_loss:.4f} acc {val_acc:.4f}", flush=True)

    core, config = blas_info()
    threads = os.environ.get("OPENBLAS_NUM_THREADS")
    print(json.dumps({
        "dtype": args.dtype, "hidden": hidden,
        "threads": int(threads) if threads and threads.isdigit() else threads,
        "epoch_seconds": [round(s, 4) for s in epoch_seconds],
        "min": round(min(epoch_seconds), 4),
        "median": round(statistics.median(epoch_seconds), 4),
        "openblas_core": core, "openblas_config": config,
        "numpy": np.__version__, "final_val_acc": float(val_acc)}))


if __name__ == "__main__":
    main()
