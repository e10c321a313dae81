"""Procedural, deterministic photos for the demo marketplace.

A Swift is drawn as a low, rounded hatchback and a WagonR as a tall, boxy one;
other Maruti models have their own silhouettes. Everything else (colour,
viewpoint, scale, crop, background, light, blur, noise, JPEG quality,
watermark, occluders) is drawn from the same distributions for every model, so
only the shape tells the classes apart. ``difficulty`` widens the shape ranges
towards each other and adds clutter, blur, noise and odd viewpoints.

All randomness comes from ``random.Random`` / ``numpy.random.default_rng``
seeded from the spec, so the same spec gives the same bytes in every process.
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

from marketplace.specs import PhotoSpec

IMAGE_SIZES: dict[str, tuple[int, int]] = {"main": (400, 300), "hyderabad": (480, 320)}
_SS = 2  # supersampling factor for anti-aliased shapes



@dataclass(frozen=True)
class BodyColour:
    name: str
    rgb: tuple[int, int, int]
    group: str  # "white-silver-grey" | "other"
    share: float  # how often a car is painted this colour


_NEUTRAL = "white-silver-grey"
#: Body colours and their shares. White, silver and grey together are about 45% of the cars, as on the
#: Indian market, where they are the commonest colours (white alone is about 40% of new cars).
BODY_COLOURS: tuple[BodyColour, ...] = (
    BodyColour("white", (236, 236, 232), _NEUTRAL, 0.25), BodyColour("silver", (190, 192, 196), _NEUTRAL, 0.11),
    BodyColour("grey", (120, 124, 130), _NEUTRAL, 0.09), BodyColour("red", (178, 30, 36), "other", 0.10),
    BodyColour("blue", (30, 64, 150), "other", 0.09), BodyColour("black", (22, 22, 26), "other", 0.08),
    BodyColour("brown", (110, 70, 40), "other", 0.05), BodyColour("orange", (220, 110, 20), "other", 0.05),
    BodyColour("green", (40, 110, 70), "other", 0.04), BodyColour("maroon", (150, 20, 60), "other", 0.05),
    BodyColour("beige", (200, 170, 120), "other", 0.05), BodyColour("sky-blue", (60, 140, 190), "other", 0.04),
)
_COLOURS = [c.rgb for c in BODY_COLOURS]
_COLOUR_WEIGHTS = [c.share for c in BODY_COLOURS]
Point = tuple[float, float]


def _paint(rng: random.Random) -> tuple[int, int, int]:
    """A body colour drawn with the market's shares."""
    return rng.choices(_COLOURS, _COLOUR_WEIGHTS)[0]


def body_colour(spec: PhotoSpec) -> BodyColour | None:
    """The body colour of the spec's car (``None`` for junk: no car body in view).

    Drawn from its own stream of the scene seed, so the answer key knows it without rendering.
    """
    return None if spec.junk else _scene_colour(spec.scene_seed)


def _scene_colour(scene_seed: int) -> BodyColour:
    rng = random.Random(int.from_bytes(hashlib.sha256(f"colour:{scene_seed}".encode()).digest()[:8], "big"))
    return rng.choices(BODY_COLOURS, _COLOUR_WEIGHTS)[0]


@dataclass(frozen=True)
class Shape:
    """A side silhouette in units of car length: x from rear (0) to front (1), y up from the ground."""

    height: float  # roof height
    bonnet: float  # bonnet height
    roof_front: float  # x where the roof meets the windscreen
    roof_rear: float  # x where the roof ends at the back
    rear_top: float  # x of the top of the tailgate (0 = vertical rear)
    boot: float  # 0: hatchback; > 0: length of a sedan boot deck
    rounding: int  # corner-cutting passes: more = rounder
    wheel_r: float


def _shape(model: str, rng: random.Random, difficulty: float) -> Shape:
    d = difficulty
    if model == "swift" or model == "baleno":
        # Low and rounded; at higher difficulty the ranges reach towards the WagonR's.
        height = rng.uniform(0.38, 0.45 + 0.14 * d)
        rear_top = rng.uniform(0.10 - 0.05 * d, 0.16)
        roof_rear = rng.uniform(0.26 - 0.10 * d, 0.32)
        rounding = 3 if rng.random() > 0.35 * d else 2
        if model == "baleno":
            height -= 0.03
    elif model == "wagonr":
        height = rng.uniform(0.55 - 0.14 * d, 0.64)
        rear_top = rng.uniform(0.01, 0.04 + 0.06 * d)
        roof_rear = rng.uniform(0.06, 0.12 + 0.12 * d)
        rounding = 1 if rng.random() > 0.35 * d else 2
    elif model == "celerio":
        height = rng.uniform(0.47, 0.53)
        rear_top, roof_rear, rounding = rng.uniform(0.05, 0.09), rng.uniform(0.14, 0.2), 2
    elif model == "alto":
        height = rng.uniform(0.42, 0.48)
        rear_top, roof_rear, rounding = rng.uniform(0.06, 0.1), rng.uniform(0.18, 0.24), 2
    else:  # dzire: a three-box sedan
        height = rng.uniform(0.36, 0.42)
        rear_top, roof_rear, rounding = rng.uniform(0.18, 0.22), rng.uniform(0.3, 0.36), 3
    boot = rng.uniform(0.16, 0.22) if model == "dzire" else 0.0
    return Shape(height=height, bonnet=rng.uniform(0.26, 0.31), roof_front=rng.uniform(0.58, 0.66),
                 roof_rear=roof_rear, rear_top=rear_top, boot=boot, rounding=rounding,
                 wheel_r=rng.uniform(0.075, 0.09))


