"""Data from a person's own files: a folder of images per class, a CSV table, a text file."""

from __future__ import annotations

import csv
import io
import math
import warnings
from array import array
from pathlib import Path

import numpy as np
import torch

import resources

from .base import CLASSIFICATION, REGRESSION, DataError, DataSet, split, standardize
from .file_guard import (
    MAX_IMAGE_VALUES,
    MAX_TABLE_ROWS,
    MAX_TABLE_VALUES,
    MAX_TEXT_PAIRS,
    open_data_file,
    read_limited,
)
from .tokens import PAD, UNKNOWN, encode_words, skipgram_positions, words

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


def image_folder(root: str, image_size: list[int] | None = None, grayscale: bool = False,
                 val_fraction: float = 0.2, seed: int = 0, normalize: bool = True,
                 crop_padding: int = 0, flip: bool = False) -> DataSet:
    """One sub-folder per class, named after it, holding that class's images."""
    from PIL import Image, UnidentifiedImageError

    folder = Path(root).expanduser()
    if not folder.is_dir():
        raise DataError(f"image folder {folder} does not exist")
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise DataError(f"{folder} has no class folders: put each class's images in a folder named after it")
    size = tuple(image_size) if image_size else None
    images, labels, first = [], [], None
    decoded = 0          # pixel values so far: the folder's budget, counted before each image is decoded
    for label, name in enumerate(classes):
        files = sorted(p for p in (folder / name).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise DataError(f"class folder {folder / name} holds no images "
                            f"({', '.join(sorted(IMAGE_SUFFIXES))})")
        for path in files:
            try:
                with warnings.catch_warnings():
                    # An image of more pixels than PIL's bomb guard allows is refused, not decoded.
                    warnings.simplefilter("error", Image.DecompressionBombWarning)
                    with open_data_file(path, "image") as file, Image.open(file) as opened:
                        width, height = size[::-1] if size else opened.size
                        decoded += width * height * (1 if grayscale else 3)
                        if decoded > MAX_IMAGE_VALUES:
                            raise DataError(f"{folder}: its images hold more than {MAX_IMAGE_VALUES:,} pixel values "
                                            f"(reached at {path.name}); set image_size to make them smaller, or use "
                                            "fewer images")
                        img = opened.convert("L" if grayscale else "RGB")
                        if size:
                            img = img.resize((size[1], size[0]))
                        array = np.asarray(img, dtype=np.uint8)
            except DataError:
                raise
            except (Image.DecompressionBombError, Image.DecompressionBombWarning):
                raise DataError(f"{path}: has more pixels than an image file may ({Image.MAX_IMAGE_PIXELS:,}); "
                                "it may be a decompression bomb") from None
            except (OSError, UnidentifiedImageError, ValueError) as err:
                raise DataError(f"{path}: cannot be read as an image ({type(err).__name__})") from None
            if first is None:
                first = (path, array.shape)
            elif array.shape != first[1]:
                raise DataError(f"{path} is {array.shape[1]}x{array.shape[0]} but {first[0]} is "
                                f"{first[1][1]}x{first[1][0]}: set image_size to resize them alike")
            images.append(array)
            labels.append(label)
    x = torch.from_numpy(np.stack(images)).float() / 255.0
    x = x.unsqueeze(1) if grayscale else x.permute(0, 3, 1, 2).contiguous()
    x_train, y_train, x_val, y_val = split(x, torch.tensor(labels), val_fraction, seed)
    extra = {"crop_padding": crop_padding, "flip": flip}
    if normalize:
        x_train, x_val = standardize(x_train, x_val, extra)
    return DataSet(folder.name, x_train, y_train, x_val, y_val, CLASSIFICATION, classes, kind="image", extra=extra)


def csv_table(path: str, target: str, task: str = "auto", val_fraction: float = 0.2, seed: int = 0,
              normalize: bool = True) -> DataSet:
    """Numeric feature columns and one target column (a class name or a number)."""
    file = Path(path).expanduser()
    raw = read_limited(file, "CSV file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataError(f"{file}: is not UTF-8 text (byte {err.start}); is it a CSV file?") from None
    del raw
    # Bounded before parsing: a 60 MB file of 15 million short rows would take gigabytes as rows
    # of Python values. Lines bound the rows (a quoted cell may hold more than one).
    lines = text.count("\n") + 1
    if lines > MAX_TABLE_ROWS + 1:
        raise DataError(f"{file}: has {lines:,} lines; a CSV table is read up to {MAX_TABLE_ROWS:,} rows")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next((r for r in reader if any(cell.strip() for cell in r)), [])]
        if not header:
            raise DataError(f"{file}: needs a header line and at least one row of data")
        if len(header) < 2:
            # Not quoted: a file that is no table (a password file, a log) must not be echoed.
            raise DataError(f"{file}: its first line has one column; a CSV file has a header line of column names "
                            "separated by commas")
        if target not in header:
            shown = ", ".join(h[:40] for h in header[:30]) + (" ..." if len(header) > 30 else "")
            raise DataError(f"{file}: there is no column '{target}'; the columns are {shown}")
        if lines * len(header) > MAX_TABLE_VALUES:
            raise DataError(f"{file}: has up to {lines:,} rows of {len(header)} columns; a CSV table is read up to "
                            f"{MAX_TABLE_VALUES:,} values")
        t = header.index(target)
        features = [i for i in range(len(header)) if i != t]
        if not features:
            raise DataError(f"{file}: has no feature columns besides the target '{target}'")
        values = array("f")          # 4 bytes a value, as the tensor holds them
        targets: list[str] = []
        labels: dict[str, str] = {}  # each label held once, however many rows repeat it
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            line = reader.line_num
            if len(row) != len(header):
                raise DataError(f"{file} line {line}: has {len(row)} fields, the header has {len(header)}")
            for i in features:
                try:
                    number = float(row[i])
                except ValueError:
                    raise DataError(f"{file} line {line}, column '{header[i]}': {row[i][:40]!r} is not a number") from None
                if not math.isfinite(number):
                    raise DataError(f"{file} line {line}, column '{header[i]}': {row[i][:40]!r} is not a finite number")
                values.append(number)
            label = row[t].strip()
            if not label:
                raise DataError(f"{file} line {line}: the target column '{target}' is empty")
            targets.append(labels.setdefault(label, label))
    except csv.Error as err:
        raise DataError(f"{file}: cannot be read as CSV text ({err})") from None
    del text
    if not targets:
        raise DataError(f"{file}: needs a header line and at least one row of data")
    if task not in ("auto", CLASSIFICATION, REGRESSION):
        raise DataError(f"task must be auto, classification or regression, not {task!r}")
    numeric = all(_is_number(v) for v in targets)
    if task == "auto":
        task = REGRESSION if numeric and not _few_integers(targets) else CLASSIFICATION
    x = torch.frombuffer(values, dtype=torch.float32).reshape(len(targets), len(features)).clone()
    if task == CLASSIFICATION:
        classes = sorted(set(targets), key=lambda v: (float(v), v) if numeric else (0.0, v))
        index = {c: i for i, c in enumerate(classes)}
        y = torch.tensor([index[v] for v in targets])
    else:
        if not numeric:
            bad = next(v for v in targets if not _is_number(v))
            raise DataError(f"{file}, column '{target}': {bad!r} is not a number, so it cannot be a regression target")
        classes = []
        y = torch.tensor([float(v) for v in targets], dtype=torch.float32).unsqueeze(1)
    x_train, y_train, x_val, y_val = split(x, y, val_fraction, seed, stratify=task == CLASSIFICATION)
    extra = {"features": [header[i] for i in features]}
    if normalize:
        x_train, x_val = standardize(x_train, x_val, extra)
    return DataSet(file.stem, x_train, y_train, x_val, y_val, task, classes, kind="table", extra=extra)


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _few_integers(values: list[str]) -> bool:
    return all(float(v).is_integer() for v in values) and len(set(values)) <= 50


BUNDLED_TEXT = resources.data_file("loom_notes.txt")
BUNDLED_SENTENCES = resources.data_file("sentiment.tsv")
MAX_SEQ_LEN = 512
MAX_SENTENCE_TOKENS = 20_000_000      # sentences x seq_len: 160 MB of token ids


def text_file(path: str = "", seq_len: int = 64, val_fraction: float = 0.1, seed: int = 0, mode: str = "chars",
              window: int = 2) -> DataSet:
    """A text file (the bundled one when ``path`` is empty).

    ``mode="chars"``: each sample is ``seq_len`` characters and the next character of each
    position is its target (a character-level language model). ``mode="skipgram"``: each
    sample is one word and its target a word at most ``window`` words away (word2vec)."""
    file = Path(path).expanduser() if path else BUNDLED_TEXT
    try:
        text = read_limited(file, "text file").decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataError(f"{file}: is not UTF-8 text (byte {err.start})") from None
    if mode == "skipgram":
        return _skipgram(file, text, window, val_fraction, seed)
    if mode != "chars":
        raise DataError(f"text mode must be chars or skipgram, not {mode!r}")
    if seq_len < 1:
        raise DataError(f"seq_len must be at least 1, not {seq_len}")
    # Characters as numbers through numpy (4 bytes each), not a Python list of them (about 36).
    points, inverse = np.unique(np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32),
                                return_inverse=True)
    vocabulary = "".join(chr(p) for p in points)
    codes = torch.from_numpy(inverse.astype(np.int64).reshape(-1))
    windows = (len(codes) - 1) // seq_len
    if windows < 2:
        raise DataError(f"{file}: {len(text)} characters are too few for sequences of {seq_len}; "
                        f"need at least {2 * seq_len + 1}")
    x = codes[: windows * seq_len].reshape(windows, seq_len)
    y = codes[1: windows * seq_len + 1].reshape(windows, seq_len)
    # Validation is the end of the text, not random windows, so it is text the model never saw.
    n_val = max(1, int(round(windows * val_fraction)))
    return DataSet(file.stem, x[:-n_val], y[:-n_val], x[-n_val:], y[-n_val:], CLASSIFICATION,
                   list(vocabulary), kind="text", extra={"vocabulary": vocabulary, "unit": "chars"})


