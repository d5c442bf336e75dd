#!/usr/bin/python3
"""The peer of `ctmq bench loader`: torchvision's ImageFolder with the reference training
transform (RandomResizedCrop(224) + RandomHorizontalFlip + ToTensor + Normalize), decoded by
PIL in this single process, no DataLoader workers. Prints one JSON line with images/s.

    /usr/bin/python3 bench/imagefolder_pil.py ROOT/train --images 500
"""
import argparse
import json
import time

import torch
import torchvision.transforms as T
from torchvision.datasets import ImageFolder


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", help="an ImageFolder root: ROOT/<class>/<image>")
    parser.add_argument("--images", type=int, default=500, help="images to load (several epochs if needed)")
    parser.add_argument("--size", type=int, default=224)
    args = parser.parse_args()

    torch.set_num_threads(1)
    transform = T.Compose([
        T.RandomResizedCrop(args.size),
        T.RandomHorizontalFlip(),
        T.ToTensor(),
        T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
    ])
    dataset = ImageFolder(args.root, transform=transform)
    seen = 0
    start = time.perf_counter()
    while seen < args.images:
        for index in torch.randperm(len(dataset)).tolist():
            image, _ = dataset[index]
            seen += 1
            if seen >= args.images:
                break
    seconds = time.perf_counter() - start
    print(json.dumps({"loader": "torchvision.ImageFolder+PIL", "threads": 1, "images": seen,
                      "seconds": seconds, "images_per_s": seen / seconds,
                      "torchvision": __import__("torchvision").__version__}))


if __name__ == "__main__":
    main()