def _chaikin(points: list[Point], passes: int) -> list[Point]:
    for _ in range(passes):
        out: list[Point] = []
        n = len(points)
        for i in range(n):
            (x0, y0), (x1, y1) = points[i], points[(i + 1) % n]
            out += [(0.75 * x0 + 0.25 * x1, 0.75 * y0 + 0.25 * y1), (0.25 * x0 + 0.75 * x1, 0.25 * y0 + 0.75 * y1)]
        points = out
    return points


def _body(s: Shape) -> list[Point]:
    clear = 0.07
    rear_low = 0.16
    pts = [(0.0, clear), (1.0, clear), (1.0, clear + 0.12), (0.97, s.bonnet), (0.78, s.bonnet + 0.02),
           (s.roof_front, s.height), (s.roof_rear, s.height)]
    if s.boot:
        pts += [(s.boot + 0.02, s.bonnet + 0.03), (0.0, s.bonnet)]
    else:
        pts += [(s.rear_top, s.height * 0.9), (0.0, rear_low + 0.18)]
    return _chaikin(pts, s.rounding)


def _windows(s: Shape) -> list[Point]:
    belt = s.bonnet + 0.045
    top = s.height - 0.04
    rear_x = (s.boot + 0.05) if s.boot else s.rear_top + 0.05
    return [(rear_x, belt), (s.roof_rear + 0.03, top), (s.roof_front - 0.015, top), (0.76, belt)]


@dataclass(frozen=True)
class View:
    """How the camera sees a car: a side view, a three-quarter view or a front-ish one.

    The car is an extruded side silhouette: the near side at depth 0, the far
    side at depth 1, shifted by ``depth`` car lengths along the image x axis
    and ``lift`` up (the camera is a little above the car).
    """

    squash: float  # foreshortening of the side (cosine of the yaw)
    depth: float  # projected car width, in car lengths
    lift: float  # how far up the far side appears, in car lengths
    persp: float  # how much taller the near end is than the far end
    front: bool  # the front (True) or the rear (False) end faces the camera
    flip: bool  # the car faces left instead of right

    @property
    def span(self) -> float:
        return self.squash + self.depth


def _view(rng: random.Random, difficulty: float) -> View:
    d = difficulty
    r = rng.random()
    front, flip = rng.random() < 0.6, rng.random() < 0.5
    if r < 0.5 - 0.25 * d:  # a plain side view
        return View(1.0, 0.0, 0.0, 0.0, front, flip)
    # Three-quarter front or rear, or else nearly head-on.
    yaw = math.radians(rng.uniform(14, 36 + 14 * d) if r < 0.92 - 0.2 * d else rng.uniform(52, 72))
    return View(math.cos(yaw), 0.44 * math.sin(yaw), rng.uniform(0.015, 0.06) * (0.5 + math.sin(yaw)),
                rng.uniform(0.0, 0.3) * math.sin(yaw), front, flip)


def _clip_band(points: list[Point], lo: float, hi: float) -> list[Point]:
    """The part of a polygon between heights ``lo`` and ``hi`` (Sutherland-Hodgman on two edges)."""
    for keep_above, level in ((True, lo), (False, hi)):
        out: list[Point] = []
        n = len(points)
        for i in range(n):
            p, q = points[i], points[(i + 1) % n]
            p_in = (p[1] >= level) if keep_above else (p[1] <= level)
            q_in = (q[1] >= level) if keep_above else (q[1] <= level)
            if p_in:
                out.append(p)
            if p_in != q_in:
                t = (level - p[1]) / (q[1] - p[1])
                out.append((p[0] + t * (q[0] - p[0]), level))
        points = out
        if not points:
            break
    return points


def _shade(colour: tuple[int, ...], factor: float) -> tuple[int, int, int]:
    r, g, b = (max(0, min(255, int(c * factor))) for c in colour[:3])
    return (r, g, b)


class _Projector:
    """Maps car coordinates (x rear to front, y up, z near to far side) to canvas pixels."""

    def __init__(self, view: View, x0: float, ground: float, length: float) -> None:
        self.v, self.x0, self.ground = view, x0, ground
        self.scale = length / view.span

    def __call__(self, x: float, y: float, z: float = 0.0) -> Point:
        v = self.v
        near = x if v.front else 1 - x  # 1 at the end nearest the camera
        u = near * v.squash + z * v.depth
        grow = 1 + v.persp * (near - 0.5) - 0.12 * v.depth * z
        px = v.span - u if v.flip else u
        return (self.x0 + px * self.scale, self.ground - (y * grow + z * v.lift) * self.scale)

    def poly(self, points: list[Point], z: float = 0.0) -> list[Point]:
        return [self(x, y, z) for x, y in points]