def _skipgram(file: Path, text: str, window: int, val_fraction: float, seed: int) -> DataSet:
    found = words(text)
    if window < 1:
        raise DataError(f"window must be at least 1, not {window}")
    if len(found) < 2 * window + 2:
        raise DataError(f"{file}: {len(found)} words are too few for skip-gram pairs with window {window}")
    if len(found) * 2 * min(window, len(found)) > MAX_TEXT_PAIRS:
        raise DataError(f"{file}: {len(found):,} words with window {window} make more than {MAX_TEXT_PAIRS:,} "
                        "skip-gram pairs; use a shorter text or a smaller window")
    vocabulary = sorted(set(found))
    index = {w: i for i, w in enumerate(vocabulary)}
    ids = torch.tensor([index[w] for w in found])
    centres, contexts = skipgram_positions(len(ids), window)
    x, y = ids[centres].unsqueeze(1), ids[contexts]
    x_train, y_train, x_val, y_val = split(x, y, val_fraction, seed, stratify=False)
    return DataSet(f"{file.stem} (skip-gram)", x_train, y_train, x_val, y_val, CLASSIFICATION, vocabulary,
                   kind="text", extra={"vocabulary": vocabulary, "unit": "words", "window": window})


def labelled_sentences(path: str = "", seq_len: int = 10, val_fraction: float = 0.2, seed: int = 0,
                       min_count: int = 1) -> DataSet:
    """Short texts with a class each, for sequence classification (many to one): a UTF-8 file of
    lines ``label<TAB>text`` (a first line ``label<TAB>text`` is a header), the bundled
    positive and negative sentences when ``path`` is empty.

    Each text becomes ``seq_len`` word tokens (``tokens.encode_words``: padded in front). The
    vocabulary is PAD, UNKNOWN, then the words of the training texts seen at least ``min_count``
    times, in alphabetical order: validation texts may hold words it lacks, as new text does."""
    file = Path(path).expanduser() if path else BUNDLED_SENTENCES
    if not 1 <= seq_len <= MAX_SEQ_LEN:
        raise DataError(f"seq_len must be between 1 and {MAX_SEQ_LEN}, not {seq_len}")
    try:
        lines = read_limited(file, "text file").decode("utf-8-sig").splitlines()
    except UnicodeDecodeError as err:
        raise DataError(f"{file}: is not UTF-8 text (byte {err.start})") from None
    texts, labels = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or (number == 1 and line.strip().lower() == "label\ttext"):
            continue
        label, tab, text = line.partition("\t")
        if not tab or not label.strip():
            raise DataError(f"{file} line {number}: a line is a label, a tab, then the text")
        texts.append(words(text))
        labels.append(label.strip())
    if len(texts) * seq_len > MAX_SENTENCE_TOKENS:
        raise DataError(f"{file}: {len(texts):,} texts of {seq_len} tokens are more than {MAX_SENTENCE_TOKENS:,} "
                        "tokens; use fewer texts or a shorter seq_len")
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise DataError(f"{file}: needs texts of at least two labels, it has {len(classes)}")
    y = torch.tensor([classes.index(label) for label in labels])
    train_rows, y_train, val_rows, y_val = split(torch.arange(len(texts)), y, val_fraction, seed)
    counts: dict[str, int] = {}
    for row in train_rows.tolist():
        for word in texts[row]:
            counts[word] = counts.get(word, 0) + 1
    vocabulary = [PAD, UNKNOWN, *sorted(w for w, n in counts.items() if n >= min_count)]
    index = {w: i for i, w in enumerate(vocabulary)}

    def encoded(rows: torch.Tensor) -> torch.Tensor:
        return torch.tensor([encode_words(texts[row], index, seq_len) for row in rows.tolist()], dtype=torch.int64)
    return DataSet(file.stem, encoded(train_rows), y_train, encoded(val_rows), y_val, CLASSIFICATION, classes,
                   kind="text", extra={"vocabulary": vocabulary, "unit": "words"})
