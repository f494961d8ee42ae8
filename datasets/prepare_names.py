"""Build datasets/names.txt and datasets/names_by_sex.tsv from the `names` package's US Census 1990 lists.

Run once by a maintainer (the output is committed; nothing is downloaded at run time):

    pip download names==0.3.0 --no-deps --no-binary :all: -d /tmp/names
    python datasets/prepare_names.py /tmp/names/names-0.3.0.tar.gz
"""

import hashlib
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).parent
LISTS = {"female": "names-0.3.0/names/dist.female.first", "male": "names-0.3.0/names/dist.male.first"}


def read_lists(sdist: Path) -> dict[str, dict[str, float]]:
    """{list: {name: percent of that sex's population}}, names lower-cased."""
    lists = {}
    with tarfile.open(sdist) as tar:
        for sex, member in LISTS.items():
            rows = [line.split() for line in tar.extractfile(member).read().decode("ascii").splitlines()]
            lists[sex] = {row[0].lower(): float(row[1]) for row in rows if row}
    return lists


def by_sex(lists: dict[str, dict[str, float]]) -> dict[str, str]:
    """Each name's more frequent sex; a name on both lists goes to the one where its share is larger."""
    female, male = lists["female"], lists["male"]
    return {name: "female" if female.get(name, 0) >= male.get(name, 0) else "male"
            for name in sorted(set(female) | set(male))}


def write(path: Path, text: str) -> None:
    path.write_text(text)
    print(f"{path}: {text.count(chr(10))} lines, sha256 {hashlib.sha256(path.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    labels = by_sex(read_lists(Path(sys.argv[1])))
    write(HERE / "names.txt", "\n".join(labels) + "\n")
    write(HERE / "names_by_sex.tsv", "name\tsex\n" + "".join(f"{n}\t{s}\n" for n, s in labels.items()))
