"""Typed loading of ``params.yaml``.

One pydantic model per stage section. Unknown keys, missing keys and wrong
types stop the command with one line that names the file and the dotted key,
so a typo never silently falls back to a default.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from carid.images import MAX_PIXELS

FaultName = Literal[
    "ratelimit", "error5xx", "slow", "truncate", "dropped", "content-type", "robots-partial", "robots-all",
    "oversize", "bomb", "endless", "redirect-offsite", "bad-filename",
]


class ParamsError(Exception):
    """A params file that cannot be used; the message is one line naming file and key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class MarketplaceParams(_Section):
    """The embedded demo marketplace (``carid marketplace serve``)."""

    seed: int
    difficulty: float = Field(ge=0.0, le=1.0)
    listings_per_region: int = Field(ge=1)
    hyderabad_listings: int = Field(ge=1)
    carnest_listings: int = Field(ge=1)  # third site (Carnest, Pune)
    page_size: int = Field(ge=1)
    faults: list[FaultName]
    fault_rate: float = Field(ge=0.0, le=1.0)


#: What ``carid marketplace serve`` uses outside a project (no params.yaml).
DEFAULT_MARKETPLACE = MarketplaceParams(
    seed=7, difficulty=0.5, listings_per_region=500, hyderabad_listings=280, carnest_listings=84, page_size=24,
    faults=[], fault_rate=0.1,
)


class ShardParams(_Section):
    profile: str  # a shipped profile name (scraper/profiles/<name>.yaml) or a YAML path
    region: str  # a region key of that profile
    target_per_class: int | None = Field(default=None, ge=0)  # this shard's own target (else scrape.target_per_class)


class FolderParams(_Section):
    """One entry of ``scrape.folders``: photos a person already has, imported by ``import@<name>``."""

    folder: str  # searched recursively; "~" is the home folder; a relative path is taken from the project root
    label: Literal["swift", "wagonr"]  # the model every photo in it shows


#: A folder source's name: a DVC stage name (import@<name>) and a folder name (data/raw/local/<name>).
FolderName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")]


class ScrapeParams(_Section):
    """``scrape@<shard>``: which shards exist and when a shard may stop; ``import@<name>``: folders of photos."""

    target_per_class: int = Field(ge=0)  # stop once this many swift and wagonr photos are kept; 0: all
    delay_s: float = Field(ge=0.0)  # pause before each request (politeness); 0 for the local demo
    year_min: int = Field(default=0, ge=0)  # drop listings whose card says an earlier year (0: keep all)
    shards: dict[str, ShardParams]
    folders: dict[FolderName, FolderParams]  # {} for none


CheckAction = Literal["reject", "review"]


