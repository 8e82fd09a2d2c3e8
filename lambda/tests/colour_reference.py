"""The reference conversion for Easel's colour tests and `cargo ops bench resize`.

    colour_reference.py SRC PROFILE TAGGED REFERENCE
    colour_reference.py --convert TAGGED REFERENCE

Makes TAGGED (a .png or .jpg) from the sRGB image SRC as a camera or editor
would make a file in PROFILE's colour space, with the profile embedded:
  * RGB profile: SRC's numbers are kept and the profile attached, so they
    now mean that space's colours (a Display P3 photograph, say);
  * CMYK profile: SRC is separated into CMYK with the profile (relative
    colorimetric, black-point compensation) and written as a CMYK JPEG
    (Adobe's inverted convention, as Photoshop writes it).
Then writes REFERENCE, a PNG: TAGGED's decoded pixels converted to sRGB by
LittleCMS (through Pillow's ImageCms), relative colorimetric with
black-point compensation, the conversion Easel's resizer must match.
With --convert, TAGGED already exists (made by another encoder, a YCCK JPEG
say) and only REFERENCE is written, from the profile TAGGED embeds.
"""

import io
import sys

from PIL import Image, ImageCms


def main(src, profile_path, tagged_path, reference_path):
    with open(profile_path, "rb") as f:
        icc = f.read()
    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    srgb = ImageCms.createProfile("sRGB")
    space = profile.profile.xcolor_space.strip()
    flags = ImageCms.Flags.BLACKPOINTCOMPENSATION
    intent = ImageCms.Intent.RELATIVE_COLORIMETRIC
    image = Image.open(src).convert("RGB")
    jpeg = tagged_path.endswith(".jpg")

    if space == "CMYK":
        if not jpeg:
            sys.exit("a CMYK profile needs a .jpg")
        image = ImageCms.profileToProfile(image, srgb, profile, intent, "CMYK", flags=flags)
    elif space != "RGB":
        sys.exit(f"{profile_path}: a {space} profile; this makes RGB or CMYK files")
    if jpeg:
        # 4:4:4 and high quality, so the file is what a careful export makes.
        image.save(tagged_path, "JPEG", quality=95, subsampling=0, icc_profile=icc)
    else:
        image.save(tagged_path, "PNG", icc_profile=icc)

    convert(tagged_path, profile, reference_path)


def convert(tagged_path, profile, reference_path):
    tagged = Image.open(tagged_path)
    tagged.load()
    if profile is None:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(tagged.info["icc_profile"]))
    srgb = ImageCms.createProfile("sRGB")
    flags = ImageCms.Flags.BLACKPOINTCOMPENSATION
    intent = ImageCms.Intent.RELATIVE_COLORIMETRIC
    reference = ImageCms.profileToProfile(tagged, profile, srgb, intent, "RGB", flags=flags)
    reference.save(reference_path, "PNG")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--convert":
        convert(sys.argv[2], None, sys.argv[3])
    elif len(sys.argv) == 5:
        main(*sys.argv[1:])
    else:
        sys.exit(__doc__)
