"""The Pillow side of `cargo ops bench resize`: the job the original Python
Lambda did. Fits each image in SIZE x SIZE with thumbnail() (which uses
JPEG draft mode and LANCZOS) and saves it as a JPEG at QUALITY or, when the
benchmark says the image has transparency, as a PNG. Metadata is not
copied, as ours strips it.

usage: pillow_resize.py SIZE QUALITY OUTDIR PATH:jpg|png ...
"""

import os
import sys

from PIL import Image, ImageOps


def main() -> None:
    size, quality, outdir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    for spec in sys.argv[4:]:
        path, fmt = spec.rsplit(":", 1)
        stem = os.path.splitext(os.path.basename(path))[0]
        with Image.open(path) as im:
            im.thumbnail((size, size), Image.LANCZOS)
            # After the thumbnail, so draft mode still applies; the box is
            # square, so turning afterwards fits the same.
            ImageOps.exif_transpose(im, in_place=True)
            if fmt == "jpg":
                if im.mode != "RGB":
                    im = im.convert("RGB")
                im.save(os.path.join(outdir, stem + ".jpg"), quality=quality)
            else:
                if im.mode != "RGBA":
                    im = im.convert("RGBA")
                im.save(os.path.join(outdir, stem + ".png"))


if __name__ == "__main__":
    main()
