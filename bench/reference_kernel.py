#!/usr/bin/python3
"""(a) of the kernel benchmark: the tangent kernel exactly as the public reference script
(Liu et al. 2024, main.py, "Get K0") computes it: one torch.autograd.grad per output row,
growing the Jacobian with torch.cat, then einsum('bij,aij->ba'). The network (its CTRNN and
Net classes) and the 32 input trials are read from the .npy files kernel_bench wrote.

usage: reference_kernel.py DIR   (writes DIR/K_reference.npy, prints {"seconds": ...})
"""
import json
import sys
import time

import numpy as np
import torch


from reference_net import Net


def main():
    d = sys.argv[1]
    load = lambda name: torch.from_numpy(np.load(f"{d}/{name}.npy"))
    w_in, w_rec, w_out, inputs0 = load("W_in"), load("W_rec"), load("W_out"), load("inputs")
    net = Net(w_in.shape[1], w_rec.shape[0], w_out.shape[0])
    with torch.no_grad():
        net.rnn.input2h.weight.copy_(w_in)
        net.rnn.h2h.weight.copy_(w_rec)
        net.fc.weight.copy_(w_out)
    seq_len, batch_size, output_size = inputs0.shape[0], inputs0.shape[1], w_out.shape[0]

    t0 = time.perf_counter()
    output0, activity0 = net(inputs0)
    for t in range(seq_len):
        for b in range(batch_size):
            for k in range(output_size):
                df_1 = torch.unsqueeze(torch.autograd.grad(output0[t, b, k], net.rnn.h2h.weight,
                                                           retain_graph=True)[0], dim=0)
                if (b == 0) and (k == 0) and (t == 0):
                    df = df_1
                else:
                    df = torch.cat((df, df_1), dim=0)
    K0 = torch.einsum('bij,aij->ba', df, df)
    seconds = time.perf_counter() - t0

    np.save(f"{d}/K_reference.npy", K0.numpy())
    print(json.dumps({"seconds": seconds, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
