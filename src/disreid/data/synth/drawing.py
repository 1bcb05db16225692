"""Drawing one pedestrian with PIL so that both who they are and what they wear can be seen.

Identity shows in the body (shoulders, hips, limb thickness, leg length against head size), the skin,
the hair and the face (eyes, brows, mouth, glasses, beard); clothing covers most of the pixels, as in
real crops. All sizes derive from `unit`, the height of the head in canvas pixels, so a figure can be
drawn at any resolution; the scene draws it 2-4x larger than the output and downsamples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image, ImageDraw

from disreid.data.synth.factors import Factors

RGB = tuple[int, int, int]
Point = tuple[float, float]
Limb = tuple[Point, Point, Point]  # hip, knee, ankle or shoulder, elbow, wrist

# Neighbouring tones differ in lightness by a third or more, more than the scene's light varies.
SKIN_RGB: dict[str, RGB] = {
    "pale": (252, 230, 218),
    "light": (222, 166, 124),
    "tan": (172, 110, 64),
    "brown": (118, 72, 42),
    "dark": (60, 38, 26),
}
HAIR_RGB: dict[str, RGB] = {
    "black": (24, 20, 20),
    "brown": (104, 62, 30),
    "blond": (228, 192, 110),
    "red": (178, 62, 24),
    "grey": (176, 176, 172),
}
COLOUR_RGB: dict[str, RGB] = {
    "black": (32, 32, 36),
    "white": (236, 236, 230),
    "grey": (130, 130, 134),
    "red": (204, 30, 36),
    "blue": (38, 82, 204),
    "green": (40, 142, 62),
    "yellow": (238, 206, 40),
    "pink": (242, 140, 182),
    "purple": (122, 58, 164),
    "orange": (242, 130, 30),
    "brown": (122, 76, 40),
}
# How a man's and a woman's figure differ, as one tells them apart on a small street crop: the
# shoulders against the hips (a V against an A whatever the build, which scales both), the waist, the
# thickness of limbs and neck, the head, the chest in profile. Half widths and thicknesses in head heights.
GENDER_SHAPE: dict[str, dict[str, float]] = {
    "male": {
        "head": 0.82,
        "shoulder": 1.14,
        "waist": 0.76,
        "hip": 0.64,
        "limb": 1.08,
        "neck": 0.4,
        "chest": 1.0,
    },
    "female": {
        "head": 0.72,
        "shoulder": 0.74,
        "waist": 0.5,
        "hip": 0.88,
        "limb": 0.84,
        "neck": 0.26,
        "chest": 1.4,
    },
}
HEIGHT_SCALE = {"short": 0.86, "average": 1.0, "tall": 1.14}
BUILD_SCALE = {"slim": 0.8, "average": 1.0, "heavy": 1.3}
EYE_RGB: RGB = (34, 26, 26)
FRAME_RGB: RGB = (22, 22, 28)
SUNGLASS_RGB: RGB = (40, 52, 80)  # tinted lenses: darker than light skin, bluer than dark skin
BEARD_SHADOW: RGB = (20, 16, 14)
BEARD_DARKER = 0.6  # a beard at most this share of the skin's lightness
BELT_RGB: RGB = (52, 38, 28)
LONG_SLEEVES = ("shirt", "jacket", "coat", "hoodie")
BARE_LEGS = ("shorts", "skirt", "long skirt")
FAR_SHADE = 0.72  # limbs on the far side of a side view are in the body's shadow
RIM_SHADE = 0.7  # the edge of an arm, a sleeve or a bag, in shadow: it shows over things of its colour
HAIR_RIM_SHADE = 0.55  # hair edged in its own shadow, so that its outline shows on a street of its colour


@dataclass(frozen=True)
class Pose:
    view: str  # "front", "back" or "side" (a side view faces right; the scene may mirror it)
    swing: float  # walking phase in [-1, 1]: how far the legs and arms swing
    arm_out: float  # degrees the arms hang away from the body


@dataclass(frozen=True)
class Landmarks:
    """Where the figure ended up, so the scene can place an occluder that hides a known part."""

    centre_x: float
    knee_y: float
    ankle_y: float
    unit: float


def mix(colour: RGB, other: RGB, amount: float) -> RGB:
    r, g, b = (round(c + (o - c) * amount) for c, o in zip(colour, other, strict=True))
    return r, g, b


def shade(colour: RGB, factor: float) -> RGB:
    r, g, b = (min(255, round(c * factor)) for c in colour)
    return r, g, b


def lightness(colour: RGB) -> float:
    r, g, b = colour
    return 0.299 * r + 0.587 * g + 0.114 * b


def beard_colour(hair: RGB, skin: RGB) -> RGB:
    """The hair's colour in shadow, deep enough to be darker than the skin. No caption states a beard's
    colour, and on a face a dozen pixels high a beard shows as the face's lower half darker than its
    skin: v8 drew a blond beard on dark skin lighter than the skin, and behind tinted glasses, which
    leave no other skin on the face, it read as a light-skinned face without a beard."""
    for amount in (0.2, 0.6, 0.8, 1.0):
        beard = mix(hair, BEARD_SHADOW, amount)
        if lightness(beard) <= BEARD_DARKER * lightness(skin):
            break
    return beard


def detail(colour: RGB) -> RGB:
    """A seam, zip or pocket colour that stands out from `colour` whether it is dark or light."""
    return mix(colour, (0, 0, 0), 0.35) if sum(colour) > 240 else mix(colour, (255, 255, 255), 0.3)


def lerp(a: Point, b: Point, t: float) -> Point:
    return a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t


def step(start: Point, length: float, degrees: float, side: int = 1) -> Point:
    """The end of a bone of `length` hanging from `start` at `degrees` from the vertical, towards `side`."""
    angle = math.radians(degrees)
    return start[0] + side * length * math.sin(angle), start[1] + length * math.cos(angle)


def draw_person(
    image: Image.Image,
    identity: Factors,
    clothing: Factors,
    pose: Pose,
    unit: float,
    centre_x: float,
    ground_y: float,
    bag: bool = True,
) -> Landmarks:
    """Draw the person standing on `ground_y`; return where the knees and ankles are. `bag=False` leaves
    the bag out and draws the rest as it is drawn with it (a hood a backpack pushes up stays up), so
    that where the two drawings differ is where the bag shows."""
    figure = _Figure(ImageDraw.Draw(image), identity, clothing, pose, unit, centre_x, ground_y)
    figure.draw(bag)
    return Landmarks(centre_x, figure.knee_y, figure.ankle_y, unit)


class _Figure:
    """The skeleton of one person in one pose, and the parts drawn on it back to front."""

    def __init__(
        self,
        canvas: ImageDraw.ImageDraw,
        identity: Factors,
        clothing: Factors,
        pose: Pose,
        unit: float,
        centre_x: float,
        ground_y: float,
    ) -> None:
        self.canvas, self.identity, self.clothing = canvas, identity, clothing
        self.view, self.side_view, self.u, self.cx = pose.view, pose.view == "side", unit, centre_x
        u, tall, wide = unit, HEIGHT_SCALE[identity["height"]], BUILD_SCALE[identity["build"]]
        self.shape = shape = GENDER_SHAPE[identity["gender"]]
        self.skin, self.hair = SKIN_RGB[identity["skin"]], HAIR_RGB[identity["hair_colour"]]
        self.hair_rim = shade(self.hair, HAIR_RIM_SHADE)
        self.rim_width = max(1, round(0.07 * unit))
        self.top_rgb, self.bottom_rgb = (
            COLOUR_RGB[clothing["upper_colour"]],
            COLOUR_RGB[clothing["lower_colour"]],
        )
        self.shoe_rgb = COLOUR_RGB[clothing["shoes_colour"]]
        self.bag_rgb = COLOUR_RGB.get(clothing["bag_colour"], (0, 0, 0))
        self.head_w = (0.9 if self.side_view else shape["head"]) * u
        self.shoulder = shape["shoulder"] * u * wide  # half widths, seen from the front
        self.waist = shape["waist"] * u * wide
        self.hip = shape["hip"] * u * wide
        self.depth = 0.5 * u * wide**2  # half the chest depth, seen from the side: build shows most here
        self.seat = self.depth * shape["hip"] / 0.76  # half the hips' depth in profile: a woman's are fuller
        self.arm_w = 0.3 * u * wide * shape["limb"]
        self.leg_w = 0.42 * u * wide * shape["limb"]
        self.torso = 2.45 * u * tall
        self.ankle_y = ground_y - 0.2 * u
        bones = (1.8 * u * tall, 1.75 * u * tall, 1.3 * u * tall, 1.2 * u * tall)  # thigh, shin, arm, forearm
        self.legs, self.arms = (
            self._side_limbs(pose, *bones) if self.side_view else self._frontal_limbs(pose, *bones)
        )
        self.hip_y = self.legs[0][0][1]
        self.knee_y = max(leg[1][1] for leg in self.legs)
        self.shoulder_y = self.hip_y - self.torso
        self.waist_y = self.shoulder_y + 0.6 * self.torso
        self.head = (centre_x + (0.12 * u if self.side_view else 0.0), self.shoulder_y - 0.62 * u)

    # -- skeleton -----------------------------------------------------------------------------------------

    def _frontal_limbs(
        self, pose: Pose, thigh: float, shin: float, upper_arm: float, forearm: float
    ) -> tuple[list[Limb], list[Limb]]:
        """Legs and arms seen from the front or back: a step lifts one foot, arms sway in and out."""
        u, cx = self.u, self.cx
        hip_y = self.ankle_y - thigh - shin
        legs, arms = [], []
        for side in (-1, 1):
            lift = 0.3 * u * max(0.0, side * pose.swing)
            hip = (cx + side * 0.5 * self.hip, hip_y)
            ankle = (cx + side * (0.5 * self.hip + 0.06 * u), self.ankle_y - lift)
            knee = (lerp(hip, ankle, 0.5)[0] + side * 0.03 * u, hip_y + thigh - 0.6 * lift)
            legs.append((hip, knee, ankle))
            shoulder = (
                cx + side * (self.shoulder - 0.45 * self.arm_w),
                hip_y - self.torso + 0.45 * self.arm_w,
            )
            angle = pose.arm_out + 4 * side * pose.swing
            elbow = step(shoulder, upper_arm, angle, side)
            arms.append((shoulder, elbow, step(elbow, forearm, angle - 5, side)))
        return legs, arms

    def _side_limbs(
        self, pose: Pose, thigh: float, shin: float, upper_arm: float, forearm: float
    ) -> tuple[list[Limb], list[Limb]]:
        """Legs and arms of a walker seen from the side, far limb first; arms swing against the legs."""
        stride = 28 * pose.swing
        hip = (self.cx, 0.0)  # placed on the ground once the lower ankle is known
        legs = []
        for angle in (-stride, stride):
            knee = step(hip, thigh, angle)
            legs.append(
                (hip, knee, step(knee, shin, angle - (20 if angle < 0 else 4)))
            )  # trailing knee bends
        drop = self.ankle_y - max(ankle[1] for _, _, ankle in legs)
        legs = [tuple((x, y + drop) for x, y in leg) for leg in legs]
        shoulder = (self.cx, drop - self.torso + 0.25 * self.u)
        arms = []
        for angle in (0.9 * stride, -0.9 * stride):
            elbow = step(shoulder, upper_arm, angle)
            arms.append((shoulder, elbow, step(elbow, forearm, angle + 15)))  # elbows bend forward
        return legs, arms

    # -- primitives ---------------------------------------------------------------------------------------

    def limb(self, points: tuple[Point, ...], width: float, colour: RGB, rim: RGB | None = None) -> None:
        """A thick polyline with round ends and joints, edged in `rim` if given."""
        if rim is not None:
            self.limb(points, width + 2 * self.rim_width, rim)
        self.canvas.line(points, fill=colour, width=max(1, round(width)), joint="curve")
        for point in (points[0], points[-1]):
            self.ellipse(point, width / 2, width / 2, colour)

    def ellipse(
        self, centre: Point, rx: float, ry: float, colour: RGB, rim: RGB | None = None, rim_width: int = 0
    ) -> None:
        box = (centre[0] - rx, centre[1] - ry, centre[0] + rx, centre[1] + ry)
        self.canvas.ellipse(box, fill=colour, outline=rim, width=rim_width or self.rim_width)

    def polygon(self, points: list[Point], colour: RGB, rim: RGB | None = None) -> None:
        self.canvas.polygon(points, fill=colour, outline=rim, width=self.rim_width)

    def mirrored(self, half: list[Point], axis: float | None = None) -> list[Point]:
        """A polygon symmetric about the body axis (or `axis`), from its left half listed top to bottom."""
        axis = self.cx if axis is None else axis
        return half + [(2 * axis - x, y) for x, y in reversed(half)]

    def line_width(self, units: float) -> int:
        return max(1, round(units * self.u))

    def at_head(self, x: float, y: float) -> Point:
        """A point `x` head widths right of and `y` head heights below the centre of the head."""
        return self.head[0] + x * self.head_w, self.head[1] + y * self.u

    def at_body(self, x: float, y: float) -> Point:
        """A point `x` and `y` head heights right of and below the middle of the shoulders."""
        return self.cx + x * self.u, self.shoulder_y + y * self.u

    # -- the figure, back to front ------------------------------------------------------------------------

    def draw(self, bag: bool) -> None:
        if self.side_view:
            self.arm(self.arms[0], FAR_SHADE)
        elif self.view == "front":
            self.hair_behind()
        for index, leg in enumerate(self.legs):
            self.leg(leg, FAR_SHADE if self.side_view and index == 0 else 1.0)
        self.pelvis_and_skirt()
        neck = (self.head[0] - 0.05 * self.u, self.head[1])
        self.limb((neck, self.at_body(0, 0)), self.shape["neck"] * self.u, self.skin)
        self.upper_garment()
        if self.view == "front":  # a backpack's straps go over the hood, which lies over the pack elsewhere
            self.hood()
        if bag:
            self.bag_on_body()
        if self.view != "front":
            self.hood()
        for arm in self.arms[1:] if self.side_view else self.arms:
            self.arm(arm, 1.0)
        if bag and self.clothing["bag"] == "handbag":
            self.handbag(self.arms[-1][2])
        self.head_and_hair()

    def leg(self, leg: Limb, light: float) -> None:
        lower, colour, (hip, knee, ankle) = self.clothing["lower"], shade(self.bottom_rgb, light), leg
        if lower in BARE_LEGS:
            self.limb(leg, 0.8 * self.leg_w, shade(self.skin, light))
        if lower == "shorts":
            self.limb((hip, lerp(hip, knee, 0.65)), 1.1 * self.leg_w, colour)
        elif lower == "jeans":  # narrower, with a turned-up hem
            self.limb(leg, 0.9 * self.leg_w, colour)
            self.limb((lerp(knee, ankle, 0.9), ankle), 0.95 * self.leg_w, mix(colour, (255, 255, 255), 0.35))
        elif lower == "trousers":
            self.limb(leg, self.leg_w, colour)
        toes = 0.14 * self.u if self.side_view else 0.0
        length = 0.3 * self.u if self.side_view else 0.6 * self.leg_w
        self.ellipse(
            (ankle[0] + toes, ankle[1] + 0.08 * self.u), length, 0.14 * self.u, shade(self.shoe_rgb, light)
        )

    def pelvis_and_skirt(self) -> None:
        u, lower, y = self.u, self.clothing["lower"], self.hip_y
        left = self.cx - (self.seat if self.side_view else self.hip)
        if lower in ("trousers", "jeans", "shorts"):
            self.polygon(self.mirrored([(left, y - 0.5 * u), (left, y + 0.25 * u)]), self.bottom_rgb)
        elif lower in ("skirt", "long skirt"):
            hem_y, flare = (
                (self.knee_y - 0.1 * u, 1.45) if lower == "skirt" else (self.ankle_y - 0.25 * u, 1.7)
            )
            hem_x = self.cx - flare * (self.cx - left)
            self.polygon(self.mirrored([(left, y - 0.5 * u), (hem_x, hem_y)]), self.bottom_rgb)

    def upper_garment(self) -> None:
        kind, top = self.clothing["upper"], self.shoulder_y
        hem_y = {"coat": (self.hip_y + self.knee_y) / 2, "shirt": self.hip_y - 0.35 * self.u}.get(
            kind, self.hip_y + 0.15 * self.u
        )
        hem = (1.25 if kind == "coat" else 1.02) * (self.seat if self.side_view else self.hip)
        outline = self._side_torso(hem, hem_y) if self.side_view else self._front_torso(hem, hem_y)
        if kind == "tank top":  # bare shoulders under two straps
            self.polygon(outline, self.skin)
            outline = [(x, max(y, top + 0.45 * self.u)) for x, y in outline]
            for x in (0.0,) if self.side_view else (-0.5 * self.shoulder, 0.5 * self.shoulder):
                strap = ((self.cx + x, top), (self.cx + x, top + 0.5 * self.u))
                self.limb(strap, 0.16 * self.u, self.top_rgb)
        self.polygon(outline, self.top_rgb)
        self.garment_details(kind, hem, hem_y)

    def _front_torso(self, hem: float, hem_y: float) -> list[Point]:
        cx, top, u = self.cx, self.shoulder_y, self.u
        return self.mirrored(
            [
                self.at_body(-0.3, -0.05),
                (cx - self.shoulder, top + 0.15 * u),
                (cx - 0.93 * self.shoulder, top + 0.55 * u),
                (cx - self.waist, self.waist_y),
                (cx - hem, hem_y),
            ]
        )

    def _side_torso(self, hem: float, hem_y: float) -> list[Point]:
        cx, top, u, d = self.cx, self.shoulder_y, self.u, self.depth
        chest = self.shape["chest"]
        belly = 0.8 * BUILD_SCALE[self.identity["build"]] ** 1.5  # a heavy build's belly, a slim flat front
        return [
            self.at_body(-0.15, -0.05),
            (cx - 0.9 * d, top + 0.2 * u),
            (cx - 0.85 * d, self.waist_y),
            (cx - hem, hem_y),
            (cx + hem, hem_y),
            (cx + belly * d, self.waist_y),
            (cx + chest * d, top + 0.8 * u),
            (cx + 0.6 * d, top + 0.1 * u),
            self.at_body(0.2, -0.05),
        ]

    def garment_details(self, kind: str, hem: float, hem_y: float) -> None:
        """Collars, zips, buttons and pockets: what tells a shirt from a jacket at a glance."""
        u, at, seam = self.u, self.at_body, detail(self.top_rgb)
        if kind == "hoodie" and self.side_view:  # the front pocket's side, on the belly
            front = self.cx + 0.8 * hem
            self.polygon(
                [
                    (front - 0.5 * u, hem_y - 0.75 * u),
                    (front, hem_y - 0.75 * u),
                    (front, hem_y - 0.15 * u),
                    (front - 0.7 * u, hem_y - 0.15 * u),
                ],
                seam,
            )
        if kind == "shirt":  # a collar band, and the shirt tucked in at a belt, seen from every side
            self.limb((at(-0.32, 0.02), at(0.32, 0.02)), 0.2 * u, seam)
            self.limb(((self.cx - hem, hem_y), (self.cx + hem, hem_y)), 0.24 * u, BELT_RGB)
            if self.view == "front":
                self.ellipse((self.cx, hem_y), 0.14 * u, 0.1 * u, mix(BELT_RGB, (255, 255, 255), 0.6))
        if kind == "jacket":  # a ribbed hem, seen from every side
            self.limb(
                (
                    (self.cx - 0.95 * self.waist, hem_y - 0.12 * u),
                    (self.cx + 0.95 * self.waist, hem_y - 0.12 * u),
                ),
                0.25 * u,
                seam,
            )
            if self.side_view:  # a collar standing up in front of the neck and a zip down the front edge
                d, chest, top = self.depth, self.shape["chest"], self.shoulder_y
                front = ((0.5 * d, top + 0.15 * u), (0.85 * chest * d, top + 0.8 * u), (0.8 * hem, hem_y))
                self.limb(tuple((self.cx + x, y) for x, y in front), 0.14 * u, seam)
                self.limb((at(0.0, -0.12), at(0.25, 0.02)), 0.24 * u, seam)
        if self.view != "front":
            return
        if kind != "tank top":  # a round neckline
            self.canvas.chord((*at(-0.2, -0.25), *at(0.2, 0.2)), 0, 180, fill=self.skin)
        if kind in ("shirt", "jacket", "coat"):
            for side in (-1, 1):
                self.polygon([at(side * 0.3, -0.05), at(0, 0.35), at(side * 0.35, 0.3)], seam)
        if kind in ("jacket", "coat"):
            self.limb((at(0, 0.3), (self.cx, hem_y)), 0.07 * u, seam)
        if kind in ("shirt", "coat"):
            for row in range(3 + (kind == "coat")):
                self.ellipse(at(0.2 if kind == "coat" else 0.0, 0.6 + 0.5 * row), 0.09 * u, 0.09 * u, seam)
        if kind == "hoodie":  # the drawstrings and the front pocket
            for side in (-1, 1):
                self.limb((at(side * 0.14, 0.25), at(side * 0.16, 1.0)), 0.08 * u, seam)
            pocket = [
                (self.cx - 0.5 * self.waist, hem_y - 0.75 * u),
                (self.cx - 0.7 * self.waist, hem_y - 0.15 * u),
            ]
            self.polygon(self.mirrored(pocket), seam)

    def hood(self) -> None:
        """A hoodie's hood: gathered round the neck in front; from behind bunched up at the neck, over a
        backpack's top and out beside long hair; in profile a hump on the upper back, out from under a
        ponytail, or up behind the neck over a backpack. v9 drew it under the backpack, lower from behind
        and higher in profile, where the pack, long hair or a ponytail hid it: hoodies and jackets were
        taken for each other from behind and in profile."""
        if self.clothing["upper"] != "hoodie":
            return
        u, at, seam = self.u, self.at_body, detail(self.top_rgb)
        profile = at(-0.6, -0.2) if self.clothing["bag"] == "backpack" else at(-0.75, 0.2)
        centre, rx, ry = {
            "front": (at(0, 0.05), 0.6, 0.35),
            "back": (at(0, 0.0), 0.85, 0.5),
            "side": (profile, 0.5, 0.6),
        }[self.view]
        if self.side_view:  # the garment's own colour, its opening's edge in the seam colour
            self.ellipse(centre, rx * u, ry * u, self.top_rgb, seam, 2 * self.rim_width)
        else:
            self.ellipse(centre, rx * u, ry * u, seam)

    def arm(self, arm: Limb, light: float) -> None:
        """The arm and its sleeve, each edged in its shadow: in profile the near arm hangs over a torso of
        its own colour, where only that edge shows how long the sleeve is."""
        kind, colour, (shoulder, elbow, wrist) = self.clothing["upper"], shade(self.top_rgb, light), arm
        skin, edge = shade(self.skin, light), shade(colour, RIM_SHADE)
        self.limb(arm, self.arm_w, skin, shade(skin, RIM_SHADE))
        if kind in LONG_SLEEVES:
            self.limb(arm, (1.25 if kind == "coat" else 1.12) * self.arm_w, colour, edge)
            if kind == "jacket":  # ribbed cuffs like the hem
                self.limb((lerp(elbow, wrist, 0.8), wrist), 1.2 * self.arm_w, detail(colour))
        elif kind == "t-shirt":
            self.limb((shoulder, lerp(shoulder, elbow, 0.65)), 1.45 * self.arm_w, colour, edge)
        self.ellipse(lerp(elbow, wrist, 1.08), 0.6 * self.arm_w, 0.6 * self.arm_w, skin)

    def bag_on_body(self) -> None:
        """Every bag is edged in its shadow, so that it shows on a street or clothes near its colour (v8's
        grey bags on grey pavement read as no bag), and a backpack's straps are wide enough to show their
        colour from the front."""
        u, at, bag, colour = self.u, self.at_body, self.clothing["bag"], self.bag_rgb
        edge, seam = shade(colour, RIM_SHADE), detail(colour)
        if bag == "backpack" and self.view == "front":  # only the straps show, joined across the chest
            chest = (self.cx - 0.6 * self.shoulder, self.shoulder_y + 0.9 * u)
            self.limb((chest, (self.cx + 0.6 * self.shoulder, chest[1])), 0.18 * u, colour, edge)
            for side in (-1, 1):
                top = (self.cx + side * 0.55 * self.shoulder, self.shoulder_y)
                self.limb(
                    (top, (self.cx + side * 0.62 * self.shoulder, top[1] + 1.5 * u)), 0.38 * u, colour, edge
                )
        elif bag == "backpack":
            if self.side_view:
                left, right = self.cx - self.depth - 0.6 * u, self.cx - 0.7 * self.depth
                strap = (at(0, 0), (self.cx + 0.8 * self.depth, self.shoulder_y + 0.9 * u))
                self.limb(strap, 0.13 * u, colour, edge)
            else:
                left, right = self.cx - 0.72 * self.shoulder, self.cx + 0.72 * self.shoulder
            top = self.shoulder_y
            self.canvas.rounded_rectangle(
                (left, top + 0.15 * u, right, top + 2.0 * u),
                radius=0.25 * u,
                fill=colour,
                outline=edge,
                width=self.rim_width,
            )
            self.canvas.rectangle((left + 0.1 * u, top + 1.2 * u, right - 0.1 * u, top + 1.85 * u), fill=seam)
        elif bag == "shoulder bag":  # a strap across the chest to a bag at the hip
            strap_top = at(0.1, 0) if self.side_view else (self.cx - 0.6 * self.shoulder, self.shoulder_y)
            x, y = (self.cx - 0.2 * u if self.side_view else self.cx + 0.95 * self.hip), self.hip_y
            self.limb((strap_top, (x, y - 0.4 * u)), 0.14 * u, colour, edge)
            self.canvas.rectangle(
                (x - 0.15 * u, y - 0.6 * u, x + 0.8 * u, y + 0.45 * u),
                fill=colour,
                outline=edge,
                width=self.rim_width,
            )
            self.canvas.line(
                (x - 0.15 * u, y - 0.3 * u, x + 0.8 * u, y - 0.3 * u), fill=seam, width=self.line_width(0.06)
            )

    def handbag(self, wrist: Point) -> None:
        u, (x, y), colour = self.u, wrist, self.bag_rgb
        handle = [(x - 0.25 * u, y + 0.35 * u), (x, y), (x + 0.25 * u, y + 0.35 * u)]
        self.canvas.line(handle, fill=colour, width=self.line_width(0.1))
        self.canvas.rounded_rectangle(
            (x - 0.55 * u, y + 0.3 * u, x + 0.55 * u, y + 1.25 * u),
            radius=0.1 * u,
            fill=colour,
            outline=shade(colour, RIM_SHADE),
            width=self.rim_width,
        )

    # -- head ---------------------------------------------------------------------------------------------

    def hair_behind(self) -> None:
        """Long hair seen from the front hangs behind the neck and shoulders."""
        if self.identity["hair_style"] == "long":
            at = self.at_head
            self.polygon(
                self.mirrored([at(-0.56, -0.2), (at(-0.66, 0)[0], self.shoulder_y + 0.9 * self.u)]),
                self.hair,
                self.hair_rim,
            )

    def head_and_hair(self) -> None:
        u, at, style, view = self.u, self.at_head, self.identity["hair_style"], self.view
        back = -0.09 if self.side_view else 0.0  # in profile the hair sits towards the back of the head
        self.ellipse(self.head, self.head_w / 2, u / 2, self.skin)
        if view == "front":
            for side in (-1, 1):
                self.ellipse(at(side * 0.5, 0.05), 0.08 * u, 0.12 * u, self.skin)  # ears
        if style == "curly":
            for angle in map(math.radians, range(150, 400, 30)):
                self.ellipse(
                    at(back + 0.62 * math.cos(angle), -0.1 + 0.55 * math.sin(angle)),
                    0.22 * u,
                    0.22 * u,
                    self.hair,
                    self.hair_rim,
                )
        if view == "back":
            self.ellipse(at(0, -0.08), 0.54 * self.head_w, 0.47 * u, self.hair, self.hair_rim)
        else:
            crown = (*at(back - 0.54, -0.56), *at(back + 0.54, 0.34))
            self.canvas.chord(crown, 180, 360, fill=self.hair, outline=self.hair_rim, width=self.rim_width)
        if self.side_view:
            self.ellipse(at(-0.31, -0.08), 0.28 * u, 0.4 * u, self.hair, self.hair_rim)
        if style == "bun":  # high on the crown, so that it stands out of the head's outline from every side
            bun = {"front": at(0, -0.68), "back": at(0, -0.6), "side": at(-0.55, -0.5)}[view]
            self.ellipse(bun, 0.44 * u, 0.4 * u, shade(self.hair, 0.85), self.hair_rim)
        elif style == "ponytail":
            self.ponytail()
        elif style == "long":
            self.long_hair()
        if self.side_view:
            self.ellipse(at(-0.06, 0.05), 0.08 * u, 0.11 * u, shade(self.skin, 0.85))  # the ear
        if view != "back":
            self.face()

    def ponytail(self) -> None:
        """A thick tail with a tie: down the back, swinging out behind a profile, or from the front
        sticking out beside the head on one side and ending at the neck (long hair falls on both sides,
        onto the chest)."""
        u, at = self.u, self.at_head
        if self.view == "back":
            tail = (at(0, 0.05), (self.head[0], self.shoulder_y + 1.1 * u))
        elif self.side_view:
            tail = (at(-0.55, -0.15), at(-1.1, 0.2), at(-1.05, 0.9))
        else:
            tail = (at(0.5, -0.25), at(0.8, 0.1), at(0.75, 0.75))
        self.limb(tail, 0.36 * u, self.hair, self.hair_rim)
        self.ellipse(lerp(tail[0], tail[1], 0.3), 0.16 * u, 0.1 * u, shade(self.hair, 0.6))

    def long_hair(self) -> None:
        """Long hair over the back (no lower than the shoulder blades, so that a hood still shows), behind
        a profile, or framing the face and falling onto the chest."""
        at, u = self.at_head, self.u
        bottom = self.shoulder_y + {"back": 0.9 * u, "side": 1.2 * u, "front": 1.3 * u}[self.view]
        if self.view == "back":
            half = [at(-0.54, 0), (at(-0.62, 0)[0], bottom)]
            self.polygon(self.mirrored(half, self.head[0]), self.hair, self.hair_rim)
        elif self.side_view:
            self.polygon(
                [at(-0.56, -0.1), at(0.02, -0.1), (at(-0.09, 0)[0], bottom), (at(-0.67, 0)[0], bottom)],
                self.hair,
                self.hair_rim,
            )
        else:  # beside the face, then in front of both shoulders down onto the chest
            for side in (-1, 1):
                lock = [at(side * 0.6, -0.2), at(side * 0.44, -0.1), at(side * 0.46, 0.5)]
                ends = [at(side * 0.5, 0)[0], at(side * 0.9, 0)[0]]
                self.polygon([*lock, *((x, bottom) for x in ends)], self.hair, self.hair_rim)

    def face(self) -> None:
        """Eyes, brows, mouth, beard and eyewear; a profile shows one eye and a nose."""
        u, at, identity, line = self.u, self.at_head, self.identity, self.line_width(0.05)
        if self.side_view:
            s = 1 / 0.9  # profile points below are in head heights; the profile head is 0.9 wide
            eyes = [at(0.28 * s, 0.03)]
            self.polygon([at(0.43 * s, -0.02), at(0.55 * s, 0.17), at(0.42 * s, 0.2)], self.skin)  # the nose
            jaw = ((-0.02, 0.05), (0.2, 0.22), (0.44, 0.24), (0.44, 0.7), (0.04, 0.66), (-0.12, 0.3))
            beard = [at(x * s, y) for x, y in jaw]
            mouth = [at(0.28 * s, 0.31), at(0.42 * s, 0.31)]
            temple = (eyes[0][0] - 0.12 * u, at(-0.05 * s, 0)[0])
        else:
            eyes = [at(-0.2, 0.05), at(0.2, 0.05)]
            jaw = [at(-0.15, 0.2), at(-0.38, 0.15), at(-0.56, -0.04), at(-0.62, 0.42), at(-0.28, 0.86)]
            beard = self.mirrored(jaw, self.head[0])  # under the nose, up the sideburn, along the jaw
            mouth = [at(-0.13, 0.3), at(0.13, 0.3)]
            temple = (eyes[0][0] + 0.12 * u, eyes[1][0] - 0.12 * u)  # the bridge between the lenses
        lips = mix(self.skin, (130, 40, 40), 0.5)
        if identity["beard"] == "beard":  # the hair's colour in shadow, a chin fuller than the face's
            colour = beard_colour(self.hair, self.skin)
            self.polygon(beard, colour, shade(colour, HAIR_RIM_SHADE))
            lips = mix(self.skin, (220, 120, 120), 0.5)  # a lip that shows through the beard
        self.canvas.line(mouth, fill=lips, width=line)
        # Eyewear is drawn larger than life so that it still shows on a face a dozen pixels high: glasses
        # as bright lenses round the eyes in a thin dark frame, sunglasses as a wider band of tinted lenses
        # with no eye to be seen.
        frame, eyewear = self.line_width(0.07), identity["eyewear"]
        for x, y in eyes:
            self.ellipse((x, y), 0.06 * u, 0.06 * u, EYE_RGB)
            self.canvas.line(
                [(x - 0.1 * u, y - 0.12 * u), (x + 0.1 * u, y - 0.13 * u)], fill=self.hair, width=line
            )
            if eyewear == "sunglasses":
                self.canvas.ellipse(
                    (x - 0.24 * u, y - 0.16 * u, x + 0.24 * u, y + 0.16 * u), fill=SUNGLASS_RGB
                )
            elif eyewear == "glasses":
                lens = (x - 0.2 * u, y - 0.14 * u, x + 0.2 * u, y + 0.14 * u)
                self.canvas.ellipse(
                    lens, fill=mix(self.skin, (255, 255, 255), 0.85), outline=FRAME_RGB, width=frame
                )
                self.ellipse((x, y), 0.05 * u, 0.05 * u, EYE_RGB)
        if eyewear != "none":
            bridge = FRAME_RGB if eyewear == "glasses" else SUNGLASS_RGB
            self.canvas.line([(temple[0], eyes[0][1]), (temple[1], eyes[0][1])], fill=bridge, width=frame)
