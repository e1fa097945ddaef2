"""The same small script as train_small.py with the optimizer taken out (it evaluates).

Benchmark input for benchmarks/bench_check.py: nothing here can concern optlint, so this
measures what checking a file that is not a training script costs (a pre-commit run).
"""

import argparse

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(32, width),
            nn.LayerNorm(width),
            nn.GELU(),
            nn.Linear(width, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--checkpoint", default="net.pt")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--width", type=int, default=128)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    data = TensorDataset(torch.randn(512, 32), torch.randint(0, 10, (512,)))
    loader = DataLoader(data, batch_size=args.batch_size, shuffle=False)
    model = Net(args.width)
    model.load_state_dict(torch.load(args.checkpoint))
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(args.epochs):
        total = 0.0
        correct = 0
        with torch.no_grad():
            for inputs, targets in loader:
                logits = model(inputs)
                total += loss_fn(logits, targets).item()
                correct += int((logits.argmax(-1) == targets).sum())
        print(f"pass {epoch}: loss {total / len(loader):.4f}, accuracy {correct / len(data):.3f}")
    torch.save(model.state_dict(), "net-eval.pt")


if __name__ == "__main__":
    main()


# end of the benchmark script