class CheckActions(_Section):
    """What a failed quality check does: ``reject`` the photo, or ``review`` (accept it, flagged and sorted up in
    the review). Keys are the check names as rejected.csv spells them; every check must be named."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)

    too_small: CheckAction = Field(alias="too-small")
    blurry: CheckAction
    too_dark: CheckAction = Field(alias="too-dark")
    too_bright: CheckAction = Field(alias="too-bright")
    odd_aspect: CheckAction = Field(alias="odd-aspect")
    grayscale: CheckAction
    graphic: CheckAction

    def review(self) -> frozenset[str]:
        """The checks (by reason name) set to ``review``."""
        return frozenset(name.replace("_", "-") for name, action in self.model_dump().items() if action == "review")


class CurateParams(_Section):
    """``curate``: duplicate thresholds (bits of 64) and quality checks."""

    phash_max: int = Field(ge=0, le=32)  # near duplicates: pHash distance at most this ...
    dhash_max: int = Field(ge=0, le=32)  # ... and dHash distance at most this
    verify_phash256_max: int = Field(ge=0, le=128)  # ... confirmed by a 256-bit pHash within this
    verify_ncc_min: float = Field(ge=-1, le=1)  # ... and standardised luma thumbnails correlating this much
    verify_value_phash256_max: int = Field(16, ge=0, le=128)  # or the value planes (max of R, G, B) within this
    verify_tone_phash256_max: int = Field(8, ge=0, le=128)  # or luma's regions, tone curves matched, within this
    off_centre_dhash_max: int = Field(12, ge=0, le=64)  # uneven-crop windows join at this dHash (pHash: phash_max)
    verify_close_phash256_max: int = Field(28, ge=0, le=128)  # or luma correlating at 0.99+ and pHash within this
    verify_register_ncc_min: float = Field(0.97, ge=-1, le=1)  # or a same-scale piece placed by phase correlation
    off_centre_wide: int = Field(14, ge=0, le=64)  # uneven-crop windows also join with one hash within this ...
    off_centre_tight: int = Field(6, ge=0, le=64)  # ... and the other within this (pHash, dHash or the reverse)
    local_min_votes: int = Field(8, ge=0)  # or ORB keypoints agreeing on where one photo sits in the other (0: off)
    min_side: int = Field(ge=1)  # too-small below this many pixels on the short side
    blur_min: float = Field(ge=0, le=1)  # blurry below this focus (curation.focus: 0-1, higher is sharper)
    dark_max: float = Field(ge=0, le=255)  # too-dark below this mean brightness
    bright_min: float = Field(ge=0, le=255)  # too-bright above this mean brightness
    aspect_min: float = Field(gt=0)  # odd-aspect outside [aspect_min, aspect_max] (width / height)
    aspect_max: float = Field(gt=0)
    gray_max_spread: float = Field(ge=0, le=255)  # grayscale at or below this colour spread (monochrome photos: 0)
    graphic_flat_min: float = Field(ge=0, le=1)  # graphic: at least this share of exactly equal neighbours ...
    graphic_focus_min: float = Field(ge=0, le=1)  # ... and edges at least this sharp (focus)
    check_actions: CheckActions  # per quality check: reject the photo, or accept it flagged for review
    workers: int = Field(ge=1)  # processes for hashing


class AuditParams(_Section):
    """``audit``: the model-assisted review order (curation/audit.py) on pretrained embeddings."""

    embed_size: int = Field(ge=64, le=512)  # EfficientNet-Lite0 input size of the embeddings (the feature cache's key)
    folds: int = Field(ge=2)  # K of the out-of-fold classifier (folds grouped by listing)
    c: float = Field(gt=0)  # inverse L2 strength of its logistic regression
    neighbours: int = Field(ge=1)  # photos averaged in the not-a-car score
    shown_neighbours: int = Field(ge=0)  # nearest accepted photos of each class shown in the review
    relabel_min: float = Field(ge=0, le=1)  # suggest relabel at this out-of-fold P(other target) or more
    reject_min: float = Field(ge=0, le=1)  # suggest reject at this not-a-car / other-model score or more
    min_extra_class: int = Field(ge=1)  # photos needed before other-model / person-rejected photos form a class
    other_near_k: int = Field(default=10, ge=1)  # nearest photos in the other-models-nearby score and relabel check
    relabel_agree: float = Field(default=0.5, ge=0, le=1)  # share of those labelled the other target, for a relabel
    auto_reject_above: float | None = Field(ge=0, le=1)  # null: only a person applies suggestions; else reject
                                                          # photos whose reject suggestion's suspicion is above


class SplitSizes(_Section):
    """Photos per split: all counts (2400) or all fractions of the balanced usable photos (0.6)."""

    train: int | float = Field(gt=0)
    val: int | float = Field(gt=0)
    test: int | float = Field(gt=0)

    @model_validator(mode="after")
    def _one_kind(self) -> SplitSizes:
        values = (self.train, self.val, self.test)
        if all(isinstance(v, int) for v in values):
            return self
        if not all(isinstance(v, float) for v in values):
            raise ValueError("sizes must be all counts (2400) or all fractions (0.6), not a mix")
        if sum(values) > 1.0 + 1e-9:
            raise ValueError(f"fractions add up to {sum(values):g}, more than 1")
        return self


class HoldoutParams(_Section):
    sites: list[str]  # accepted photos from these sites form holdout.csv, never train / val / test
    per_class: int = Field(ge=0)  # at most this many photos per class; 0: all
    balance: bool  # cut the larger class down to the smaller one


class SplitParams(_Section):
    """``split``: stratified train / val / test of the main site plus the holdout."""

    seed: int
    sizes: SplitSizes
    holdout: HoldoutParams


ModelName = Literal["baseline", "dropout", "batchnorm", "residual", "transfer"]
BackboneName = Literal["efficientnet-lite0", "mobilenetv2"]
#: How pixel values reach the from-scratch CNNs: ``unit`` [0, 1] (the study's Keras run), ``symmetric`` [-1, 1]
#: (its PyTorch run). Pre-trained backbones keep the scaling they were trained with.
InputScaling = Literal["unit", "symmetric"]


class AugmentStrengths(_Section):
    """One fused random affine warp per batch plus brightness / contrast (training only)."""

    flip: bool
    rotation: float = Field(ge=0, le=180)  # max degrees either way
    zoom: float = Field(ge=0, lt=1)  # scale in [1 - zoom, 1 + zoom]
    shift: float = Field(ge=0, lt=1)  # max fraction of width / height
    brightness: float = Field(ge=0, le=1)  # max additive change, fraction of the value range
    contrast: float = Field(ge=0, lt=1)  # max fractional change around the image mean


class VariantParams(_Section):
    model: ModelName
    augment: bool
    epochs: int = Field(ge=1)
    learning_rate: float = Field(gt=0)
    fine_tune_epochs: int = Field(ge=0, default=0)  # transfer only: epochs with the top of the backbone unfrozen
    fine_tune_blocks: int = Field(ge=0, le=16, default=2)  # transfer (EfficientNet-Lite0): top blocks unfrozen
    backbone: BackboneName = "efficientnet-lite0"  # transfer only: the ImageNet network
    image_size: int | None = Field(default=None, ge=46)  # this variant's square input (else train.image_size)


class TrainParams(_Section):
    """``train@<variant>`` / ``evaluate@<variant>``: one entry per variant, shared input settings."""

    image_size: int = Field(ge=46)  # square input; the four conv + pool blocks need at least 46
    batch_size: int = Field(ge=1)
    seed: int
    input_scaling: InputScaling  # custom CNNs only: unit = [0, 1], symmetric = [-1, 1]
    augment: AugmentStrengths
    transfer_weights: str  # ImageNet weights for `transfer`: "" uses the installed package (EfficientNet-Lite0)
    variants: dict[str, VariantParams]  # or ~/.keras/models/ (MobileNetV2); else a path to the file

    def size_of(self, variant: str) -> int:
        """The square input size of ``variant``: its own ``image_size`` or ``train.image_size``."""
        own = self.variants[variant].image_size
        return self.image_size if own is None else own

    def size_key(self, variant: str) -> str:
        """The params key that sets ``variant``'s input size, for error messages."""
        if self.variants[variant].image_size is None:
            return "train.image_size"
        return f"train.variants.{variant}.image_size"