def _draw_car(draw: ImageDraw.ImageDraw, model: str, rng: random.Random, difficulty: float, view: View,
              x0: float, ground: float, length: float, colour: tuple[int, int, int]) -> None:
    s = _shape(model, random.Random(rng.getrandbits(64)), difficulty)  # one draw whatever the model
    pj = _Projector(view, x0, ground, length)
    body = _body(s)
    glass = (rng.randint(20, 50), rng.randint(30, 60), rng.randint(45, 80))
    lw = max(1, int(pj.scale * 0.008))
    # A contact shadow under the footprint, then what can be seen of the far side.
    shadow = (rng.randint(25, 45),) * 3
    draw.polygon([pj(-0.02, 0.0, 0.0), pj(1.02, 0.0, 0.0), pj(1.02, 0.0, 1.0), pj(-0.02, 0.0, 1.0)], fill=shadow)
    (ax, ay), (bx, by) = pj(-0.03, 0.0), pj(1.03, 0.0)
    sh = pj.scale * 0.02
    draw.ellipse((min(ax, bx), min(ay, by) - sh, max(ax, bx), max(ay, by) + sh), fill=shadow)
    wheels = (0.2, 0.8)
    if view.depth > 0.01:
        for wx in wheels:
            _wheel(draw, pj, wx, s.wheel_r, 1.0, colour, dark=True)
        draw.polygon(pj.poly(body, 1.0), fill=_shade(colour, 0.7))
        _draw_ends(draw, pj, body, s, colour, glass)
    # The near side, banded from a darker sill to a lighter shoulder.
    draw.polygon(pj.poly(body), fill=colour)
    belt = s.bonnet - 0.02
    bands = 7
    for k in range(bands):
        lo = 0.0 if k == 0 else 0.07 + (belt - 0.07) * k / bands
        hi = 0.07 + (belt - 0.07) * (k + 1) / bands
        part = _clip_band(body, lo, hi)
        if len(part) >= 3:
            draw.polygon(pj.poly(part), fill=_shade(colour, 0.74 + 0.045 * k))
    draw.line(pj.poly([(0.03, belt + 0.005), (0.95, belt - 0.01)]), fill=_shade(colour, 1.3), width=lw)
    draw.polygon(pj.poly(_windows(s)), fill=glass)
    pillar_x = (s.roof_front + s.roof_rear) / 2 + 0.03
    draw.line(pj.poly([(pillar_x, s.bonnet + 0.04), (pillar_x - 0.01, s.height - 0.035)]), fill=colour,
              width=max(2, int(pj.scale * 0.02 * view.squash)))
    draw.line(pj.poly([(pillar_x + 0.04, s.bonnet - 0.035), (pillar_x + 0.08, s.bonnet - 0.035)]),
              fill=_shade(colour, 0.5), width=lw)  # a door handle
    # Side views of the lamps.
    draw.polygon(pj.poly([(0.93, s.bonnet - 0.06), (0.995, s.bonnet - 0.05), (0.99, s.bonnet - 0.01),
                          (0.92, s.bonnet - 0.015)]), fill=(240, 235, 200))
    rear_lamp_y = s.bonnet - 0.04 if s.boot else s.height * 0.6
    draw.polygon(pj.poly([(0.0, rear_lamp_y - 0.06), (0.035, rear_lamp_y - 0.06), (0.035, rear_lamp_y + 0.04),
                          (0.01, rear_lamp_y + 0.04)]), fill=(190, 20, 25))
    for wx in wheels:
        _wheel(draw, pj, wx, s.wheel_r, 0.0, colour, dark=False)


def _wheel(draw: ImageDraw.ImageDraw, pj: _Projector, wx: float, r_units: float, z: float,
           colour: tuple[int, int, int], dark: bool) -> None:
    cx, cy = pj(wx, r_units, z)
    ry = r_units * pj.scale
    rx = ry * max(pj.v.squash, 0.35)
    if not dark:  # the wheel arch
        draw.ellipse((cx - rx * 1.18, cy - ry * 1.18, cx + rx * 1.18, cy + ry * 1.18), fill=_shade(colour, 0.35))
    draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=(14, 14, 14) if dark else (25, 25, 25))
    if not dark:
        draw.ellipse((cx - rx * 0.55, cy - ry * 0.55, cx + rx * 0.55, cy + ry * 0.55), fill=(165, 168, 172))
        draw.ellipse((cx - rx * 0.15, cy - ry * 0.15, cx + rx * 0.15, cy + ry * 0.15), fill=(70, 70, 72))


