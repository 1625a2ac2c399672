"""A folder of real-size images to time tours on: scikit-learn's digits, upscaled, as PNGs.

    python -m benchmarks.image_folder OUT [--side 32]

Writes `OUT/<digit>/<index>.png`: the 1,797 digits, each 8x8 image enlarged to `--side`
pixels square (bilinear) and stored as RGB (the grey value in every channel), one folder per
class, the shape of what a user brings to `cookbook run all --dataset OUT`. It reads as
32x32x3 there, so the recipes train at that size; every run of this writes the same bytes.
"""

import os

import click
import numpy as np
import PIL.Image
from sklearn.datasets import load_digits


def write_folder(out, side=32):
    """Writes the digits as `side`x`side` RGB PNGs under `out`; returns how many."""
    digits = load_digits()
    grey = np.round(digits.images * 255 / 16).astype(np.uint8)  # 0-16 ink counts as 0-255
    for index, (image, label) in enumerate(zip(grey, digits.target)):
        folder = os.path.join(out, str(label))
        os.makedirs(folder, exist_ok=True)
        enlarged = PIL.Image.fromarray(image).resize((side, side), PIL.Image.BILINEAR)
        enlarged.convert("RGB").save(os.path.join(folder, f"{index:04d}.png"))
    return len(grey)


@click.command()
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--side", type=click.IntRange(min=8), default=32, show_default=True, help="Image side in pixels.")
def main(out, side):
    """Write the digits as a folder of SIDExSIDE RGB PNGs, one folder per class."""
    print(f"Wrote {write_folder(out, side)} images to {out}")


if __name__ == "__main__":
    main()