class ServeParams(_Section):
    """``carid serve``: request limits and micro-batching of the prediction service."""

    max_batch: int = Field(ge=1)  # photos run through the model at once
    max_wait_ms: float = Field(ge=0)  # how long the first photo of a batch waits for more
    max_files: int = Field(ge=1)  # photos in one request
    max_file_bytes: int = Field(ge=1)  # bytes per photo
    max_pixels: int = Field(ge=1)  # width x height per photo (decompression bombs)
    workers: int = Field(ge=0)  # processes, each with the model and its own batches (0: one per core)
    threads: int = Field(ge=0)  # onnxruntime intra-op threads per worker (0: the cores shared out among workers)

    def worker_count(self) -> int:
        return self.workers or (os.cpu_count() or 1)

    def thread_count(self) -> int:
        return self.threads or max(1, (os.cpu_count() or 1) // self.worker_count())


#: What ``carid serve`` uses outside a project (no params.yaml).
DEFAULT_SERVE = ServeParams(max_batch=32, max_wait_ms=2.0, max_files=32, max_file_bytes=15_000_000,
                            max_pixels=MAX_PIXELS, workers=0, threads=0)


StudyBackend = Literal["tensorflow", "jax"]


class StudyParams(_Section):
    """``study@<backend>`` / ``study-report``: the grid answering the study's questions (``dvc repro study-report``).

    Every point trains a variant of ``train.variants`` with its own params, except: input ``image_size`` for the
    from-scratch CNNs, at most ``max_epochs`` epochs (on a share of train, more, so the number of weight updates
    stays that of the full run, up to 4x the epochs), no fine-tuning for ``transfer``, and the point's seed.
    """

    variants: list[str] = Field(min_length=1)  # learning curves: these variants at every fraction
    fractions: list[float] = Field(min_length=1)  # shares of train.csv, per class; val and test stay whole
    seeds: list[int] = Field(min_length=1)  # every point once per seed: the spread shows the noise
    image_size: int = Field(ge=46)  # from-scratch CNNs (transfer keeps its own image_size)
    max_epochs: int = Field(ge=1)  # each variant's epochs on all of train, capped at this
    scaling_variants: list[str]  # trained once more with train.input_scaling flipped, on all of train
    backends: list[StudyBackend] = Field(min_length=1)  # the first runs the curves; the others repeat ...
    backend_variants: list[str]  # ... these variants on all of train
    jobs: int = Field(default=1, ge=1)  # points trained at once, each in a process of one thread

    @model_validator(mode="after")
    def _fractions(self) -> StudyParams:
        if any(not 0 < f <= 1 for f in self.fractions):
            raise ValueError(f"fractions must be in (0, 1], got {self.fractions}")
        return self


class Params(_Section):
    marketplace: MarketplaceParams
    scrape: ScrapeParams
    curate: CurateParams
    audit: AuditParams
    split: SplitParams
    train: TrainParams
    serve: ServeParams
    study: StudyParams


def _format_error(path: Path, err: ValidationError) -> str:
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "<top level>"
    kind = first["type"]
    if kind == "extra_forbidden":
        return f"{path}: unknown key '{key}'"
    if kind == "missing":
        return f"{path}: missing key '{key}'"
    return f"{path}: key '{key}': {first['msg']} (got {first.get('input')!r})"


def load_params(path: Path | str = "params.yaml") -> Params:
    """Read and validate a params file; raises :class:`ParamsError` with a one-line message."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ParamsError(f"{path}: no such params file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ParamsError(f"{path}:{where} is not valid YAML") from None
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: expected a mapping of sections at the top level")
    try:
        return Params.model_validate(raw)
    except ValidationError as exc:
        raise ParamsError(_format_error(path, exc)) from None
