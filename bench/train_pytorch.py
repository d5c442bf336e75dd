#!/usr/bin/env python3
"""The PyTorch side of `ctmq bench train`: the same ResNet-20 (Bi-Real blocks by default) on
Fashion-MNIST, batch 128, the same augmentation, written the way a PyTorch user would write it:
torchvision transforms in a DataLoader, hand-written fake quantization (DoReFa weights, signed
PACT activations, sign with the ApproxSign gradient at 1 bit). Prints JSON with images/s.

  /usr/bin/python3 bench/train_pytorch.py --bits 32 --steps 30 --threads 2
"""
import argparse, gzip, json, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.transforms as T
from PIL import Image


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


class FashionMNIST(torch.utils.data.Dataset):
    def __init__(self, root, limit):
        self.images = read_idx(f"{root}/train-images-idx3-ubyte.gz")[:limit]
        self.labels = read_idx(f"{root}/train-labels-idx1-ubyte.gz")[:limit]
        self.transform = T.Compose([T.RandomCrop(28, padding=4), T.RandomHorizontalFlip(),
                                    T.ToTensor(), T.Normalize((0.2860,), (0.3530,))])

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.transform(Image.fromarray(self.images[i])), int(self.labels[i])


def round_ste(x):
    return (torch.round(x) - x).detach() + x


class ApproxSign(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * torch.clamp(2 - 2 * x.abs(), min=0)


class QConv(nn.Conv2d):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.alpha = nn.Parameter(torch.tensor(3.0))
        self.bits = 32

    def forward(self, x):
        w = self.weight
        if self.bits == 1:
            scale = w.abs().mean(dim=(1, 2, 3), keepdim=True).detach()
            w = (torch.sign(w) * scale - w).detach() + w
            x = ApproxSign.apply(x)
        elif self.bits < 32:
            levels = 2 ** self.bits - 1
            t = torch.tanh(w)
            t = t / (2 * t.abs().max()) + 0.5
            w = 2 * round_ste(t * levels) / levels - 1
            a = self.alpha
            x = torch.minimum(torch.maximum(x, -a), a)
            x = round_ste((x + a) / (2 * a) * levels) / levels * (2 * a) - a
        else:
            x = F.hardtanh(x)
        return F.conv2d(x, w, None, self.stride, self.padding)


class BiRealBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = QConv(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = QConv(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.AvgPool2d(stride), nn.Conv2d(cin, cout, 1, bias=False),
                                      nn.BatchNorm2d(cout))

    def forward(self, x):
        shortcut = self.down(x) if self.down is not None else x
        x = self.bn1(self.conv1(x)) + shortcut
        return self.bn2(self.conv2(x)) + x


class ResNet20(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers, cin = [], 16
        for cout, stride in [(16, 1), (32, 2), (64, 2)]:
            for i in range(3):
                layers.append(BiRealBlock(cin, cout, stride if i == 0 else 1))
                cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(64, classes)

    def set_bits(self, bits):
        for m in self.modules():
            if isinstance(m, QConv):
                m.bits = bits

    def forward(self, x):
        # As ctmq's Bi-Real ResNet: no ReLU; every block's quantizer (hardtanh at 32 bits) clips.
        x = self.layers(self.bn1(self.conv1(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--root", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--bits", type=int, default=32)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=128)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    warmup = 3
    data = FashionMNIST(args.root, (args.steps + warmup) * args.batch_size)
    loader = torch.utils.data.DataLoader(data, batch_size=args.batch_size, shuffle=True,
                                         num_workers=args.workers, drop_last=True)
    model = ResNet20()
    model.set_bits(args.bits)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9, weight_decay=5e-4)
    images, start = 0, None
    for step, (x, y) in enumerate(loader):
        if step == warmup:
            start = time.perf_counter()
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step >= warmup:
            images += y.numel()
    seconds = time.perf_counter() - start
    print(json.dumps({"benchmark": "train", "implementation": "pytorch-python", "bits": args.bits,
                      "batch_size": args.batch_size, "threads": args.threads,
                      "workers": args.workers, "steps": args.steps, "seconds": seconds,
                      "images_per_second": images / seconds}))


if __name__ == "__main__":
    main()