def _draw_ends(draw: ImageDraw.ImageDraw, pj: _Projector, body: list[Point], s: Shape,
               colour: tuple[int, int, int], glass: tuple[int, int, int]) -> None:
    """The faces between the near and the far side that the camera sees: roof, bonnet, front or rear."""
    v = pj.v
    toward = (1.0 if v.front else -1.0) * v.depth
    n = len(body)
    for i in range(n):
        (x0, y0), (x1, y1) = body[i], body[(i + 1) % n]
        dx, dy = x1 - x0, y1 - y0
        norm = math.hypot(dx, dy) or 1.0
        nx, ny = dy / norm, -dx / norm  # outward normal of a counter-clockwise polygon
        if nx * toward + ny * v.lift <= 0:
            continue
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        is_glass = (my > s.bonnet + 0.035 and my < s.height - 0.015
                    and ((v.front and nx > 0.3 and mx > s.roof_front - 0.02)
                         or (not v.front and nx < -0.3 and mx < s.roof_rear + 0.02 and not s.boot)
                         or (not v.front and s.boot and nx < -0.3 and mx > s.boot)))
        fill = glass if is_glass else _shade(colour, 0.78 + 0.3 * max(0.0, ny))
        draw.polygon([pj(x0, y0, 0.04), pj(x1, y1, 0.04), pj(x1, y1, 0.96), pj(x0, y0, 0.96)], fill=fill)
    # Lamps, grille and number plate on the end that faces the camera.
    end_x = 1.0 if v.front else 0.0
    lamp_y = s.bonnet - 0.035 if v.front or s.boot else s.height * 0.6 - 0.01
    lamp = (245, 240, 215) if v.front else (185, 20, 28)
    for z0, z1 in ((0.06, 0.3), (0.7, 0.94)):
        draw.polygon([pj(end_x, lamp_y - 0.03, z0), pj(end_x, lamp_y - 0.03, z1), pj(end_x, lamp_y + 0.025, z1),
                      pj(end_x, lamp_y + 0.02, z0)], fill=lamp)
    if v.front:
        draw.polygon([pj(end_x, 0.11, 0.33), pj(end_x, 0.11, 0.67), pj(end_x, s.bonnet - 0.05, 0.64),
                      pj(end_x, s.bonnet - 0.05, 0.36)], fill=(30, 30, 34))
    plate_y = 0.1 if v.front else 0.16
    draw.polygon([pj(end_x, plate_y, 0.4), pj(end_x, plate_y, 0.6), pj(end_x, plate_y + 0.04, 0.6),
                  pj(end_x, plate_y + 0.04, 0.4)], fill=(235, 235, 225))


