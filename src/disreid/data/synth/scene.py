"""The nuisances of one SynthPedes image and its rendering: person, background, occluder, camera.

Everything that varies from image to image but says nothing about the person lives here, so a model
has to see past it: view, pose, scale, position, background, lighting, blur, noise and occluders.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from disreid.data.synth.drawing import Landmarks, Pose, draw_person
from disreid.data.synth.factors import Factors, pick

SUPERSAMPLE = 3  # drawn 3x larger, then box-filtered down: anti-aliased edges read as a photo's
VIEWS = ("front", "back", "side")
VIEW_WEIGHTS = (0.4, 0.3, 0.3)
OCCLUDERS = ("none", "pole", "box")
OCCLUDER_WEIGHTS = (0.75, 0.15, 0.1)
OCCLUDER_RGB = ((90, 90, 96), (40, 40, 44), (110, 78, 48), (150, 120, 80), (60, 90, 70), (170, 170, 160))
BACKGROUND_KINDS = ("street", "brick", "windows", "foliage", "tiles")
BACKGROUNDS_PER_KIND = 4
HEAD_UNIT = 0.112  # head height as a fraction of the image height, for an average person at scale 1
POLE_HIDES = 0.5  # a bag at least this share behind a pole is left unsaid: what shows is a sliver


@dataclass(frozen=True)
class Scene:
    pose: Pose
    scale: float  # person size relative to the average
    shift: tuple[float, float]  # offset of the feet, as fractions of width and height
    background: int  # index into the background bank
    crop: tuple[float, float]  # where the frame sits in the larger background, in [0, 1]
    occluder: str  # "none", "pole" (a vertical bar) or "box" (an object in front of the legs and feet)
    occluder_place: tuple[float, float]  # pole: centre and width; box: height and horizontal extent
    occluder_colour: int
    brightness: float
    cast: tuple[float, float, float]  # per-channel gain: the colour of the light
    blur: float  # Gaussian radius in output pixels (0: sharp)
    noise: float  # standard deviation of sensor noise, in grey levels
    noise_seed: int
    mirror: bool


@dataclass(frozen=True)
class Shot:
    """One rendered image, and the parts of the person it does not show, so that captions leave them out:
    the face's details (glasses, beard) unless it faces the camera (a profile a dozen pixels high shows
    them no better than a back view), shoes behind a box, a bag at least half behind a pole (v9 named
    it: 13 of the first 30 bag colours misread on v9's seed-8 perception set stood behind a pole, which
    stands before 13 % of its bags)."""

    image: Image.Image
    hidden: frozenset[str]


def sample_scene(rng: np.random.Generator) -> Scene:
    occluder = pick(rng, OCCLUDERS, OCCLUDER_WEIGHTS)
    return Scene(
        pose=Pose(view=pick(rng, VIEWS, VIEW_WEIGHTS), swing=rng.uniform(-1, 1), arm_out=rng.uniform(4, 14)),
        scale=rng.uniform(0.96, 1.02),  # less than the heights differ, so that height shows in a crop
        shift=(rng.uniform(-0.07, 0.07), rng.uniform(-0.025, 0.01)),
        background=int(rng.integers(len(BACKGROUND_KINDS) * BACKGROUNDS_PER_KIND)),
        crop=(rng.random(), rng.random()),
        occluder=occluder,
        occluder_place=(rng.uniform(-1.2, 1.2), rng.uniform(0.3, 0.6))
        if occluder == "pole"
        else (rng.random(), rng.random()),
        occluder_colour=int(rng.integers(len(OCCLUDER_RGB))),
        brightness=rng.uniform(0.86, 1.12),  # less than neighbouring skin tones differ
        cast=tuple(rng.uniform(0.93, 1.07, size=3)),
        blur=rng.uniform(0.3, 0.8) if rng.random() < 0.35 else 0.0,
        noise=rng.uniform(0, 7),
        noise_seed=int(rng.integers(2**31)),
        mirror=bool(rng.random() < 0.5),
    )


def render(identity: Factors, clothing: Factors, scene: Scene, height: int, width: int) -> Shot:
    """The image of a person wearing `clothing` in `scene`, `height` x `width` pixels."""
    big_w, big_h = width * SUPERSAMPLE, height * SUPERSAMPLE
    bank = _backgrounds(big_w, big_h)[scene.background]
    left, top = round(scene.crop[0] * (bank.width - big_w)), round(scene.crop[1] * (bank.height - big_h))
    frame = (left, top, left + big_w, top + big_h)
    canvas = bank.crop(frame)
    unit = HEAD_UNIT * min(big_h, 2 * big_w) * scene.scale  # fits frames narrower than 1:2 too
    place = (scene.pose, unit, big_w * (0.5 + scene.shift[0]), big_h * (0.97 + scene.shift[1]))
    landmarks = draw_person(canvas, identity, clothing, *place)
    hidden = {"face"} if scene.pose.view != "front" else set()
    if scene.occluder == "box":
        hidden.add("shoes")
    if scene.occluder == "pole" and clothing["bag"] != "none":
        without_bag = bank.crop(frame)
        draw_person(without_bag, identity, clothing, *place, bag=False)
        if _share_behind_pole(canvas, without_bag, scene, landmarks) >= POLE_HIDES:
            hidden.add("bag")
    _occlude(canvas, scene, landmarks)
    image = canvas.reduce(SUPERSAMPLE)
    if scene.blur:
        image = image.filter(ImageFilter.GaussianBlur(scene.blur))
    pixels = np.asarray(image, dtype=np.float32) * (
        scene.brightness * np.asarray(scene.cast, dtype=np.float32)
    )
    pixels += np.random.default_rng(scene.noise_seed).normal(0, scene.noise, pixels.shape).astype(np.float32)
    image = Image.fromarray(np.clip(pixels + 0.5, 0, 255).astype(np.uint8))
    image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if scene.mirror else image
    return Shot(image, frozenset(hidden))


def _share_behind_pole(drawn: Image.Image, without: Image.Image, scene: Scene, person: Landmarks) -> float:
    """The share of the pixels of something that shows (where `drawn` differs from the same canvas drawn
    `without` it) that the pole will cover."""
    shows = (np.asarray(drawn) != np.asarray(without)).any(axis=-1)
    left, right = (max(0, round(x)) for x in _pole(scene, person))
    return float(shows[:, left:right].sum() / shows.sum()) if shows.any() else 1.0


def _pole(scene: Scene, person: Landmarks) -> tuple[float, float]:
    """The left and right edges of a pole, in canvas pixels."""
    centre, width = scene.occluder_place
    x, half = person.centre_x + centre * person.unit, width * person.unit / 2
    return x - half, x + half


def _occlude(canvas: Image.Image, scene: Scene, person: Landmarks) -> None:
    """A pole across the body, or a box that always covers both feet (hence hidden shoes)."""
    draw, colour, unit = ImageDraw.Draw(canvas), OCCLUDER_RGB[scene.occluder_colour], person.unit
    a, b = scene.occluder_place
    if scene.occluder == "pole":
        pole_left, pole_right = _pole(scene, person)
        draw.rectangle((pole_left, 0, pole_right, canvas.height), fill=colour)
    elif scene.occluder == "box":
        top = person.knee_y + (0.25 + 0.5 * a) * (person.ankle_y - person.knee_y)
        reach = (1.6 + 2 * b) * unit  # beyond the feet of the widest stride
        left, right = (0, person.centre_x + reach) if b < 0.5 else (person.centre_x - reach, canvas.width)
        draw.rectangle((left, top, right, canvas.height), fill=colour)
        draw.rectangle((left, top, right, top + 0.12 * unit), fill=tuple(min(255, c + 40) for c in colour))


@lru_cache(maxsize=4)
def _backgrounds(width: int, height: int) -> tuple[Image.Image, ...]:
    """A fixed bank of scenery, a little larger than a frame so each image can show a different part."""
    rng = np.random.default_rng(20240601)  # scenery is the same for every data set; crops differ
    size = (round(width * 1.3), round(height * 1.15))
    return tuple(
        _background(kind, size, rng) for kind in BACKGROUND_KINDS for _ in range(BACKGROUNDS_PER_KIND)
    )


def _background(kind: str, size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    w, h = size
    base = rng.uniform(70, 190) + rng.uniform(-25, 25, size=3)  # muted colours, as on a street
    ground = rng.uniform(70, 170) * np.array([1.0, 0.98, 0.95])
    horizon = round(h * rng.uniform(0.62, 0.8))
    pixels = np.empty((h, w, 3), dtype=np.float32)
    pixels[:] = base
    pixels *= np.linspace(1.1, 0.85, h)[:, None, None]
    if kind == "brick":
        row, brick = max(4, h // 28), max(2, w // 8)
        for r, y in enumerate(range(0, horizon, row)):
            pixels[y] = base * 1.35
            for x in range((r % 2) * brick // 2, w, brick):
                pixels[y : y + row, x] = base * 1.35
    elif kind == "windows":
        for x in range(0, w, max(2, w // 3)):
            pixels[:horizon, x : x + max(1, w // 30)] = base * 0.4
        pixels[horizon // 3 : horizon // 3 + max(1, h // 60)] = base * 0.4
    elif kind == "foliage":
        blobs = rng.uniform(60, 120, size=(max(1, h // 24), max(1, w // 24), 1)) * np.array([0.8, 1.0, 0.7])
        pixels *= np.asarray(Image.fromarray(blobs.astype(np.uint8)).resize((w, h), Image.BILINEAR)) / 100
    pixels[horizon:] = ground
    if kind == "tiles":
        pixels[horizon :: max(2, h // 24)] *= 0.7
        pixels[horizon:, :: max(2, w // 6)] *= 0.7
    pixels *= rng.uniform(0.94, 1.06, size=(h, w, 1))  # grain
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
