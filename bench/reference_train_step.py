#!/usr/bin/python3
"""Times one training iteration of the public Python reference (Liu et al. 2024, main.py):
its CTRNN and Net classes (nn.Linear without bias, a Python loop over time), SGD with
momentum 0.9, CrossEntropyLoss on the flattened [T*B, O] logits, N = 300, batch 32, 8 steps.
The NeuroGym data pipeline is left out (a fixed batch), so this is the reference's training
arithmetic alone. Prints JSON: {"ms_per_iteration": ...}.
"""
import json
import sys
import time

import torch
import torch.nn as nn


from reference_net import Net


def main():
    hidden = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    torch.manual_seed(0)
    net = Net(3, hidden, 3)
    with torch.no_grad():
        net.rnn.h2h.weight.copy_(1.25 * torch.randn(hidden, hidden) / hidden ** 0.5)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.003, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    inputs = torch.rand(8, 32, 3)
    labels = torch.randint(0, 3, (8, 32))

    def step():
        optimizer.zero_grad()
        output, _ = net(inputs)
        loss = criterion(output.view(-1, 3), labels.flatten())
        loss.backward()
        optimizer.step()
        return loss.item()

    for _ in range(100):
        step()
    best = float("inf")
    for _ in range(5):  # the fastest of five rounds, like Google Benchmark's minimum
        n, t0 = 400, time.perf_counter()
        for _ in range(n):
            step()
        best = min(best, (time.perf_counter() - t0) / n * 1000)
    print(json.dumps({"ms_per_iteration": best, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
