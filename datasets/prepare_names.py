"""Build datasets/names.txt from the `names` package's US Census 1990 first-name lists.

Run once by a maintainer (the output is committed; nothing is downloaded at run time):

    pip download names==0.3.0 --no-deps --no-binary :all: -d /tmp/names
    python datasets/prepare_names.py /tmp/names/names-0.3.0.tar.gz
"""

import hashlib
import sys
import tarfile
from pathlib import Path

OUT = Path(__file__).with_name("names.txt")
MEMBERS = ("names-0.3.0/names/dist.female.first", "names-0.3.0/names/dist.male.first")


def read_names(sdist: Path) -> list[str]:
    """First column of each Census list, lower-cased, de-duplicated, sorted."""
    names = set()
    with tarfile.open(sdist) as tar:
        for member in MEMBERS:
            for line in tar.extractfile(member).read().decode("ascii").splitlines():
                if line.strip():
                    names.add(line.split()[0].lower())
    return sorted(names)


if __name__ == "__main__":
    names = read_names(Path(sys.argv[1]))
    OUT.write_text("\n".join(names) + "\n")
    digest = hashlib.sha256(OUT.read_bytes()).hexdigest()
    print(f"{OUT}: {len(names)} names, sha256 {digest}")
