"""The benchmark workloads in PyTorch on one CPU thread. Run by bench/run.ts; prints one line of
JSON: {"version", "threads", "seed"?: {"us", "steps"}, "mlp"?: {"us", "steps"}}.
Timing matches bench/timing.ts: warm-up, then each step timed alone, median."""
import json
import sys
import time

import torch

BUDGET = {"seed": (1.0, 2.0), "mlp": (2.0, 4.0)}  # seconds of warm-up, seconds measured


def measure(step, warmup_s, measure_s, min_steps=20):
    end = time.perf_counter() + warmup_s
    while time.perf_counter() < end:
        step()
    times = []
    end = time.perf_counter() + measure_s
    while time.perf_counter() < end or len(times) < min_steps:
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    times.sort()
    return {"us": times[len(times) // 2] * 1e6, "steps": len(times)}


def train_step(model, loss_fn, opt, x, y):
    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return step


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
    nn = torch.nn
    result = {"version": torch.__version__, "threads": torch.get_num_threads()}
    if only in (None, "seed"):
        model = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 3), nn.Sigmoid(),
                              nn.Linear(3, 3), nn.Softmax(dim=1))
        x = torch.tensor([[0.1, 0.2, 0.7]])
        y = torch.tensor([1])
        opt = torch.optim.Adam(model.parameters(), lr=0.09)
        result["seed"] = measure(train_step(model, nn.CrossEntropyLoss(), opt, x, y), *BUDGET["seed"])
    if only in (None, "mlp"):
        model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                              nn.Linear(128, 10))
        x = torch.randn(128, 784)
        y = torch.randint(0, 10, (128,))
        opt = torch.optim.Adam(model.parameters())
        result["mlp"] = measure(train_step(model, nn.functional.cross_entropy, opt, x, y), *BUDGET["mlp"])
    print(json.dumps(result))


main()
