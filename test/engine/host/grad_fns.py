"""PyTorch's grad_fn names for the nodes of the bundled examples, for the trace's gradFn.

Each example's forward pass written as its PyTorch script would run it, on one sample.
Writes grad_fns.json beside this file: {example: {node id: grad_fn name, or null for data}}.

    /usr/bin/python3 test/engine/host/grad_fns.py
"""
import json
from pathlib import Path

import torch
import torch.nn as nn

torch.manual_seed(0)


def name(t):
    return type(t.grad_fn).__name__ if t.grad_fn is not None else None


def seed():
    x = torch.tensor([[0.1, 0.2, 0.7]])
    hidden = nn.Linear(3, 3)(x)
    relu = nn.ReLU()(hidden)
    hidden2 = nn.Linear(3, 3)(relu)
    sigmoid = nn.Sigmoid()(hidden2)
    output = nn.Linear(3, 3)(sigmoid)
    softmax = nn.Softmax(dim=1)(output)
    loss = nn.CrossEntropyLoss()(softmax, torch.tensor([1]))
    return {'x': name(x), 'hidden': name(hidden), 'relu': name(relu), 'hidden2': name(hidden2), 'sigmoid': name(sigmoid),
            'output': name(output), 'softmax': name(softmax), 'labels': None, 'loss': name(loss)}


def xor():
    x = torch.tensor([[0.0, 1.0]])
    hidden = nn.Linear(2, 4)(x)
    tanh = torch.tanh(hidden)
    out = nn.Linear(4, 1)(tanh)
    sigmoid = torch.sigmoid(out)
    loss = nn.BCELoss()(sigmoid, torch.tensor([[1.0]]))
    return {'x': name(x), 'hidden': name(hidden), 'tanh': name(tanh), 'out': name(out), 'sigmoid': name(sigmoid), 'y': None, 'loss': name(loss)}


def iris():
    x = torch.rand(1, 4)
    hidden = nn.Linear(4, 8)(x)
    relu = nn.ReLU()(hidden)
    output = nn.Linear(8, 3)(relu)
    loss = nn.CrossEntropyLoss()(output, torch.tensor([0]))
    return {'x': name(x), 'hidden': name(hidden), 'relu': name(relu), 'output': name(output), 'species': None, 'loss': name(loss)}


def autograd_demo():
    a = nn.Parameter(torch.tensor([[0.3183, 1.0871], [1.7827, 1.382]]))
    y = a ** 3
    m = y ** 2
    z = m.mean()
    return {'a': name(a), 'y': name(y), 'm': name(m), 'z': name(z)}


names = {'seed-tutorial.json': seed(), 'xor.json': xor(), 'iris.json': iris(), 'autograd-demo.json': autograd_demo()}
out = Path(__file__).with_name('grad_fns.json')
out.write_text(json.dumps({'torch': torch.__version__, 'names': names}, indent=2) + '\n')
print(f'wrote {out}')