def _background(draw: ImageDraw.ImageDraw, w: int, h: int, rng: random.Random, style: str) -> float:
    """Paint a scene; returns the y of the ground line (as a fraction of height)."""
    horizon = rng.uniform(0.45, 0.7)
    hy = int(h * horizon)
    if style == "hyderabad":
        kind = rng.choice(["dusty", "wall", "market"])
        sky = (rng.randint(200, 235), rng.randint(190, 215), rng.randint(150, 185))
        ground = (rng.randint(170, 200), rng.randint(140, 165), rng.randint(100, 125))
    else:
        kind = rng.choice(["road", "parking", "showroom", "street", "grass"])
        sky = (rng.randint(140, 200), rng.randint(170, 215), rng.randint(210, 245))
        ground = (rng.randint(80, 130),) * 3
    if kind in ("showroom", "wall"):
        wall = (rng.randint(150, 240), rng.randint(140, 230), rng.randint(120, 220))
        if kind == "wall":
            wall = (rng.randint(200, 235), rng.randint(170, 200), rng.randint(80, 120))
        draw.rectangle((0, 0, w, hy), fill=wall)
        floor = (rng.randint(150, 210),) * 3 if kind == "showroom" else ground
        draw.rectangle((0, hy, w, h), fill=floor)
        for _ in range(rng.randint(0, 3)):
            x = rng.randint(0, w)
            draw.rectangle((x, int(hy * 0.2), x + rng.randint(w // 12, w // 5), int(hy * 0.7)),
                           fill=_shade(wall, rng.uniform(0.7, 1.2)))
        return horizon
    for i in range(8):  # sky gradient in bands
        draw.rectangle((0, hy * i // 8, w, hy * (i + 1) // 8), fill=_shade(sky, 1.0 - 0.03 * i))
    if kind in ("street", "market"):
        x = 0
        while x < w:
            bw = rng.randint(w // 10, w // 4)
            bh = rng.randint(hy // 4, hy)
            shade = (rng.randint(120, 220), rng.randint(110, 200), rng.randint(100, 190))
            draw.rectangle((x, hy - bh, x + bw, hy), fill=shade)
            for wy in range(hy - bh + 8 * _SS, hy - 6 * _SS, 14 * _SS):
                for wx in range(x + 4 * _SS, x + bw - 8 * _SS, 12 * _SS):
                    draw.rectangle((wx, wy, wx + 5 * _SS, wy + 6 * _SS), fill=_shade(shade, 0.6))
            x += bw
    elif kind == "grass" or kind == "dusty":
        for _ in range(rng.randint(2, 6)):
            cx, r = rng.randint(0, w), rng.randint(h // 12, h // 5)
            tree = (rng.randint(30, 80), rng.randint(90, 140), rng.randint(30, 70))
            draw.ellipse((cx - r, hy - 2 * r, cx + r, hy), fill=tree)
    draw.rectangle((0, hy, w, h), fill=ground if kind != "grass" else (70, rng.randint(120, 160), 60))
    if kind in ("road", "parking"):
        for i in range(0, w, w // 6):
            y = int(hy + (h - hy) * rng.uniform(0.6, 0.9))
            draw.rectangle((i, y, i + w // 12, y + 3 * _SS), fill=(230, 230, 220))
    return horizon


def _occluders(draw: ImageDraw.ImageDraw, w: int, h: int, rng: random.Random, difficulty: float) -> None:
    for _ in range(rng.randint(0, 1 + int(3 * difficulty))):
        kind = rng.random()
        x = rng.randint(0, w)
        if kind < 0.4:  # a pole
            pw = rng.randint(w // 80, w // 40)
            draw.rectangle((x, 0, x + pw, h), fill=(rng.randint(60, 140),) * 3)
        elif kind < 0.75:  # a person
            top = rng.randint(h // 3, h // 2)
            pw = rng.randint(w // 30, w // 16)
            clothes = (rng.randint(20, 200), rng.randint(20, 200), rng.randint(20, 200))
            draw.ellipse((x - pw, top, x + pw, top + pw * 6), fill=clothes)
            draw.ellipse((x - pw * 0.6, top - pw * 1.3, x + pw * 0.6, top), fill=(150, 110, 80))
        else:  # a bush or kerb object in the foreground
            r = rng.randint(h // 14, h // 7)
            draw.ellipse((x - r, h - r, x + r, h + r), fill=(40, rng.randint(80, 120), 40))


def _junk(canvas: Image.Image, kind: str, rng: random.Random) -> None:
    """Paint a photo that is not a car's exterior: interior, wheel, lamp, document or scenery."""
    draw = ImageDraw.Draw(canvas)
    w, h = canvas.size
    if kind == "interior":
        draw.rectangle((0, 0, w, h), fill=(rng.randint(30, 60),) * 3)
        draw.polygon([(w * 0.1, 0), (w * 0.9, 0), (w * 0.8, h * 0.35), (w * 0.2, h * 0.35)],
                     fill=(rng.randint(150, 220), rng.randint(170, 220), rng.randint(190, 240)))
        dash = (rng.randint(40, 90), rng.randint(35, 80), rng.randint(30, 70))
        draw.rectangle((0, h * 0.38, w, h * 0.7), fill=dash)
        cx, cy, r = w * rng.uniform(0.25, 0.4), h * 0.62, h * rng.uniform(0.22, 0.3)
        for k in (-1, 1):  # the instrument cluster behind the wheel
            dx, dr = cx + k * r * 0.45, r * 0.32
            draw.ellipse((dx - dr, h * 0.47 - dr, dx + dr, h * 0.47 + dr), fill=(12, 12, 16), outline=(190, 190, 200))
        draw.rectangle((w * 0.6, h * 0.42, w * 0.78, h * 0.56), fill=(20, 25, 35))  # the infotainment screen
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=(15, 15, 15), width=int(r * 0.18))
        draw.rectangle((cx - r * 0.1, cy - r * 0.1, cx + r * 0.1, cy + r), fill=(15, 15, 15))
        for sx in (0.55, 0.8):
            draw.rounded_rectangle((w * sx - w * 0.09, h * 0.72, w * sx + w * 0.09, h * 1.05), radius=int(w * 0.03),
                                   fill=_shade(dash, 0.7))
    elif kind == "wheel":
        draw.rectangle((0, 0, w, h), fill=(rng.randint(60, 110),) * 3)
        cx, cy, r = w * rng.uniform(0.4, 0.6), h * rng.uniform(0.45, 0.55), h * rng.uniform(0.42, 0.55)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(22, 22, 22))
        draw.ellipse((cx - r * 0.62, cy - r * 0.62, cx + r * 0.62, cy + r * 0.62), fill=(175, 178, 182))
        spokes = rng.randint(4, 8)
        for k in range(spokes):
            a = 2 * math.pi * k / spokes
            draw.line((cx, cy, cx + math.cos(a) * r * 0.6, cy + math.sin(a) * r * 0.6), fill=(90, 92, 96),
                      width=int(r * 0.12))
        draw.ellipse((cx - r * 0.14, cy - r * 0.14, cx + r * 0.14, cy + r * 0.14), fill=(60, 60, 62))
    elif kind == "lamp":
        colour = _paint(rng)
        for i in range(10):  # the painted panel around the lamp, lit from above
            draw.rectangle((0, h * i / 10, w, h * (i + 1) / 10), fill=_shade(colour, 1.15 - 0.05 * i))
        tilt = rng.uniform(-0.12, 0.12) * h
        housing = _chaikin([(w * 0.04, h * 0.3 + tilt), (w * 0.7, h * 0.12 - tilt), (w * 0.97, h * 0.28 - tilt),
                            (w * 0.9, h * 0.72 - tilt), (w * 0.3, h * 0.88 + tilt), (w * 0.06, h * 0.7 + tilt)], 3)
        draw.polygon(housing, fill=(rng.randint(40, 70),) * 3, outline=(15, 15, 15), width=max(2, w // 150))
        inner = [(w * 0.5 + (x - w * 0.5) * 0.9, h * 0.5 + (y - h * 0.5) * 0.86) for x, y in housing]
        draw.polygon(inner, fill=(rng.randint(70, 100),) * 3)
        for k in range(rng.randint(1, 2) + 1):  # chrome reflectors, brightest in the middle
            cx, cy = w * (0.3 + 0.27 * k), h * 0.5 + tilt * (0.5 - k * 0.4)
            r = h * rng.uniform(0.13, 0.19)
            for j in range(6):
                rr = r * (1 - j * 0.15)
                g = 120 + 25 * j
                draw.ellipse((cx - rr, cy - rr, cx + rr, cy + rr), fill=(g, g, min(255, g + 8)))
            draw.ellipse((cx - r * 0.18, cy - r * 0.18, cx + r * 0.18, cy + r * 0.18), fill=(255, 252, 235))
        draw.line([(w * 0.12, h * 0.72 + tilt * 0.8), (w * 0.5, h * 0.75), (w * 0.85, h * 0.62 - tilt * 0.8)],
                  fill=(250, 250, 255), width=max(3, h // 40))  # the daytime running light
        draw.line([(0, h * 0.93), (w, h * 0.9 + tilt)], fill=_shade(colour, 0.4), width=max(2, h // 120))
    elif kind == "document":
        draw.rectangle((0, 0, w, h), fill=(rng.randint(100, 140), rng.randint(70, 95), rng.randint(40, 60)))
        page = Image.new("RGB", (int(w * 0.62), int(h * 0.85)), (rng.randint(235, 252),) * 3)
        pd = ImageDraw.Draw(page)
        pw, ph = page.size
        for i in range(int(ph * 0.08), int(ph * 0.92), max(4, ph // 22)):
            pd.rectangle((pw * 0.08, i, pw * rng.uniform(0.5, 0.92), i + max(2, ph // 70)), fill=(110, 110, 115))
        angle = rng.uniform(-12, 12)
        rotated = page.rotate(angle, expand=True)
        mask = Image.new("L", page.size, 255).rotate(angle, expand=True)
        canvas.paste(rotated, ((w - rotated.width) // 2, (h - rotated.height) // 2), mask)
    else:  # scenery
        hy = h * rng.uniform(0.4, 0.65)
        for i in range(8):
            draw.rectangle((0, hy * i / 8, w, hy * (i + 1) / 8), fill=(120 + 10 * i, 170 + 6 * i, 235))
        for _ in range(rng.randint(2, 4)):
            x = rng.uniform(-0.2, 1.0) * w
            draw.polygon([(x, hy), (x + w * rng.uniform(0.2, 0.5), hy - h * rng.uniform(0.1, 0.35)),
                          (x + w * rng.uniform(0.5, 0.9), hy)],
                         fill=(rng.randint(60, 110), rng.randint(100, 140), rng.randint(60, 110)))
        draw.rectangle((0, hy, w, h), fill=(rng.randint(60, 100), rng.randint(110, 160), rng.randint(50, 80)))
        for _ in range(rng.randint(3, 9)):
            cx, r = rng.uniform(0, w), h * rng.uniform(0.05, 0.14)
            cy = hy + rng.uniform(0, h - hy)
            draw.ellipse((cx - r, cy - 2 * r, cx + r, cy), fill=(rng.randint(20, 60), rng.randint(80, 120), 30))


@functools.lru_cache(maxsize=32)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ImportError):  # Pillow without FreeType: one fixed size
        return ImageFont.load_default()


def _watermark(img: Image.Image, text: str, rng: random.Random, centred: bool) -> Image.Image:
    """Stamp ``text`` on a copy of ``img``: a big translucent one in the middle, or a small one in a corner."""
    w, h = img.size
    size = max(8, int(h * (0.13 if centred else 0.055)))
    font = _font(size)
    left, top, right, bottom = font.getbbox(text)
    tw, th = int(right - left) + 2, int(bottom - top) + 2
    mask = Image.new("L", (tw, th), 0)
    ImageDraw.Draw(mask).text((-left + 1, -top + 1), text, font=font, fill=100 if centred else 190)
    if centred:
        x, y = (w - tw) // 2, (h - th) // 2
    else:
        corner = rng.randrange(4)
        x = 6 if corner % 2 == 0 else w - tw - 6
        y = 6 if corner < 2 else h - th - 6
    out = img.copy()
    out.paste((255, 255, 255), (x, y, x + tw, y + th), mask)
    if not centred:  # a faint drop shadow keeps it legible on white cars
        shadow = mask.point(lambda a: a // 3)
        out.paste((0, 0, 0), (x + 1, y + 1, x + 1 + tw, y + 1 + th), shadow)
        out.paste((255, 255, 255), (x, y, x + tw, y + th), mask)
    return out


@functools.lru_cache(maxsize=1)
def _noise_bank() -> np.ndarray:
    """Fixed sensor-noise texture (int16, 16 x N(0, 1)); each photo uses a window of it."""
    rng = np.random.default_rng(20240611)
    bank = rng.standard_normal((_BANK[1], _BANK[0], 3), dtype=np.float32) * 16
    return np.clip(bank, -64, 64).astype(np.int16)


_BANK = (640, 448)  # width, height of the noise texture


def _light(img: Image.Image, rng: random.Random, difficulty: float, style: str) -> Image.Image:
    """Exposure, contrast and colour cast as one lookup table, then sensor noise and saturation."""
    d = difficulty
    gain = rng.uniform(0.75 - 0.15 * d, 1.2 + 0.1 * d)
    contrast = rng.uniform(0.8 - 0.1 * d, 1.2)
    cast = [rng.uniform(0.92, 1.08) for _ in range(3)]
    if style == "hyderabad":
        cast = [cast[0] * 1.1, cast[1] * 1.0, cast[2] * 0.84]
    levels = np.arange(256, dtype=np.float32)
    lut = np.concatenate([((levels * gain - 128) * contrast + 128) * c for c in cast])
    img = img.point(np.clip(lut, 0, 255).astype(np.uint8).tolist())
    w, h = img.size
    sigma = rng.uniform(1.0, 4.0 + 10.0 * d)
    ox, oy = rng.randrange(_BANK[0] - w + 1), rng.randrange(_BANK[1] - h + 1)
    noise = _noise_bank()[oy:oy + h, ox:ox + w]
    arr = np.asarray(img, dtype=np.int16) + (noise * int(sigma * 16)) // 256
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if style == "hyderabad":
        img = ImageEnhance.Color(img).enhance(1.3)
    return img


def _reframe(canvas: Image.Image, rng: random.Random) -> Image.Image:
    """Frame a junk shot the way a phone would: mirrored or not, tilted, zoomed, off-centre, with
    stray objects in view, so two junk photos of one kind are different pictures, not near copies."""
    w, h = canvas.size
    if rng.random() < 0.5:
        canvas = canvas.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    fill = tuple(rng.randint(20, 235) for _ in range(3))
    canvas = canvas.rotate(rng.uniform(-25, 25), resample=Image.Resampling.BILINEAR, fillcolor=fill)
    zoom = rng.uniform(1.0, 1.8)
    cw, ch = int(w / zoom), int(h / zoom)
    x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    canvas = canvas.crop((x, y, x + cw, y + ch)).resize((w, h), Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(canvas)
    for _ in range(rng.randint(1, 4)):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        rw, rh = rng.uniform(0.05, 0.3) * w, rng.uniform(0.05, 0.3) * h
        colour = tuple(rng.randint(0, 255) for _ in range(3))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((cx - rw / 2, cy - rh / 2, cx + rw / 2, cy + rh / 2), fill=colour)
    return canvas


def _scene(spec: PhotoSpec) -> tuple[Image.Image, int]:
    """The original photo of the spec's scene, and its JPEG quality."""
    rng = random.Random(spec.scene_seed)
    d = spec.difficulty
    w, h = IMAGE_SIZES[spec.style]
    big_w, big_h = w * _SS, h * _SS
    canvas = Image.new("RGB", (big_w, big_h))
    draw = ImageDraw.Draw(canvas)
    if spec.junk:
        _junk(canvas, spec.junk, rng)
        canvas = _reframe(canvas, rng)
        draw = ImageDraw.Draw(canvas)
    else:
        horizon = _background(draw, big_w, big_h, rng, spec.style)
        # Scale and placement: the car fills 40-95% of the width, sometimes cut by the frame.
        length = big_w * rng.uniform(0.45 - 0.05 * d, 0.95)
        ground = big_h * rng.uniform(max(horizon + 0.12, 0.68), 0.97)
        slack = big_w - length
        x0 = rng.uniform(-0.15 * d * length, slack + 0.15 * d * length)
        if rng.random() < 0.3 + 0.4 * d:  # another car, partly in frame, behind ours
            other = rng.choice(["swift", "wagonr", "alto", "celerio", "dzire"])
            ol = length * rng.uniform(0.7, 1.0)
            ox = rng.choice([-ol * 0.7, big_w - ol * 0.3])
            orng = random.Random(rng.random())
            _draw_car(draw, other, orng, d, _view(orng, d), ox, ground - big_h * 0.04, ol * 0.85,
                      _shade(_paint(rng), 0.8))
        view = _view(rng, d)
        _draw_car(draw, spec.model, rng, d, view, x0, ground, length, _scene_colour(spec.scene_seed).rgb)
        if rng.random() < 0.25 + 0.6 * d:
            _occluders(draw, big_w, big_h, rng, d)
    img = canvas.reduce(_SS)
    img = _light(img, rng, d, spec.style)
    blur = rng.uniform(0.0, 0.6 + 1.6 * d)
    if blur > 0.4:
        img = img.filter(ImageFilter.BoxBlur(blur))
    if spec.style == "hyderabad":
        img = _watermark(img, "HYD AUTOS", rng, centred=True)
    elif rng.random() < 0.4:
        img = _watermark(img, rng.choice(["GaadiBazaar", "Sharma Motors", "AutoHub Delhi", "CarDekho Pro"]), rng,
                         centred=False)
    return img, rng.randint(55, 95)


def _variant_rng(spec: PhotoSpec) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256(spec.photo_id.encode()).digest()[:8], "big"))


def render_image(spec: PhotoSpec) -> Image.Image:
    """The RGB picture of a spec, after its variant's change, before JPEG encoding."""
    return _render(spec)[0]


def _render(spec: PhotoSpec) -> tuple[Image.Image, int]:
    img, quality = _scene(spec)
    rng = _variant_rng(spec)
    w, h = img.size
    if spec.variant == "reencode":
        quality = rng.choice([q for q in range(50, 96, 5) if abs(q - quality) >= 10])
    elif spec.variant == "resize":
        f = rng.uniform(0.6, 0.85)
        img = img.resize((int(w * f), int(h * f)), Image.Resampling.BILINEAR)
    elif spec.variant == "crop":
        fx, fy = rng.uniform(0.03, 0.06), rng.uniform(0.03, 0.06)  # pHash stays within ~10 bits
        img = img.crop((int(w * fx / 2), int(h * fy / 2), w - int(w * fx / 2), h - int(h * fy / 2)))
    elif spec.variant == "watermark":
        img = _watermark(img, rng.choice(["For sale", "Call now", "OLX", "9876543210"]), rng, centred=False)
    elif spec.variant in _EDITS:
        img = _EDITS[spec.variant](img, rng)
    return img, quality


def _signed(rng: random.Random, lo: float, hi: float) -> float:
    """A change of ``lo``..``hi`` up or down, e.g. 1.15..1.3 or 0.7..0.85 for 0.15..0.3."""
    return 1 + rng.choice((-1, 1)) * rng.uniform(lo, hi)


def _brightness(img: Image.Image, rng: random.Random) -> Image.Image:
    """Brightened or darkened and more or less contrasty, 15-30% each (a seller's "auto enhance")."""
    img = ImageEnhance.Brightness(img).enhance(_signed(rng, 0.15, 0.30))
    return ImageEnhance.Contrast(img).enhance(_signed(rng, 0.15, 0.30))


def _saturation(img: Image.Image, rng: random.Random) -> Image.Image:
    """Colours washed out (x0.4-0.7) or boosted (x1.3-1.8)."""
    return ImageEnhance.Color(img).enhance(rng.uniform(0.4, 0.7) if rng.random() < 0.5 else rng.uniform(1.3, 1.8))


def _hue(img: Image.Image, rng: random.Random) -> Image.Image:
    """Every hue turned by 10-40 degrees one way or the other (a colour filter)."""
    hsv = np.asarray(img.convert("HSV")).copy()
    turn = round(rng.choice((-1, 1)) * rng.uniform(10, 40) / 360 * 256)
    hsv[..., 0] = (hsv[..., 0].astype(np.int16) + turn) % 256
    return Image.fromarray(hsv, "HSV").convert("RGB")


def _grayscale(img: Image.Image, rng: random.Random) -> Image.Image:
    """A black-and-white filter, saved as an RGB JPEG like a phone app does."""
    return img.convert("L").convert("RGB")


def heavy_crop_box(size: tuple[int, int], rng: random.Random) -> tuple[int, int, int, int]:
    """A crop that cuts 10-20% off each side, every side its own amount (so mostly off-centre)."""
    w, h = size
    left, right = (int(w * rng.uniform(0.10, 0.20)) for _ in range(2))
    top, bottom = (int(h * rng.uniform(0.10, 0.20)) for _ in range(2))
    return left, top, w - right, h - bottom


def _heavy_crop(img: Image.Image, rng: random.Random) -> Image.Image:
    return img.crop(heavy_crop_box(img.size, rng))


_FRAMES = ((250, 250, 250), (18, 18, 20), (200, 20, 30), (20, 60, 160), (245, 190, 20))
_DEALERS = ("Sharma Motors", "AutoHub Delhi", "Reddy Cars", "Star Wheels")


def _frame(img: Image.Image, rng: random.Random) -> Image.Image:
    """A dealer's frame: a coloured border 5-10% of each side wide, a thin inner line and, on some,
    the dealer's name in the bottom border. Half the frames grow the picture, half shrink the photo
    into the original size."""
    w, h = img.size
    f = rng.uniform(0.05, 0.10)
    bx, by = max(2, int(w * f)), max(2, int(h * f))
    colour = rng.choice(_FRAMES)
    line = (255 - colour[0], 255 - colour[1], 255 - colour[2])
    if rng.random() < 0.5:
        out = Image.new("RGB", (w + 2 * bx, h + 2 * by), colour)
    else:
        out = Image.new("RGB", (w, h), colour)
        img = img.resize((w - 2 * bx, h - 2 * by), Image.Resampling.BILINEAR)
    out.paste(img, (bx, by))
    draw = ImageDraw.Draw(out)
    inset = max(1, min(bx, by) // 3)
    draw.rectangle((inset, inset, out.width - 1 - inset, out.height - 1 - inset), outline=line, width=1)
    if rng.random() < 0.5 and by >= 12:
        font = _font(max(8, int(by * 0.55)))
        text = rng.choice(_DEALERS)
        left, top, right, bottom = font.getbbox(text)
        x = (out.width - (right - left)) // 2 - left
        y = out.height - by + (by - (bottom - top)) // 2 - top
        draw.text((x, y), text, font=font, fill=line)
    return out


#: Re-upload edits beyond the mild ones above: photometric changes, heavy crops and dealer frames.
_EDITS = {"brightness": _brightness, "saturation": _saturation, "hue": _hue, "grayscale": _grayscale,
          "heavy-crop": _heavy_crop, "frame": _frame}


def render_photo(spec: PhotoSpec) -> bytes:
    """JPEG bytes of a spec; identical for identical specs, in any process."""
    img, quality = _render(spec)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, optimize=False)
    return buf.getvalue()
