#!/usr/bin/env python3
"""Renders a terminal capture with colours (`tmux capture-pane -p -e`, an .ansi file) to a PNG,
cell by cell in DejaVu Sans Mono, so README can show real screenshots of the dashboard.

Usage: scripts/ansi2png.py IN.ansi OUT.png   (needs Pillow: pip install pillow)
"""
import re
import sys

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"
SIZE = 16
BG = (24, 24, 28)
FG = (208, 208, 208)
# xterm's 16 colours.
BASE16 = [
    (0, 0, 0), (205, 49, 49), (13, 188, 121), (229, 229, 16), (36, 114, 200), (188, 63, 188),
    (17, 168, 205), (204, 204, 204), (118, 118, 118), (241, 76, 76), (35, 209, 139),
    (245, 245, 67), (59, 142, 234), (214, 112, 214), (41, 184, 219), (242, 242, 242),
]


def colour256(n):
    if n < 16:
        return BASE16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    g = 8 + 10 * (n - 232)
    return (g, g, g)


def parse(text):
    """Yields rows of (char, fg, bg, bold) cells."""
    fg, bg, bold = FG, None, False
    for line in text.split("\n"):
        row = []
        i = 0
        while i < len(line):
            m = re.match(r"\x1b\[([0-9;]*)m", line[i:])
            if m:
                codes = [int(c) if c else 0 for c in m.group(1).split(";")]
                j = 0
                while j < len(codes):
                    c = codes[j]
                    if c == 0:
                        fg, bg, bold = FG, None, False
                    elif c == 1:
                        bold = True
                    elif c == 22:
                        bold = False
                    elif 30 <= c <= 37:
                        fg = BASE16[c - 30]
                    elif 90 <= c <= 97:
                        fg = BASE16[c - 90 + 8]
                    elif c == 39:
                        fg = FG
                    elif 40 <= c <= 47:
                        bg = BASE16[c - 40]
                    elif 100 <= c <= 107:
                        bg = BASE16[c - 100 + 8]
                    elif c == 49:
                        bg = None
                    elif c in (38, 48) and j + 2 < len(codes) and codes[j + 1] == 5:
                        col = colour256(codes[j + 2])
                        fg, bg = (col, bg) if c == 38 else (fg, col)
                        j += 2
                    elif c in (38, 48) and j + 4 < len(codes) and codes[j + 1] == 2:
                        col = tuple(codes[j + 2 : j + 5])
                        fg, bg = (col, bg) if c == 38 else (fg, col)
                        j += 4
                    j += 1
                i += m.end()
                continue
            if line[i] == "\x1b":  # other escapes: skip to their final byte
                m = re.match(r"\x1b\[[0-9;?]*[A-Za-z]", line[i:])
                i += m.end() if m else 1
                continue
            row.append((line[i], fg, bg, bold))
            i += 1
        yield row


# Braille dot bits: (bit, column, row) in a 2×4 cell.
DOTS = [(0x01, 0, 0), (0x02, 0, 1), (0x04, 0, 2), (0x08, 1, 0), (0x10, 1, 1), (0x20, 1, 2),
        (0x40, 0, 3), (0x80, 1, 3)]


def braille(d, px, py, w, h, bits, fg):
    """Draws a Braille pattern as dots (chart lines are made of them)."""
    for bit, cx, cy in DOTS:
        if bits & bit:
            x = px + 1 + cx * (w - 2) / 2
            y = py + 1 + cy * (h - 2) / 4
            d.rectangle([x, y, x + (w - 2) / 2 - 1, y + (h - 2) / 4 - 1], fill=fg)


def main():
    src, out = sys.argv[1], sys.argv[2]
    rows = list(parse(open(src, encoding="utf-8").read().rstrip("\n")))
    font, bold = ImageFont.truetype(FONT, SIZE), ImageFont.truetype(BOLD, SIZE)
    w = int(font.getlength("M"))
    h = SIZE + 4
    cols = max(len(r) for r in rows)
    img = Image.new("RGB", (cols * w + 16, len(rows) * h + 16), BG)
    d = ImageDraw.Draw(img)
    for y, row in enumerate(rows):
        for x, (ch, fg, bg, b) in enumerate(row):
            px, py = 8 + x * w, 8 + y * h
            if bg is not None:
                d.rectangle([px, py, px + w - 1, py + h - 1], fill=bg)
            if 0x2800 <= ord(ch) <= 0x28FF:
                braille(d, px, py, w, h, ord(ch) - 0x2800, fg)
            elif ch == "\u23f8":  # pause sign, not in the font
                d.rectangle([px + 2, py + 4, px + 4, py + h - 5], fill=fg)
                d.rectangle([px + w - 5, py + 4, px + w - 3, py + h - 5], fill=fg)
            elif ch != " ":
                d.text((px, py + 1), ch, font=bold if b else font, fill=fg)
    img.save(out)


if __name__ == "__main__":
    main()
