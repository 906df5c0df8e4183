"""The network of the public Python reference (Liu et al. 2024, main.py): its CTRNN and Net
classes, ported for the benchmarks (nn.Linear without bias, a Python loop over time)."""
import torch
import torch.nn as nn


class CTRNN(nn.Module):
    def __init__(self, input_size, hidden_size, dt=100):
        super().__init__()
        self.hidden_size = hidden_size
        self.alpha = dt / 100
        self.oneminusalpha = 1 - self.alpha
        self.input2h = nn.Linear(input_size, hidden_size, bias=False)
        self.h2h = nn.Linear(hidden_size, hidden_size, bias=False)

    def recurrence(self, input, hidden):
        pre_activation = self.input2h(input) + self.h2h(hidden)
        return torch.relu(hidden * self.oneminusalpha + pre_activation * self.alpha)

    def forward(self, input):
        hidden = torch.zeros(input.shape[1], self.hidden_size)
        output = []
        for i in range(input.size(0)):
            hidden = self.recurrence(input[i], hidden)
            output.append(hidden)
        return torch.stack(output, dim=0), hidden


class Net(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.rnn = CTRNN(input_size, hidden_size)
        self.fc = nn.Linear(hidden_size, output_size, bias=False)

    def forward(self, x):
        rnn_activity, _ = self.rnn(x)
        return self.fc(rnn_activity), rnn_activity
